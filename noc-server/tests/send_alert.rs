//! `scripts/send-alert.sh` against a real server: it raises and resolves an
//! alert, keeps awkward text intact, and fails loudly with the server's
//! words.

mod common;

use std::path::PathBuf;
use std::process::Stdio;

use common::{INGEST, TestServer, within};
use noc_shared::{Alert, Severity, Status};

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the script with `args`, the server's URL and `token` in its
/// environment.
async fn send(server: &TestServer, token: &str, args: &[&str]) -> Run {
    send_to(&server.url(""), token, args).await
}

async fn send_to(url: &str, token: &str, args: &[&str]) -> Run {
    let script: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "scripts", "send-alert.sh"]
        .iter()
        .collect();
    let mut command = tokio::process::Command::new("bash");
    command
        .arg(script)
        .args(args)
        .env("NOC_URL", url)
        .env("NOC_INGEST_TOKEN", token)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for var in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        command.env_remove(var);
    }
    let output = within("send-alert.sh", command.output())
        .await
        .expect("bash runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test]
async fn raises_and_resolves_an_alert() {
    if !on_path("bash") || !on_path("curl") {
        println!("skipped: send-alert.sh needs bash and curl");
        return;
    }
    let server = TestServer::start(&[]).await;
    let message = "Fibre cut \"Arusha–Moshi\"\\ring B\nsecond line\u{1}, 42 °C";
    let run = send(
        &server,
        INGEST,
        &[
            "--site",
            "Kilimanjaro",
            "--severity",
            "Disaster",
            "--message",
            message,
            "--host",
            "rtr-01.kili",
            "--id",
            "cli-1",
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let printed: Alert = serde_json::from_str(&run.stdout).expect("the stored alert");
    let stored: Alert =
        serde_json::from_value(server.get_json("/api/v1/alerts/cli-1").await).expect("alert");
    assert_eq!(printed, stored);
    assert_eq!(
        (
            stored.site.as_str(),
            stored.severity,
            stored.message.as_str(),
            stored.host.as_deref(),
            stored.source.as_str(),
            stored.status,
        ),
        (
            "Kilimanjaro",
            Severity::Critical,
            message,
            Some("rtr-01.kili"),
            "webhook",
            Status::Active,
        )
    );

    let run = send(&server, INGEST, &["--resolve", "--id", "cli-1"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let resolved: Alert = serde_json::from_str(&run.stdout).expect("the stored alert");
    assert_eq!(
        (resolved.status, resolved.message.as_str()),
        (Status::Resolved, message)
    );

    // Without --id the server assigns one.
    let run = send(
        &server,
        INGEST,
        &[
            "--site",
            "Kampala",
            "--severity",
            "info",
            "--message",
            "test",
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let assigned: Alert = serde_json::from_str(&run.stdout).expect("the stored alert");
    assert!(!assigned.id.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn failures_exit_non_zero_with_the_servers_error() {
    if !on_path("bash") || !on_path("curl") {
        println!("skipped: send-alert.sh needs bash and curl");
        return;
    }
    let server = TestServer::start(&[]).await;
    let alert = [
        "--site",
        "Kilimanjaro",
        "--severity",
        "high",
        "--message",
        "m",
    ];

    let run = send(&server, "wrong-token", &alert).await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("the server answered HTTP 401: missing or wrong token"),
        "{}",
        run.stderr
    );

    let run = send(
        &server,
        INGEST,
        &["--site", "K", "--severity", "apocalyptic", "--message", "m"],
    )
    .await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("HTTP 422") && run.stderr.contains("unknown severity"),
        "{}",
        run.stderr
    );

    let run = send(&server, INGEST, &["--resolve", "--id", "never-seen"]).await;
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("HTTP 404"), "{}", run.stderr);

    let run = send(&server, INGEST, &["--site", "K"]).await;
    assert_eq!(run.code, Some(2), "usage error: {}", run.stderr);

    let all = server.get_json("/api/v1/alerts?status=all").await;
    assert_eq!(all, serde_json::json!([]), "nothing stored");

    server.stop().await;

    // Nothing listens on a port just freed.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let run = send_to(&format!("http://{closed}"), INGEST, &alert).await;
    assert_eq!(run.code, Some(3), "unreachable: {}", run.stderr);
}
