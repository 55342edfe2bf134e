//! `?client=wall-3` follows its profile: put, changed and removed through
//! the API while the page stays open, and `identify`.

use serde_json::{Value, json};

use crate::common::{TestServer, WAIT};
use crate::harness::{Browser, OPERATOR_TOKEN, Tools, ack, alert, users_file};

async fn call(server: &TestServer, method: reqwest::Method, path: &str, body: Option<Value>) {
    let mut request = server
        .http
        .request(method.clone(), server.url(path))
        .bearer_auth(OPERATOR_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    assert!(
        response.status().is_success(),
        "{method} {path}: {}",
        response.status()
    );
}

/// The page's picture: title, view, bell, hidden acks, and the rows.
const LOOK: &str = "return {
    title: document.getElementById('title').textContent,
    view: document.body.dataset.view,
    bell: window.noc.settings.bell,
    hide_acked: window.noc.settings.hideAcked,
    rows: [...document.querySelectorAll('#alerts > li')].map(r => r.dataset.id).sort(),
    tiles: document.querySelectorAll('#board .tile').length,
};";

async fn wait_look(browser: &Browser, what: &str, want: &Value) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let look = browser.js(LOOK).await;
        if &look == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}: the page shows {look}, not {want}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_follows_its_profile_and_shows_its_name() {
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
            alert("kili-ups", "Kilimanjaro", "warning", "UPS on battery"),
            alert("kla-bgp", "Kampala", "high", "BGP session down"),
        ]))
        .await;
    ack(&server, "kili-core").await;
    let browser = Browser::start(&tools).await;
    browser.open(&server, "/?client=wall-3").await;
    let own = json!({
        "title": "NOC alerts", "view": "list", "bell": null, "hide_acked": false,
        "rows": ["kili-core", "kili-ups", "kla-bgp"], "tiles": 0,
    });
    wait_look(&browser, "the screen's own settings", &own).await;

    // A profile arrives while the page is open: sites, severity, title,
    // hidden acks and bell at once.
    let profile = json!({
        "title": "Tanzania NOC", "sites": ["Kilimanjaro"], "min_severity": "warning",
        "hide_acked": true, "bell": "critical",
    });
    call(
        &server,
        reqwest::Method::PUT,
        "/api/v1/screens/wall-3/profile",
        Some(profile),
    )
    .await;
    let tanzania = json!({
        "title": "Tanzania NOC", "view": "list", "bell": "critical", "hide_acked": true,
        "rows": ["kili-ups"], "tiles": 0,
    });
    wait_look(&browser, "the profile in force", &tanzania).await;

    // Changed to the board.
    let board = json!({ "title": "Tanzania board", "view": "board" });
    call(
        &server,
        reqwest::Method::PUT,
        "/api/v1/screens/wall-3/profile",
        Some(board),
    )
    .await;
    let tiles = json!({
        "title": "Tanzania board", "view": "board", "bell": null, "hide_acked": false,
        "rows": [], "tiles": 2,
    });
    wait_look(&browser, "the board from the profile", &tiles).await;

    // identify: the screen's name across the whole screen.
    call(
        &server,
        reqwest::Method::POST,
        "/api/v1/screens/wall-3/identify",
        None,
    )
    .await;
    let shown = browser
        .wait_for(
            "the screen's name",
            WAIT,
            "const o = document.getElementById('identify');
             if (o.hidden) return null;
             const r = o.getBoundingClientRect();
             return [o.textContent, r.width >= innerWidth, r.height >= innerHeight];",
        )
        .await;
    assert_eq!(
        shown,
        json!(["wall-3", true, true]),
        "across the whole screen"
    );

    // Rotate: list and board in turn.
    let rotate = json!({ "view": "rotate", "rotate": "1s" });
    call(
        &server,
        reqwest::Method::PUT,
        "/api/v1/screens/wall-3/profile",
        Some(rotate),
    )
    .await;
    for view in ["list", "board", "list"] {
        browser
            .wait_for(
                &format!("the rotation to show the {view}"),
                WAIT,
                &format!("return document.body.dataset.view === '{view}';"),
            )
            .await;
    }

    // Removed: the screen's own settings again.
    call(
        &server,
        reqwest::Method::DELETE,
        "/api/v1/screens/wall-3/profile",
        None,
    )
    .await;
    wait_look(&browser, "the screen's own settings back", &own).await;
    browser.close().await;
    server.stop().await;
}
