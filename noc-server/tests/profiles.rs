//! Screen profiles: a screen that connects with `client=<name>` gets its
//! profile in the snapshot, and every change (API, screens file, SIGHUP)
//! reaches it live as a `profile` event and a snapshot with
//! `"reason":"profile"`, with the profile's sites in force in the hub.
//! Runs on SQLite, or on PostgreSQL with `NOC_TEST_STORE=postgres`; the
//! two-instance test needs `NOC_TEST_DATABASE_URL`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::process::Process;
use common::{
    INGEST, Screen, TestServer, alert, fresh_database, fresh_postgres_database, postgres_url,
    within,
};
use noc_shared::{Profile, ServerMessage, Severity, Snapshot, SnapshotReason};
use serde_json::{Value, json};

const USER: &str = "user-token";
/// The contract: a change reaches the screens within a second.
const PROMPT: Duration = Duration::from_secs(1);

/// A users file with one user, and the screens file `screens`, in `dir`;
/// the flags that name them.
fn files(dir: &Path, screens: &str) -> (PathBuf, Vec<String>) {
    let users = dir.join("users.toml");
    std::fs::write(
        &users,
        format!("[[user]]\nemail = \"irene@noc.example\"\ntoken = \"{USER}\"\n"),
    )
    .expect("write users");
    let screens_path = dir.join("screens.toml");
    std::fs::write(&screens_path, screens).expect("write screens");
    let flags = vec![
        "--users-file".to_owned(),
        users.display().to_string(),
        "--screens-file".to_owned(),
        screens_path.display().to_string(),
    ];
    (screens_path, flags)
}

async fn start(dir: &Path, screens: &str) -> TestServer {
    let (_, flags) = files(dir, screens);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    TestServer::start(&flags).await
}

const WALL_3: &str = r#"
[screen."wall-3"]
title = "Tanzania NOC"
sites = ["Kilimanjaro"]
min_severity = "warning"
view = "board"
"#;

async fn put_profile(server: &TestServer, name: &str, body: &Value) -> reqwest::Response {
    server
        .http
        .put(server.url(&format!("/api/v1/screens/{name}/profile")))
        .bearer_auth(USER)
        .json(body)
        .send()
        .await
        .expect("PUT profile")
}

async fn delete_profile(server: &TestServer, name: &str) -> reqwest::StatusCode {
    server
        .http
        .delete(server.url(&format!("/api/v1/screens/{name}/profile")))
        .bearer_auth(USER)
        .send()
        .await
        .expect("DELETE profile")
        .status()
}

async fn identify(server: &TestServer, name: &str) -> reqwest::StatusCode {
    server
        .http
        .post(server.url(&format!("/api/v1/screens/{name}/identify")))
        .bearer_auth(USER)
        .send()
        .await
        .expect("POST identify")
        .status()
}

/// Expects a `profile` event and then its snapshot, and returns both.
async fn profile_change(screen: &mut Screen) -> (Option<Profile>, Snapshot) {
    let profile = match screen.next().await {
        ServerMessage::Profile { profile } => profile,
        other => panic!("expected a profile event, got {other:?}"),
    };
    let snapshot = screen.snapshot().await;
    assert_eq!(snapshot.reason, SnapshotReason::Profile);
    assert_eq!(snapshot.profile, profile, "the snapshot carries it too");
    (profile, snapshot)
}

/// The `profile` column of `/api/v1/screens`, by screen name.
async fn listed_profiles(server: &TestServer) -> Vec<(String, Value)> {
    let list = server.get_json("/api/v1/screens").await;
    list.as_array()
        .expect("a list")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or("").to_owned(),
                s["profile"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_snapshot_carries_the_profile_and_its_filter_replaces_the_screens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), WALL_3).await;
    let mut wall = Screen::connect(&server.ws_url("client=wall-3&sites=Kampala")).await;
    let snapshot = wall.snapshot().await;
    let profile = snapshot.profile.expect("wall-3 has a profile");
    assert_eq!(profile.title.as_deref(), Some("Tanzania NOC"));
    assert_eq!(snapshot.sites, Some(vec!["Kilimanjaro".to_owned()]));
    assert_eq!(snapshot.min_severity, Severity::Warning);
    let mut other = Screen::connect(&server.ws_url("client=lobby&sites=Kampala")).await;
    let snapshot = other.snapshot().await;
    assert_eq!(snapshot.profile, None);
    assert_eq!(snapshot.sites, Some(vec!["Kampala".to_owned()]));

    // The hub filters by the profile: Kampala and an info alert pass by.
    server.post_ok(&alert("kla-1", "Kampala", "critical")).await;
    server
        .post_ok(&alert("kili-info", "Kilimanjaro", "info"))
        .await;
    let marker = server.post_marker("Kilimanjaro").await;
    wall.expect_marker(&marker).await;

    let listed = listed_profiles(&server).await;
    assert!(
        listed.contains(&("wall-3".into(), json!("wall-3"))),
        "{listed:?}"
    );
    assert!(
        listed.contains(&("lobby".into(), Value::Null)),
        "{listed:?}"
    );
    server.stop_and_drop_database().await;
}

#[tokio::test]
async fn a_put_reaches_the_screen_within_a_second_and_a_delete_restores_its_own_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), "").await;
    server
        .post_ok(&alert("kili-1", "Kilimanjaro", "high"))
        .await;
    server.post_ok(&alert("kla-1", "Kampala", "high")).await;
    let mut wall = Screen::connect(&server.ws_url("client=wall-3&sites=Kampala")).await;
    let snapshot = wall.snapshot().await;
    assert_eq!(snapshot.profile, None);
    assert_eq!(snapshot.alerts.len(), 1);

    let asked = Instant::now();
    let response = put_profile(
        &server,
        "wall-3",
        &json!({"title": "Kili", "sites": ["Kilimanjaro"], "bell": "critical"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let (profile, snapshot) = profile_change(&mut wall).await;
    assert!(asked.elapsed() < PROMPT, "took {:?}", asked.elapsed());
    assert_eq!(profile.and_then(|p| p.title).as_deref(), Some("Kili"));
    assert_eq!(snapshot.sites, Some(vec!["Kilimanjaro".to_owned()]));
    let ids: Vec<_> = snapshot.alerts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["kili-1"]);
    // The hub's filter changed with it: Kampala no longer reaches it.
    server.post_ok(&alert("kla-2", "Kampala", "critical")).await;
    let marker = server.post_marker("Kilimanjaro").await;
    wall.expect_marker(&marker).await;

    let asked = Instant::now();
    assert_eq!(delete_profile(&server, "wall-3").await, 204);
    let (profile, snapshot) = profile_change(&mut wall).await;
    assert!(asked.elapsed() < PROMPT, "took {:?}", asked.elapsed());
    assert_eq!(profile, None);
    assert_eq!(snapshot.sites, Some(vec!["Kampala".to_owned()]));
    let marker = server.post_marker("Kampala").await;
    wall.expect_marker(&marker).await;
    assert_eq!(delete_profile(&server, "wall-3").await, 404);
    let listed = listed_profiles(&server).await;
    assert_eq!(listed, [("wall-3".to_owned(), Value::Null)]);
    server.stop_and_drop_database().await;
}

#[tokio::test]
async fn a_bad_profile_is_refused_with_what_to_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), "").await;
    for (body, names) in [
        (json!({"view": "grid"}), "view"),
        (json!({"colour": "red"}), "colour"),
        (json!({"min_severity": "dire"}), "min_severity"),
        (json!({"rotate": "soon"}), "rotate"),
        (json!({"sites": "Kilimanjaro"}), "sites"),
        (json!(["board"]), "object"),
    ] {
        let response = put_profile(&server, "wall-3", &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.expect("JSON error");
        let message = error["error"].as_str().expect("an error message");
        assert!(message.contains(names), "{body}: {message}");
    }
    let anonymous = server
        .http
        .put(server.url("/api/v1/screens/wall-3/profile"))
        .json(&json!({}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(anonymous.status(), 401);
    // Nothing was stored: a new screen of that name has no profile.
    let mut wall = Screen::connect(&server.ws_url("client=wall-3")).await;
    assert_eq!(wall.snapshot().await.profile, None);
    server.stop_and_drop_database().await;
}

#[tokio::test]
async fn identify_reaches_every_screen_of_that_name_and_no_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), "").await;
    let mut first = Screen::connect(&server.ws_url("client=wall-3")).await;
    let mut second = Screen::connect(&server.ws_url("client=wall-3")).await;
    let mut other = Screen::connect(&server.ws_url("client=wall-4")).await;
    for screen in [&mut first, &mut second, &mut other] {
        screen.snapshot().await;
    }
    assert_eq!(identify(&server, "wall-3").await, 202);
    for screen in [&mut first, &mut second] {
        let message = screen.next().await;
        assert!(matches!(message, ServerMessage::Identify), "{message:?}");
    }
    let marker = server.post_marker("Kilimanjaro").await;
    other.expect_marker(&marker).await;
    server.stop_and_drop_database().await;
}

#[tokio::test]
async fn sighup_reads_the_screens_file_again_and_a_bad_one_keeps_the_old() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = fresh_database(&dir).await;
    let (screens, flags) = files(dir.path(), WALL_3);
    let mut server = Process::start(&database, &flags).await;
    let mut wall = server.screen("client=wall-3").await;
    let snapshot = wall.snapshot().await;
    assert_eq!(
        snapshot.profile.and_then(|p| p.title).as_deref(),
        Some("Tanzania NOC")
    );
    // A profile set through the API, of a name the file does not hold.
    let http = reqwest::Client::new();
    let put = http
        .put(server.url("/api/v1/screens/wall-9/profile"))
        .bearer_auth(USER)
        .json(&json!({"title": "From the API"}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(put.status(), 200);

    std::fs::write(&screens, WALL_3.replace("Tanzania NOC", "Dar NOC")).expect("rewrite");
    let asked = Instant::now();
    server.signal("HUP");
    let (profile, _) = profile_change(&mut wall).await;
    assert!(asked.elapsed() < PROMPT, "took {:?}", asked.elapsed());
    assert_eq!(profile.and_then(|p| p.title).as_deref(), Some("Dar NOC"));
    let mut api_wall = server.screen("client=wall-9").await;
    let kept = api_wall.snapshot().await.profile;
    assert_eq!(kept.and_then(|p| p.title).as_deref(), Some("From the API"));

    // Line 3 does not parse: refused, named, and the old profiles stay.
    std::fs::write(
        &screens,
        "[screen.\"wall-3\"]\ntitle = \"Broken\"\nview = \n",
    )
    .expect("rewrite");
    server.signal("HUP");
    let line = server.log_line(&["screens.toml", "line 3"]).await;
    assert!(line.contains("refused"), "{line}");
    let mut late = server.screen("client=wall-3").await;
    let kept = late.snapshot().await.profile;
    assert_eq!(kept.and_then(|p| p.title).as_deref(), Some("Dar NOC"));
    // The screen stayed connected and heard no change.
    let post = http
        .post(server.url("/internal/alerts"))
        .bearer_auth(INGEST)
        .json(&alert("marker-hup", "Kilimanjaro", "critical"))
        .send()
        .await
        .expect("POST");
    assert_eq!(post.status(), 200);
    wall.expect_marker("marker-hup").await;
    server.signal("TERM");
    let status = within("the server to exit", server.child.wait()).await;
    assert!(status.expect("exit status").success());
    common::drop_postgres_database(&database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_put_on_one_instance_reaches_a_screen_on_the_other() {
    let Some(base) = postgres_url() else {
        println!(
            "skipped: NOC_TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)"
        );
        return;
    };
    let database = fresh_postgres_database(&base).await;
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let (_, flags) = files(dir.path(), "");
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let a = TestServer::start_on(dir.clone(), database.clone(), "127.0.0.1:0", &flags).await;
    let b = TestServer::start_on(dir, database, "127.0.0.1:0", &flags).await;
    let mut wall = Screen::connect(&b.ws_url("client=wall-3&sites=Kampala")).await;
    assert_eq!(wall.snapshot().await.profile, None);

    let asked = Instant::now();
    let put = put_profile(&a, "wall-3", &json!({"sites": ["Kilimanjaro"]})).await;
    assert_eq!(put.status(), 200);
    let (profile, snapshot) = profile_change(&mut wall).await;
    assert!(asked.elapsed() < PROMPT, "took {:?}", asked.elapsed());
    assert!(profile.is_some());
    assert_eq!(snapshot.sites, Some(vec!["Kilimanjaro".to_owned()]));

    assert_eq!(identify(&a, "wall-3").await, 202);
    let message = wall.next().await;
    assert!(matches!(message, ServerMessage::Identify), "{message:?}");
    assert_eq!(delete_profile(&a, "wall-3").await, 204);
    let (profile, snapshot) = profile_change(&mut wall).await;
    assert_eq!(profile, None);
    assert_eq!(snapshot.sites, Some(vec!["Kampala".to_owned()]));
    a.stop().await;
    b.stop_and_drop_database().await;
}

#[tokio::test]
async fn the_demo_has_its_countries_and_two_profiles() {
    let server = TestServer::start(&["--demo"]).await;
    let mut country = Screen::connect(&server.ws_url("sites=Uganda")).await;
    let snapshot = country.snapshot().await;
    assert_eq!(
        snapshot.sites,
        Some(vec!["Kampala".to_owned(), "Entebbe".to_owned()])
    );
    let mut wall = Screen::connect(&server.ws_url("client=wall-1")).await;
    let snapshot = wall.snapshot().await;
    let profile = snapshot.profile.expect("the demo's wall-1");
    assert_eq!(profile.title.as_deref(), Some("Tanzania NOC"));
    let tanzania = ["Kilimanjaro", "Serengeti", "Dar es Salaam"].map(String::from);
    assert_eq!(snapshot.sites, Some(tanzania.to_vec()));
    assert!(snapshot.alerts.iter().all(|a| tanzania.contains(&a.site)));
    let mut other = Screen::connect(&server.ws_url("client=wall-2")).await;
    let profile = other.snapshot().await.profile.expect("the demo's wall-2");
    assert_eq!(profile.rotate_every(), Some(Duration::from_secs(20)));
    server.stop_and_drop_database().await;
}
