//! A password in `--database` never shows: not in the error of a failed
//! start, not in the start log line, not in `--help`. The real binary,
//! its real stderr.

mod common;

use std::process::Stdio;

use common::{drop_postgres_database, fresh_postgres_database, postgres_url, within};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Written in the URL percent-encoded; decoded it is `Sup3r/Secret-pw`.
const PASSWORD: &str = "Sup3r%2FSecret-pw";
const DECODED: &str = "Sup3r/Secret-pw";

fn noc_server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_noc-server"));
    command
        .env("NOC_INGEST_TOKEN", "ingest-secret")
        .env("RUST_LOG", "info")
        .kill_on_drop(true);
    command
}

fn assert_hidden(text: &str) {
    assert!(
        !text.contains(PASSWORD) && !text.contains(DECODED),
        "the password shows: {text}"
    );
}

#[tokio::test]
async fn a_failed_start_shows_the_url_without_its_password() {
    // Nothing listens on port 1: the connection fails at once.
    let url = format!("postgres://noc:{PASSWORD}@127.0.0.1:1/noc");
    let output = within(
        "the server to give up",
        noc_server()
            .args(["--listen", "127.0.0.1:0", "--database", &url])
            .output(),
    )
    .await
    .expect("run noc-server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it started: {stderr}");
    assert!(
        stderr.contains("postgres://noc:***@127.0.0.1:1/noc"),
        "the error should name the database, password as ***: {stderr}"
    );
    assert_hidden(&stderr);
}

#[tokio::test]
async fn help_does_not_show_the_database_from_the_environment() {
    let output = noc_server()
        .arg("--help")
        .env("NOC_DATABASE", format!("postgres://noc:{PASSWORD}@db/noc"))
        .output()
        .await
        .expect("run noc-server --help");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("--database"), "{stdout}");
    assert_hidden(&stdout);
}

#[tokio::test]
async fn the_start_log_line_shows_the_url_without_its_password() {
    let Some(base) = postgres_url() else {
        println!("skipped: NOC_TEST_DATABASE_URL is not set");
        return;
    };
    let database = fresh_postgres_database(&base).await;
    // Trust authentication ignores the password; the URL still carries it.
    let parsed = url::Url::parse(&database).expect("a URL");
    let mut with_password = parsed.clone();
    with_password
        .set_password(Some(PASSWORD))
        .expect("password");
    let mut child = noc_server()
        .args(["--listen", "127.0.0.1:0", "--database"])
        .arg(with_password.as_str())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn noc-server");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let line = within("the start log line", async {
        loop {
            let line = lines.next_line().await.expect("read").expect("a line");
            if line.contains("listening") {
                return line;
            }
            assert_hidden(&line);
        }
    })
    .await;
    child.kill().await.expect("kill");
    let expected = format!(
        "postgres://{}:***@{}",
        parsed.username(),
        parsed.host_str().expect("host")
    );
    assert!(line.contains(&expected), "{line}");
    assert_hidden(&line);
    drop_postgres_database(&database).await;
}
