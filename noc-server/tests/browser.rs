//! The browser screen end to end: the real server in-process, the page in a
//! headless Chromium driven over WebDriver (ChromeDriver). One test uses a
//! stand-in server instead, for a link that goes silent without closing.
//!
//! Where Chromium or ChromeDriver is not installed the test says so and
//! passes; `scripts/ci-setup.sh` installs both, and with
//! `NOC_REQUIRE_BROWSER=1` a missing browser fails the test instead. It
//! never installs anything itself.
//!
//! `cargo test -p noc-server --test browser -- --ignored screenshot` redraws
//! the docs' `docs/browser-*.png`, or writes them to `$NOC_SCREENSHOT_DIR`.

#[path = "browser/actions.rs"]
mod actions;
#[path = "browser/bell.rs"]
mod bell;
mod common;
#[path = "browser/harness.rs"]
mod harness;
#[path = "browser/history.rs"]
mod history;
#[path = "browser/profile.rs"]
mod profile;
#[path = "browser/screenshot.rs"]
mod screenshot;
#[path = "browser/silent.rs"]
mod silent;
#[path = "browser/storm.rs"]
mod storm;
#[path = "browser/wall.rs"]
mod wall;

use std::sync::Arc;
use std::time::Instant;

use common::{TestServer, WAIT};
use harness::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_screen_end_to_end() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let users_dir = tempfile::tempdir().expect("tempdir");
    let users = users_file(users_dir.path());
    let users = users.to_str().expect("utf-8 path");
    let flags = ["--heartbeat-interval", HEARTBEAT, "--users-file", users];
    let server = TestServer::start(&flags).await;
    server
        .post_ok(&json!([
            alert(
                "kili-core",
                "Kilimanjaro",
                "critical",
                "Core switch sw-01 unreachable"
            ),
            alert("seren-ups", "Serengeti", "warning", "UPS on battery"),
            alert(
                "kampala-bgp",
                "Kampala",
                "high",
                "BGP session to AS37100 down"
            ),
            alert("kili-hostile", "Kilimanjaro", "average", HOSTILE),
            alert("kili-info", "Kilimanjaro", "info", "Backup finished"),
        ]))
        .await;
    let browser = Browser::start(&tools).await;

    // A screen for one site at average and above: the snapshot holds only
    // what matches; live events for other sites or lower severities never
    // show; an alert that falls below the filter or moves to another site
    // leaves, and one that comes back into it returns.
    browser
        .open(
            &server,
            "/?sites=Kilimanjaro&min_severity=average&client=one-site",
        )
        .await;
    browser
        .wait_for_ids("the filtered snapshot", &["kili-core", "kili-hostile"])
        .await;
    let radio = "Radio link down";
    server
        .post_ok(&alert("seren-new", "Serengeti", "critical", radio))
        .await;
    server
        .post_ok(&alert(
            "kili-low",
            "Kilimanjaro",
            "warning",
            "Fan speed high",
        ))
        .await;
    let config = "Config rollback failed";
    server
        .post_ok(&alert("kili-new", "Kilimanjaro", "high", config))
        .await;
    let filtered = ["kili-core", "kili-hostile", "kili-new"];
    browser
        .wait_for_ids("only the live alert that matches", &filtered)
        .await;
    server
        .post_ok(&alert("kili-new", "Kilimanjaro", "info", config))
        .await;
    browser
        .wait_for_ids(
            "an alert that fell below min_severity to leave",
            &["kili-core", "kili-hostile"],
        )
        .await;
    server
        .post_ok(&alert("kili-new", "Kilimanjaro", "high", config))
        .await;
    browser
        .wait_for_ids("an alert back in the filter to return", &filtered)
        .await;
    server
        .post_ok(&alert("kili-new", "Serengeti", "high", config))
        .await;
    browser
        .wait_for_ids(
            "an alert that moved to another site to leave",
            &["kili-core", "kili-hostile"],
        )
        .await;

    // The screen for every site.
    browser.open(&server, "/?client=every-site").await;
    let all = [
        "kili-core",
        "kili-hostile",
        "kili-info",
        "kili-low",
        "seren-ups",
        "seren-new",
        "kampala-bgp",
        "kili-new",
    ];
    browser.wait_for_ids("the full snapshot", &all).await;
    assert_eq!(
        browser.ids().await[..2],
        ["seren-new", "kili-core"],
        "criticals first, newest first"
    );
    let counts = browser
        .js(
            "return ['critical','high','average','warning','info','total']
                .map(k => document.getElementById('count-' + k).textContent);",
        )
        .await;
    assert_eq!(counts, json!(["2", "2", "1", "2", "1", "8"]), "counts");
    let critical = browser
        .js(&format!(
            "const s = getComputedStyle(document.querySelector('{}'));
             return [s.color, s.backgroundColor];",
            row("kili-core")
        ))
        .await;
    assert_eq!(
        critical,
        json!(["rgb(255, 255, 255)", "rgb(215, 25, 31)"]),
        "critical is white on red"
    );

    // Hostile text shows as text and makes no element.
    let hostile = browser
        .js(&format!(
            "const row = document.querySelector('{}');
             return {{
                 text: row.querySelector('.msg').textContent,
                 elements: document.querySelectorAll('#alerts img, #alerts b, main img, main b').length,
             }};",
            row("kili-hostile")
        ))
        .await;
    assert_eq!(
        hostile["text"],
        json!(HOSTILE),
        "hostile text shown literally"
    );
    assert_eq!(hostile["elements"], json!(0), "hostile text made elements");
    browser.assert_no_dialog().await;

    // Heartbeats are answered with pongs that carry the heartbeat's ts.
    browser
        .js("if (!window.sentFrames) {
                 window.sentFrames = [];
                 const send = WebSocket.prototype.send;
                 WebSocket.prototype.send = function (data) {
                     window.sentFrames.push(String(data));
                     return send.call(this, data);
                 };
             }
             return null;")
        .await;
    let pong = browser
        .wait_for(
            "a pong",
            WAIT,
            "return (window.sentFrames || []).map(f => JSON.parse(f)).find(f => f.event === 'pong') || null;",
        )
        .await;
    let now = chrono::Utc::now().timestamp();
    let ts = pong["ts"].as_i64().expect("pong ts is a number");
    assert!(
        (ts - now).abs() < 60,
        "pong ts {ts} is a heartbeat's unix time"
    );

    // A live alert shows within 2 s, and a new critical stands out.
    server
        .post_ok(&alert(
            "kili-live",
            "Kilimanjaro",
            "critical",
            "Power feed A lost",
        ))
        .await;
    let took = Instant::now();
    browser
        .wait_for(
            "the live alert",
            LIVE_WITHIN,
            &format!(
                "return document.querySelector('{}') !== null;",
                row("kili-live")
            ),
        )
        .await;
    println!(
        "live alert on screen {:?} after the server took it",
        took.elapsed()
    );
    let fresh = browser
        .js(&format!(
            "const r = document.querySelector('{}'); return [r.classList.contains('fresh'), r.querySelector('.new-tag') !== null];",
            row("kili-live")
        ))
        .await;
    assert_eq!(fresh, json!([true, true]), "a new critical stands out");

    // An acknowledgement is marked with who made it.
    ack(&server, "kampala-bgp").await;
    browser
        .wait_for(
            "the acknowledgement",
            WAIT,
            &format!(
                "const r = document.querySelector('{}');
                 return r.classList.contains('acked') && r.querySelector('.ack').textContent.includes('{OPERATOR_EMAIL}');",
                row("kampala-bgp")
            ),
        )
        .await;

    // A resolved alert leaves.
    resolve(&server, "seren-ups").await;
    browser
        .wait_for(
            "the resolved alert to go",
            WAIT,
            &format!(
                "return document.querySelector('{}') === null;",
                row("seren-ups")
            ),
        )
        .await;
    let before_stop = browser.ids().await;

    // The server goes away: a banner, and the last alerts stay, marked stale.
    let (dir, database, addr) = (
        Arc::clone(&server.dir),
        server.database.clone(),
        server.addr,
    );
    server.stop().await;
    let down = browser
        .wait_for(
            "the disconnected banner",
            WAIT,
            "const banner = document.getElementById('banner');
             if (banner.hidden || banner.offsetHeight === 0) return null;
             return {
                 text: banner.textContent,
                 stale: document.body.classList.contains('stale'),
                 link: document.body.dataset.link,
             };",
        )
        .await;
    assert_eq!(
        down,
        json!({ "text": BANNER, "stale": true, "link": "down" }),
        "the banner and the stale marking"
    );
    assert_eq!(
        browser.ids().await,
        before_stop,
        "the last alerts stay visible"
    );

    // The server comes back on the same address and store: the page
    // reconnects by itself and shows the new state.
    let server = TestServer::start_on(dir, database, &addr.to_string(), &flags).await;
    resolve(&server, "kili-core").await;
    server
        .post_ok(&alert(
            "after-restart",
            "Entebbe",
            "high",
            "Fibre cut on the Entebbe ring",
        ))
        .await;
    let mut expected: Vec<&str> = before_stop
        .iter()
        .map(String::as_str)
        .filter(|id| *id != "kili-core")
        .collect();
    expected.push("after-restart");
    browser
        .wait_for_ids("the page back by itself with the new state", &expected)
        .await;
    let up = browser
        .js("return {
                 banner: document.getElementById('banner').hidden,
                 stale: document.body.classList.contains('stale'),
             };")
        .await;
    assert_eq!(up, json!({ "banner": true, "stale": false }), "banner gone");
    browser.assert_no_dialog().await;

    browser.close().await;
    server.stop().await;
}
