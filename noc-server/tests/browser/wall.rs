//! The wall's part-two picture: `*` alerts on every screen, ages, the
//! hide-acked toggle, and the board view.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{TestServer, WAIT};
use crate::harness::{Browser, OPERATOR_TOKEN, Tools, ack, alert, row, users_file};
use crate::silent::{SilentServer, quiet_alert};

/// Posts `body` as a user (only users may post an alert for every site).
async fn post_as_user(server: &TestServer, body: &Value) {
    let response = server
        .http
        .post(server.url("/api/v1/alerts"))
        .bearer_auth(OPERATOR_TOKEN)
        .json(body)
        .send()
        .await
        .expect("POST /api/v1/alerts");
    assert_eq!(response.status(), 200, "post {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_shows_every_site_alerts_ages_toggles_and_the_board() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let users_dir = tempfile::tempdir().expect("tempdir");
    let users = users_file(users_dir.path());
    let server = TestServer::start(&["--users-file", users.to_str().expect("utf-8")]).await;
    server
        .post_ok(&json!([
            alert(
                "kili-core",
                "Kilimanjaro",
                "critical",
                "Core switch sw-01 unreachable"
            ),
            alert("seren-ups", "Serengeti", "high", "UPS on battery"),
        ]))
        .await;
    ack(&server, "seren-ups").await;
    let everywhere = json!({
        "id": "all-dns", "site": "*", "severity": "average",
        "message": "Upstream DNS resolver slow for every site",
    });
    post_as_user(&server, &everywhere).await;
    let browser = Browser::start(&tools).await;

    // A screen for one site still shows the alert for every site, marked.
    browser
        .open(&server, "/?sites=Kilimanjaro&client=one")
        .await;
    browser
        .wait_for_ids(
            "one site and the every-site alert",
            &["kili-core", "all-dns"],
        )
        .await;
    let star = browser
        .js(&format!(
            "const r = document.querySelector('{}');
             return [r.classList.contains('everywhere'), r.querySelector('.site').textContent];",
            row("all-dns")
        ))
        .await;
    assert_eq!(star, json!([true, "* every site"]));

    // Ages in the contract's form: seconds for an alert under a minute old.
    let age = browser
        .js(&format!(
            "return document.querySelector('{} .age').textContent;",
            row("kili-core")
        ))
        .await;
    let age = age.as_str().expect("an age");
    assert!(
        age.ends_with('s') && age[..age.len() - 1].parse::<u32>().is_ok_and(|s| s < 60),
        "age {age:?}"
    );

    // Every site: the acknowledged alert shows until hidden by its toggle,
    // and the counts keep it.
    browser.open(&server, "/?client=all").await;
    let all = ["kili-core", "seren-ups", "all-dns"];
    browser.wait_for_ids("every alert", &all).await;
    browser.click("#toggle-acked").await;
    browser
        .wait_for_ids("the acknowledged alert hidden", &["kili-core", "all-dns"])
        .await;
    let shown = browser
        .js("return [document.getElementById('count-total').textContent,
                     document.getElementById('list-title').textContent];")
        .await;
    assert_eq!(shown, json!(["3", "Active alerts · 1 acknowledged hidden"]));
    browser.click("#toggle-acked").await;
    browser
        .wait_for_ids("the acknowledged alert back", &all)
        .await;

    // The board: one tile per site, worst first; a tile opens its worst
    // alert's details.
    browser.open(&server, "/?client=board&view=board").await;
    let tiles = browser
        .wait_for(
            "the tiles",
            WAIT,
            "const t = [...document.querySelectorAll('#board .tile')].map(t => t.dataset.site);
             return document.body.dataset.view === 'board' && t.length === 3 ? t : null;",
        )
        .await;
    assert_eq!(tiles, json!(["Kilimanjaro", "Serengeti", "* every site"]));
    browser.click("#board .tile[data-site='Serengeti']").await;
    browser
        .wait_for(
            "the tile's alert in the drawer",
            WAIT,
            "const d = document.getElementById('drawer'); return !d.hidden && d.dataset.id === 'seren-ups';",
        )
        .await;
    browser.close().await;
    server.stop().await;
}

/// A source that falls silent is a blind spot: its alert is pinned above
/// every other, however severe, and marked as what it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_source_is_pinned_first_and_marked() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        "[[source]]\nname = \"zabbix-dc1\"\nkind = \"zabbix\"\ntoken = \"dc1-token\"\nheartbeat = \"1s\"\n",
    )
    .expect("write sources.toml");
    let server = TestServer::start(&["--sources-file", sources.to_str().expect("utf-8")]).await;
    let browser = Browser::start(&tools).await;
    browser.open(&server, "/?client=wall").await;
    browser
        .wait_for_ids("the silent source's alert", &["source-silent-zabbix-dc1"])
        .await;
    // A newer critical alert would come first by the usual order.
    server
        .post_ok(&alert(
            "kili-core",
            "Kilimanjaro",
            "critical",
            "Core switch sw-01 unreachable",
        ))
        .await;
    browser
        .wait_for_ids("both", &["source-silent-zabbix-dc1", "kili-core"])
        .await;
    let first = browser
        .wait_for(
            "the silent source's alert on top",
            WAIT,
            "const r = document.querySelector('#alerts > li');
             return r && r.dataset.id === 'source-silent-zabbix-dc1'
                 ? [r.classList.contains('source-silent'), r.querySelector('.silent-tag').textContent,
                    document.querySelectorAll('#alerts > li').length]
                 : null;",
        )
        .await;
    assert_eq!(first, json!([true, "SOURCE SILENT", 2]));
    browser.close().await;
    server.stop().await;
}

/// What the real server makes only slowly (flapping takes four recoveries,
/// a failed write-back a day of retries), shown from a stand-in's snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flapping_and_a_failed_write_back_are_marked() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let mut flapping = quiet_alert();
    flapping["id"] = json!("flappy");
    flapping["flapping"] = json!(true);
    let mut failed = quiet_alert();
    failed["id"] = json!("wb-failed");
    failed["acked_by"] = json!("irene@sprinttz.example");
    failed["acked_at"] = failed["created_at"].clone();
    failed["writeback"] = json!({ "state": "failed", "error": "Zabbix answered 500" });
    let stand_in = SilentServer::start_with(vec![flapping, failed], Duration::from_secs(60)).await;
    let browser = Browser::start(&tools).await;
    let url = format!("http://{}/?client=markers", stand_in.addr);
    browser.client.goto(&url).await.expect("open the page");
    browser
        .wait_for_ids("the stand-in's alerts", &["flappy", "wb-failed"])
        .await;
    let marks = browser
        .js(&format!(
            "const f = document.querySelector('{}'), w = document.querySelector('{}');
             return [f.querySelector('.flap-tag').textContent, f.classList.contains('flapping'),
                     w.querySelector('.ack').textContent, w.querySelector('.wb-failed').title];",
            row("flappy"),
            row("wb-failed")
        ))
        .await;
    assert_eq!(
        marks,
        json!([
            "FLAP",
            true,
            "⚠ WRITE-BACK FAILED[ACK] irene@sprinttz.example",
            "the source was not told: Zabbix answered 500"
        ])
    );
    browser.close().await;
}
