//! `wss://` end to end: the real server in-process with `--tls-cert` and
//! `--tls-key` (a self-signed certificate made here), and the client's
//! network task or the built binary in `--plain` mode, with and without
//! `--ca-file`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{Client, Server, alert, terminate, within};
use noc_shared::ServerMessage;
use noc_tui::app::Link;
use noc_tui::net::NetEvent;
use tempfile::TempDir;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, Command};

/// A self-signed certificate for `names`, written as `cert.pem` and
/// `key.pem` in a fresh directory.
struct Certificate {
    dir: TempDir,
    pem: String,
}

impl Certificate {
    fn new(names: &[&str]) -> Certificate {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let cert = rcgen::generate_simple_self_signed(names).expect("certificate");
        let dir = tempfile::tempdir().expect("tempdir");
        let pem = cert.cert.pem();
        std::fs::write(dir.path().join("cert.pem"), &pem).expect("write cert");
        std::fs::write(dir.path().join("key.pem"), cert.key_pair.serialize_pem())
            .expect("write key");
        Certificate { dir, pem }
    }

    fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// The real server speaking only TLS with `cert`, and an HTTPS client for
/// it that trusts `cert`.
async fn tls_server(cert: &Certificate) -> Server {
    let (cert_path, key_path) = (cert.cert(), cert.key());
    Server::start(&["--tls-cert", path(&cert_path), "--tls-key", path(&key_path)])
        .await
        .trusting(&cert.pem)
}

/// The certificate the tests serve: a host name and an IP address, both
/// of which reach the test server on 127.0.0.1.
fn local_certificate() -> Certificate {
    Certificate::new(&["localhost", "127.0.0.1"])
}

#[tokio::test]
async fn wss_with_ca_file_receives_the_snapshot_and_live_alerts() {
    let cert = local_certificate();
    let server = tls_server(&cert).await;
    server.post(&alert("before", "Kilimanjaro", "high")).await;

    // By host name, so the certificate's DNS name is what is checked.
    let url = format!("wss://localhost:{}", server.addr.port());
    let cert_path = cert.cert();
    let mut client = Client::start(&["--url", &url, "--ca-file", path(&cert_path)]);
    client
        .until("the snapshot over wss://", |_, event| {
            matches!(event, NetEvent::Message(ServerMessage::Snapshot(_)))
        })
        .await;
    assert!(
        matches!(&client.app.link, Link::Connected { url: u, .. }
            if *u == format!("wss://localhost:{}/ws/alerts", server.addr.port())),
        "{:?}",
        client.app.link
    );
    assert_eq!(client.ids(), ["before"]);

    server.post(&alert("live", "Kilimanjaro", "critical")).await;
    client
        .until("the live alert", |app, _| {
            app.visible_alerts().any(|a| a.id == "live")
        })
        .await;
    assert_eq!(client.ids(), ["live", "before"]);

    client.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn without_ca_file_the_untrusted_certificate_is_refused_and_retried() {
    let cert = local_certificate();
    let server = tls_server(&cert).await;
    let url = format!("wss://localhost:{}", server.addr.port());
    let mut client = Client::start(&["--url", &url]);

    let mut failures = Vec::new();
    let mut attempts = Vec::new();
    within("three refused attempts", async {
        while failures.len() < 3 {
            match client.next().await {
                NetEvent::Connecting { attempt, .. } => attempts.push(attempt),
                NetEvent::Disconnected { reason, .. } => failures.push(reason),
                other => panic!("an untrusted server must not get this far: {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(attempts, [1, 2, 3], "it keeps trying");
    for reason in &failures {
        assert!(
            reason.contains("not signed by a trusted CA") && reason.contains("--ca-file"),
            "{reason}"
        );
    }
    // The screen shows the reason while it waits for the next try.
    match &client.app.link {
        Link::Disconnected { reason, .. } => assert_eq!(reason, &failures[2]),
        other => panic!("expected a disconnected link, got {other:?}"),
    }
    assert!(server.screens().await.is_empty(), "no WebSocket was opened");

    client.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn ca_file_does_not_excuse_a_certificate_for_another_name() {
    // Trusted, but made for another name than the one dialled.
    let cert = Certificate::new(&["noc.test"]);
    let (cert_path, key_path) = (cert.cert(), cert.key());
    let server =
        Server::start(&["--tls-cert", path(&cert_path), "--tls-key", path(&key_path)]).await;
    let url = format!("wss://127.0.0.1:{}", server.addr.port());
    let mut client = Client::start(&["--url", &url, "--ca-file", path(&cert_path)]);
    loop {
        match client.next().await {
            NetEvent::Connecting { .. } => {}
            NetEvent::Disconnected { reason, .. } => {
                assert!(
                    reason.contains("not for this host name") && reason.contains("check --url"),
                    "{reason}"
                );
                break;
            }
            other => panic!("a certificate for noc.test must not do for 127.0.0.1: {other:?}"),
        }
    }
    client.stop().await;
    server.stop().await;
}

/// The built binary in `--plain` mode, dialling `url`, with `NOC_CA_FILE`
/// set to `ca_file` or unset, and these flags and variables besides.
fn start_plain(url: &str, ca_file: Option<&Path>, args: &[&str], env: &[(&str, &Path)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_noc-tui"));
    command
        .args(["--plain", "--url", url])
        .env_remove("NOC_URL")
        .env_remove("NOC_SITES")
        .env_remove("NOC_TOKEN")
        .env_remove("NOC_CA_FILE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(ca_file) = ca_file {
        command.env("NOC_CA_FILE", ca_file);
    }
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().expect("start noc-tui")
}

/// The next line the child wrote.
async fn next_line<R: AsyncBufRead + Unpin>(lines: &mut Lines<R>, what: &str) -> String {
    within(what, lines.next_line())
        .await
        .expect("readable")
        .expect("still open")
}

#[tokio::test]
async fn the_binary_follows_a_wss_server_with_ca_file_from_the_environment() {
    let cert = local_certificate();
    let server = tls_server(&cert).await;
    server.post(&alert("snap", "Serengeti", "average")).await;

    // By IP address, so the certificate's IP address is what is checked;
    // the CA file comes from NOC_CA_FILE.
    let url = format!("wss://127.0.0.1:{}", server.addr.port());
    let mut child = start_plain(&url, Some(&cert.cert()), &[], &[]);
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let first = next_line(&mut lines, "the snapshot's line").await;
    assert!(
        first.ends_with(" AVERAGE Serengeti snap at Serengeti"),
        "{first}"
    );
    server.post(&alert("live", "Serengeti", "critical")).await;
    let second = next_line(&mut lines, "the live alert's line").await;
    assert!(
        second.ends_with(" CRITICAL Serengeti live at Serengeti"),
        "{second}"
    );

    let mut stderr = child.stderr.take().expect("piped");
    terminate(&mut child).await;
    let mut news = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut news)
        .await
        .expect("stderr");
    assert!(
        news.contains(&format!("connected to {url}/ws/alerts")),
        "{news}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_binary_without_ca_file_says_why_and_keeps_retrying() {
    let cert = local_certificate();
    let server = tls_server(&cert).await;
    let url = format!("wss://127.0.0.1:{}", server.addr.port());
    let mut child = start_plain(&url, None, &[], &[]);
    let mut news = BufReader::new(child.stderr.take().expect("piped")).lines();
    let mut refusals = 0;
    while refusals < 2 {
        let line = next_line(&mut news, "news on stderr").await;
        if line.starts_with("noc-tui: disconnected from ") {
            assert!(
                line.contains("not signed by a trusted CA") && line.contains("retrying in"),
                "{line}"
            );
            refusals += 1;
        } else {
            assert_eq!(line, format!("noc-tui: connecting to {url}/ws/alerts"));
        }
    }
    assert!(
        child.try_wait().expect("status").is_none(),
        "still running, still trying"
    );
    terminate(&mut child).await;
    server.stop().await;
}

#[tokio::test]
async fn with_no_system_store_the_bundled_roots_stand_in_and_ca_file_still_counts() {
    let cert = local_certificate();
    let server = tls_server(&cert).await;
    server.post(&alert("snap", "Kampala", "warning")).await;
    // SSL_CERT_FILE and SSL_CERT_DIR replace the system's store; empty
    // ones make a system without CAs.
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("no-cas.pem");
    std::fs::write(&empty, "").expect("write");
    let empty_dir = dir.path().join("no-cas");
    std::fs::create_dir(&empty_dir).expect("mkdir");
    let log = dir.path().join("noc-tui.log");
    let url = format!("wss://localhost:{}", server.addr.port());
    let mut child = start_plain(
        &url,
        Some(&cert.cert()),
        &["--log-file", path(&log)],
        &[("SSL_CERT_FILE", &empty), ("SSL_CERT_DIR", &empty_dir)],
    );
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let first = next_line(&mut lines, "the snapshot's line").await;
    assert!(
        first.ends_with(" WARNING Kampala snap at Kampala"),
        "{first}"
    );
    terminate(&mut child).await;
    let log = std::fs::read_to_string(&log).expect("the log");
    assert!(log.contains("trusting the bundled Mozilla roots"), "{log}");
    server.stop().await;
}

#[tokio::test]
async fn a_ca_in_the_systems_store_is_trusted_without_ca_file() {
    let cert = local_certificate();
    let server = tls_server(&cert).await;
    server.post(&alert("snap", "Entebbe", "high")).await;
    // The system's store, as OpenSSL and rustls-native-certs read it, made
    // of the test's CA alone.
    let dir = tempfile::tempdir().expect("tempdir");
    let store_dir = dir.path().join("certs");
    std::fs::create_dir(&store_dir).expect("mkdir");
    let url = format!("wss://localhost:{}", server.addr.port());
    let mut child = start_plain(
        &url,
        None,
        &[],
        &[
            ("SSL_CERT_FILE", &cert.cert()),
            ("SSL_CERT_DIR", &store_dir),
        ],
    );
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let first = next_line(&mut lines, "the snapshot's line").await;
    assert!(first.ends_with(" HIGH Entebbe snap at Entebbe"), "{first}");
    terminate(&mut child).await;
    server.stop().await;
}

#[tokio::test]
async fn actions_go_over_https_trusting_what_the_websocket_trusts() {
    let cert = local_certificate();
    let users = cert.dir.path().join("users.toml");
    std::fs::write(
        &users,
        "[[user]]\nemail = \"irene@noc.example\"\ntoken = \"t\"\n",
    )
    .expect("users file");
    let (cert_path, key_path) = (cert.cert(), cert.key());
    let server = Server::start(&[
        "--tls-cert",
        path(&cert_path),
        "--tls-key",
        path(&key_path),
        "--users-file",
        path(&users),
    ])
    .await
    .trusting(&cert.pem);
    server.post(&alert("tls-ack", "Kilimanjaro", "high")).await;
    let url = format!("https://localhost:{}", server.addr.port());
    let api = |extra: &[&str]| {
        let mut argv = vec!["noc-tui", "--url", &url, "--user-token", "t"];
        argv.extend_from_slice(extra);
        let config = noc_tui::Config::from_cli(<noc_tui::Cli as clap::Parser>::parse_from(argv))
            .expect("flags");
        let ws = config.urls[0].to_string();
        (noc_tui::api::ApiClient::new(&config).expect("client"), ws)
    };
    let ack = noc_tui::api::Request::Ack {
        id: "tls-ack".into(),
        note: None,
        expires_in: None,
    };
    // With the --ca-file the WebSocket takes, the ack goes through.
    let (client, ws) = api(&["--ca-file", path(&cert_path)]);
    let reply = client.send(&ws, ack.clone()).await;
    assert_eq!(
        reply,
        noc_tui::api::Reply::Done {
            request: ack.clone(),
            result: Ok(())
        }
    );
    // Without it, the certificate is not trusted, and that is said.
    let (client, ws) = api(&[]);
    match client.send(&ws, ack).await {
        noc_tui::api::Reply::Done {
            result: Err(why), ..
        } => {
            assert!(why.starts_with("cannot reach the server: TLS:"), "{why}");
            assert!(why.contains("not signed by a trusted CA"), "{why}");
            assert!(why.contains("--ca-file"), "{why}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    server.stop().await;
}
