//! The bell in a real terminal (tmux) against the real server: a profile
//! put through the API sets it to `critical`; a new critical alert rings
//! the terminal's bell (BEL, which tmux reports through its `alert-bell`
//! hook), a second within 5 s does not, a warning never does, and a
//! critical alert after the 5 s rings again. Skipped, and says so, without
//! tmux.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::{Server, alert, skip_or_fail, within};

fn bells(file: &Path) -> usize {
    std::fs::read_to_string(file).map_or(0, |s| s.lines().count())
}

#[tokio::test]
async fn the_profiles_bell_rings_for_new_critical_alerts_at_most_once_in_5_s() {
    if !Tmux::installed() {
        skip_or_fail("NOC_REQUIRE_TMUX", "tmux");
        return;
    }
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("tempdir"));
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        "[[user]]\nemail = \"irene@noc.example\"\ntoken = \"t\"\n",
    )
    .expect("users file");
    let rung = dir.path().join("bells.txt");
    let users = users.display().to_string();
    let server = Server::start_on(dir.clone(), "127.0.0.1:0", &["--users-file", &users]).await;

    let tmux = Tmux::new("bell");
    let script = format!(
        "env -u NO_COLOR -u NOC_URL -u NOC_SITES -u NOC_TOKEN -u NOC_USER_TOKEN TERM=xterm-256color \
         {bin} --url {url} --name bell-wall; echo EXIT=$?; sleep 60",
        bin = env!("CARGO_BIN_EXE_noc-tui"),
        url = server.base(),
    );
    tmux.start(100, 20, &script);
    let hook = format!("run-shell \"echo bell >> {}\"", rung.display());
    assert!(
        tmux.run(&["set-hook", "-g", "alert-bell", &hook])
            .status
            .success()
    );
    assert!(
        tmux.run(&["set", "-g", "monitor-bell", "on"])
            .status
            .success()
    );
    tmux.wait_for("the screen", |s| s.contains("CONNECTED"))
        .await;

    let profile = serde_json::json!({"title": "Bell wall", "bell": "critical"});
    let put = within(
        "PUT the profile",
        server
            .http
            .put(format!(
                "{}/api/v1/screens/bell-wall/profile",
                server.base()
            ))
            .bearer_auth("t")
            .json(&profile)
            .send(),
    )
    .await
    .expect("PUT");
    assert_eq!(put.status(), 200);
    tmux.wait_for("the profile", |s| s.starts_with("Bell wall"))
        .await;

    // A warning does not ring; the first critical does, once.
    server.post(&alert("warn-1", "Kampala", "warning")).await;
    tmux.wait_for("the warning", |s| s.contains("warn-1 at"))
        .await;
    server.post(&alert("crit-1", "Kampala", "critical")).await;
    within("the first bell", async {
        while bells(&rung) < 1 {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await;
    let first = Instant::now();
    // A second critical within 5 s: on screen, but no second bell.
    server.post(&alert("crit-2", "Kampala", "critical")).await;
    tmux.wait_for("the second critical", |s| s.contains("crit-2 at"))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bells(&rung), 1, "at most one bell in 5 s");
    // After the 5 s, a new critical rings again.
    tokio::time::sleep(Duration::from_millis(5200).saturating_sub(first.elapsed())).await;
    server.post(&alert("crit-3", "Kampala", "critical")).await;
    within("the second bell", async {
        while bells(&rung) < 2 {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await;
    server.stop().await;
}
