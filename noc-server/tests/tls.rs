//! `https://` and `wss://` served by the server itself (`--tls-cert`,
//! `--tls-key`), checked with clients that trust only the test's own CA.

mod common;

use std::sync::Arc;

use clap::Parser;
use common::{INGEST, alert, within};
use futures_util::{SinkExt, StreamExt};
use noc_server::config::Cli;
use rustls_pki_types::pem::PemObject;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::ring::default_provider};
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const NAME: &str = "noc.test";

/// A self-signed certificate for `noc.test`, written as PEM files.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let cert = rcgen::generate_simple_self_signed(vec![NAME.to_owned()]).expect("certificate");
    let pem = cert.cert.pem();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &pem).expect("write cert");
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).expect("write key");
    (cert_path, key_path, pem)
}

#[tokio::test]
async fn https_and_wss_with_the_servers_own_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key, pem) = certificate(dir.path());
    let database = format!("sqlite://{}", dir.path().join("noc.db").display());
    let cli = Cli::try_parse_from([
        "noc-server",
        "--listen",
        "127.0.0.1:0",
        "--ingest-token",
        INGEST,
        "--database",
        &database,
        "--tls-cert",
        cert.to_str().expect("utf-8"),
        "--tls-key",
        key.to_str().expect("utf-8"),
    ])
    .expect("flags");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(noc_server::run(listener, cli, shutdown.clone()));

    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("CA"))
        .resolve(NAME, addr)
        .build()
        .expect("client");
    let base = format!("https://{NAME}:{}", addr.port());
    within("HTTPS to answer", async {
        loop {
            if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
                assert_eq!(r.status(), 200);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    // A client that does not trust the certificate is refused.
    assert!(
        reqwest::Client::new()
            .get(format!("https://127.0.0.1:{}/healthz", addr.port()))
            .send()
            .await
            .is_err()
    );

    let mut roots = RootCertStore::empty();
    for der in rustls_pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(der.expect("PEM")).expect("root");
    }
    let config = ClientConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let url = format!("wss://{NAME}:{}/ws/alerts", addr.port());
    let (mut ws, _) = tokio_tungstenite::client_async_tls_with_config(
        url,
        tcp,
        None,
        Some(Connector::Rustls(Arc::new(config))),
    )
    .await
    .expect("wss handshake");
    let snapshot = within("the snapshot", ws.next())
        .await
        .expect("frame")
        .expect("ok");
    assert!(
        snapshot
            .to_text()
            .expect("text")
            .contains("\"event\":\"snapshot\"")
    );
    let posted = http
        .post(format!("{base}/internal/alerts"))
        .bearer_auth(INGEST)
        .json(&alert("tls-1", "A", "high"))
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status(), 200);
    let event = within("the event", ws.next())
        .await
        .expect("frame")
        .expect("ok");
    assert!(event.to_text().expect("text").contains("\"id\":\"tls-1\""));

    // Over TLS the hub cannot write to the socket itself: every frame waits
    // in the screen's queue for its task. A batch of 100 arrives whole and
    // in order, and a Ping is answered in line.
    let batch: Vec<_> = (0..100)
        .map(|i| alert(&format!("tls-batch-{i}"), "A", "high"))
        .collect();
    let posted = http
        .post(format!("{base}/internal/alerts"))
        .bearer_auth(INGEST)
        .json(&batch)
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status(), 200);
    ws.send(Message::Ping(b"tls".to_vec().into()))
        .await
        .expect("ping");
    let mut ids = Vec::new();
    let mut pong = false;
    within("the batch and the pong", async {
        while ids.len() < 100 || !pong {
            match ws.next().await.expect("frame").expect("ok") {
                Message::Text(text) if text.contains("tls-batch-") => {
                    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
                    ids.push(value["id"].as_str().expect("id").to_owned());
                }
                Message::Pong(data) => pong = &data[..] == b"tls",
                _ => {}
            }
        }
    })
    .await;
    let expected: Vec<_> = (0..100).map(|i| format!("tls-batch-{i}")).collect();
    assert_eq!(ids, expected);
    shutdown.cancel();
    within("the server to stop", server)
        .await
        .expect("task")
        .expect("clean exit");
}

#[tokio::test]
async fn unusable_certificate_files_stop_the_server_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a certificate").expect("write");
    let database = format!("sqlite://{}", dir.path().join("noc.db").display());
    let cli = Cli::try_parse_from([
        "noc-server",
        "--ingest-token",
        INGEST,
        "--database",
        &database,
        "--tls-cert",
        bad.to_str().expect("utf-8"),
        "--tls-key",
        bad.to_str().expect("utf-8"),
    ])
    .expect("flags");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let err = noc_server::run(listener, cli, CancellationToken::new())
        .await
        .expect_err("refused");
    assert!(format!("{err:#}").contains("bad.pem"), "{err:#}");
    assert!(
        Cli::try_parse_from(["noc-server", "--tls-cert", "x.pem"]).is_err(),
        "--tls-cert needs --tls-key"
    );
}
