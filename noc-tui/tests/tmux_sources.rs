//! A source that falls silent, on a real terminal (tmux) against the real
//! server: the server's `source-silent-…` alert is a red banner under the
//! counts, on a screen of another site too, and it goes when the source is
//! heard again. Skipped, and says so, without tmux.

mod common;

use common::tmux::Tmux;
use common::{Server, alert, skip_or_fail, within};

#[tokio::test]
async fn a_silent_source_is_a_banner_until_it_is_heard_again() {
    if !Tmux::installed() {
        skip_or_fail("NOC_REQUIRE_TMUX", "tmux");
        return;
    }
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("tempdir"));
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        "[[source]]\nname = \"zabbix-dc1\"\nkind = \"zabbix\"\ntoken = \"zbx-token\"\nheartbeat = \"1s\"\n",
    )
    .expect("sources file");
    let sources = sources.display().to_string();
    let server = Server::start_on(dir, "127.0.0.1:0", &["--sources-file", &sources]).await;
    server
        .post(&alert("crit-1", "Kilimanjaro", "critical"))
        .await;

    let tmux = Tmux::new("banner");
    let script = format!(
        "env -u NO_COLOR -u NOC_URL -u NOC_SITES -u NOC_TOKEN -u NOC_USER_TOKEN TERM=xterm-256color \
         {bin} --url {url} --name banner --sites Kampala; echo EXIT=$?; sleep 60",
        bin = env!("CARGO_BIN_EXE_noc-tui"),
        url = server.base(),
    );
    tmux.start(110, 24, &script);
    let screen = tmux
        .wait_for("the banner", |s| {
            s.contains("SOURCE SILENT: No word from zabbix-dc1")
        })
        .await;
    let line = screen.lines().nth(3).unwrap_or_default();
    assert!(
        line.starts_with(" SOURCE SILENT: No word from zabbix-dc1 for"),
        "{screen}"
    );
    assert!(line.contains("(heartbeat every 1s)"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("* every site") && l.contains("No word from zabbix-dc1")),
        "the alert is listed too, for every site:\n{screen}"
    );
    assert!(
        !screen.contains("crit-1"),
        "the screen takes Kampala only, and the * alert all the same:\n{screen}"
    );

    // Heard again: the banner goes.
    let heard = within(
        "POST /internal/heartbeat",
        server
            .http
            .post(format!("{}/internal/heartbeat", server.base()))
            .bearer_auth("zbx-token")
            .send(),
    )
    .await
    .expect("heartbeat");
    assert_eq!(heard.status(), 204);
    let after = tmux
        .wait_for("the banner to go", |s| !s.contains("SOURCE SILENT"))
        .await;
    assert!(after.contains("ALERTS 0"), "{after}");
    server.stop().await;
}
