//! Several servers on one PostgreSQL: every screen sees every instance's
//! alerts in one seq order; a lost listener resyncs its screens; a lost
//! database makes `/healthz` answer 503 while screens stay connected; an
//! expiry that every instance's clock fires is emitted once.
//!
//! Needs `NOC_TEST_DATABASE_URL` (e.g. postgres://postgres@127.0.0.1:5432/test);
//! without it these tests say so and pass.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Screen, TestServer, alert, fresh_postgres_database, postgres_url, within};
use noc_shared::{ServerMessage, SnapshotReason};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// These tests cut, kill and share database connections: they run one at a
/// time, so that one's faults do not land in another's timing.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn base_or_skip(test: &str) -> Option<String> {
    let url = postgres_url();
    if url.is_none() {
        println!(
            "skipped {test}: NOC_TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)"
        );
    }
    url
}

/// Two servers on one fresh database.
async fn pair(base: &str, extra: &[&str]) -> (TestServer, TestServer) {
    let database = fresh_postgres_database(base).await;
    let a = TestServer::start_on(
        Arc::new(tempfile::tempdir().expect("tempdir")),
        database.clone(),
        "127.0.0.1:0",
        extra,
    )
    .await;
    let b = TestServer::start_on(
        Arc::new(tempfile::tempdir().expect("tempdir")),
        database,
        "127.0.0.1:0",
        extra,
    )
    .await;
    (a, b)
}

/// The seqs and ids of the next `n` alert events.
async fn events(screen: &mut Screen, n: usize) -> Vec<(u64, String)> {
    let mut got = Vec::new();
    while got.len() < n {
        let msg = screen.next().await;
        let (_, e) = msg
            .as_alert_event()
            .unwrap_or_else(|| panic!("expected an event, got {msg:?}"));
        got.push((e.seq, e.alert.id.clone()));
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn screens_on_each_instance_see_alerts_posted_to_either_in_seq_order() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(base) =
        base_or_skip("screens_on_each_instance_see_alerts_posted_to_either_in_seq_order")
    else {
        return;
    };
    let (a, b) = pair(&base, &[]).await;
    let mut on_a = Screen::connect(&a.ws_url("")).await;
    let mut on_b = Screen::connect(&b.ws_url("sites=North")).await;
    let start = on_a.snapshot().await.seq;
    on_b.snapshot().await;
    // Both instances take writes at the same time.
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut posters = JoinSet::new();
    for (name, server) in [("a", a.clone()), ("b", b.clone())] {
        posters.spawn(async move {
            for i in 0..20 {
                let site = if i % 2 == 0 { "North" } else { "South" };
                server
                    .post_ok(&alert(&format!("{name}{i}"), site, "high"))
                    .await;
            }
        });
    }
    while let Some(done) = posters.join_next().await {
        done.expect("poster");
    }
    let seen_a = events(&mut on_a, 40).await;
    let seqs: Vec<u64> = seen_a.iter().map(|e| e.0).collect();
    assert_eq!(
        seqs,
        (start + 1..=start + 40).collect::<Vec<_>>(),
        "one global order, no gap, no repeat"
    );
    let seen_b = events(&mut on_b, 20).await;
    assert!(
        seen_b.windows(2).all(|w| w[0].0 < w[1].0),
        "in seq order: {seen_b:?}"
    );
    let from_a = seen_b.iter().filter(|e| e.1.starts_with('a')).count();
    assert_eq!(from_a, 10, "alerts posted to the other instance arrive too");
    // Nothing more, South's alerts included: a marker posted to the other
    // instance comes next.
    let marker = a.post_marker("North").await;
    on_b.expect_marker(&marker).await;
    drop((on_a, on_b));
    let (a, b) = (
        Arc::into_inner(a).expect("a"),
        Arc::into_inner(b).expect("b"),
    );
    a.stop().await;
    b.stop_and_drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_stopping_leaves_the_other_serving() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(base) = base_or_skip("one_instance_stopping_leaves_the_other_serving") else {
        return;
    };
    let (a, b) = pair(&base, &[]).await;
    let mut on_b = Screen::connect(&b.ws_url("")).await;
    on_b.snapshot().await;
    a.post_ok(&alert("before", "X", "info")).await;
    assert_eq!(events(&mut on_b, 1).await[0].1, "before");
    a.stop().await;
    b.post_ok(&alert("after", "X", "critical")).await;
    assert_eq!(events(&mut on_b, 1).await[0].1, "after");
    let health = b.http.get(b.url("/healthz")).send().await.expect("healthz");
    assert_eq!(health.status(), 200);
    drop(on_b);
    b.stop_and_drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_listener_resyncs_screens_then_goes_live_again() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(base) = base_or_skip("a_terminated_listener_resyncs_screens_then_goes_live_again")
    else {
        return;
    };
    let database = fresh_postgres_database(&base).await;
    let server = TestServer::start_on(
        Arc::new(tempfile::tempdir().expect("tempdir")),
        database.clone(),
        "127.0.0.1:0",
        &[],
    )
    .await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    server.post_ok(&alert("one", "X", "info")).await;
    assert_eq!(events(&mut screen, 1).await[0].1, "one");

    let name = database.rsplit_once('/').expect("db name").1.to_owned();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("admin connection");
    let killed: Vec<(bool,)> = sqlx::query_as(
        // The event listener by its name: the profiles' news listen too.
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
    )
    .bind(&name)
    .bind("noc-server-listener")
    .fetch_all(&mut admin)
    .await
    .expect("terminate");
    assert_eq!(killed.len(), 1, "one listener connection");

    let snap = within("a resync snapshot", async {
        loop {
            if let ServerMessage::Snapshot(s) = screen.next().await {
                return s;
            }
        }
    })
    .await;
    assert_eq!(snap.reason, SnapshotReason::Lagged);
    assert_eq!(snap.alerts.len(), 1);
    server.post_ok(&alert("two", "X", "info")).await;
    assert_eq!(
        events(&mut screen, 1).await,
        vec![(snap.seq + 1, "two".to_owned())]
    );
    drop(screen);
    server.stop_and_drop_database().await;
}

/// A TCP proxy to PostgreSQL that the test can cut and restore, to make the
/// database unreachable without touching the shared server.
struct Proxy {
    addr: std::net::SocketAddr,
    target: String,
    tasks: JoinSet<()>,
}

impl Proxy {
    async fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut proxy = Proxy {
            addr: listener.local_addr().expect("addr"),
            target: target.to_owned(),
            tasks: JoinSet::new(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: TcpListener) {
        let target = self.target.clone();
        self.tasks.spawn(async move {
            let mut links = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                links.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
    }

    /// Drops every connection and stops accepting.
    fn cut(&mut self) {
        self.tasks.abort_all();
    }

    async fn restore(&mut self) {
        let listener = within("the proxy port", async {
            loop {
                if let Ok(l) = TcpListener::bind(self.addr).await {
                    return l;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        self.serve(listener);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_503_while_the_database_is_unreachable_and_screens_stay() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(base) =
        base_or_skip("healthz_is_503_while_the_database_is_unreachable_and_screens_stay")
    else {
        return;
    };
    let database = fresh_postgres_database(&base).await;
    let rest = database.split_once('@').expect("user@host").1;
    let (host, db) = rest.split_once('/').expect("host/db");
    let mut proxy = Proxy::start(host).await;
    let via_proxy = database.replacen(host, &proxy.addr.to_string(), 1);
    let server = TestServer::start_on(
        Arc::new(tempfile::tempdir().expect("tempdir")),
        via_proxy,
        "127.0.0.1:0",
        &["--heartbeat-interval", "300ms"],
    )
    .await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    // A well-behaved screen: it answers heartbeats while the test looks away.
    let (news, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        while let Some(frame) = screen.ws.next().await {
            let text = match frame {
                Ok(Message::Text(text)) => text,
                Ok(Message::Close(close)) => panic!("the server closed the screen: {close:?}"),
                Ok(_) => continue,
                Err(e) => panic!("the screen's connection failed: {e}"),
            };
            match serde_json::from_str::<ServerMessage>(text.as_str()).expect("a protocol message")
            {
                ServerMessage::Heartbeat { ts } => {
                    screen
                        .send_text(&format!(r#"{{"event":"pong","ts":{ts}}}"#))
                        .await;
                    let _ = news.send(None);
                }
                other => {
                    let _ = news.send(Some(other));
                }
            }
        }
        panic!("the screen's stream ended");
    });

    proxy.cut();
    let health = within("/healthz to answer 503", async {
        loop {
            let r = server
                .http
                .get(server.url("/healthz"))
                .send()
                .await
                .expect("healthz");
            if r.status() == 503 {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(health.json::<serde_json::Value>().await.expect("JSON")["error"].is_string());
    let refused = server.post(&alert("lost", "X", "info")).await;
    assert_eq!(
        refused.status(),
        503,
        "a write is refused, to be retried, while the store is away"
    );
    // The screen is kept: heartbeats go on.
    for _ in 0..3 {
        assert!(
            matches!(within("a heartbeat", inbox.recv()).await, Some(None)),
            "only heartbeats while the store is away"
        );
    }

    proxy.restore().await;
    // The way back takes a listener reconnection (its pool waits between
    // refused tries) and a fresh pool connection for the snapshot: on a
    // busy two-core machine that alone has taken close to 10 s.
    let snap = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match inbox.recv().await {
                Some(Some(ServerMessage::Snapshot(s))) => return Ok(s),
                Some(_) => {}
                None => return Err(()),
            }
        }
    })
    .await
    .expect("the resync after the database came back, within 30 s");
    let Ok(snap) = snap else {
        let why = reader.await.expect_err("the reader ended");
        panic!("no resync: {why}");
    };
    assert_eq!(snap.reason, SnapshotReason::Lagged);
    server.post_ok(&alert("back", "X", "info")).await;
    let back = within("the live event", async {
        loop {
            if let Some(Some(msg)) = inbox.recv().await {
                return msg;
            }
        }
    })
    .await;
    assert_eq!(
        back.as_alert_event().map(|(_, e)| e.alert.id.as_str()),
        Some("back")
    );
    reader.abort();
    server.stop().await;
    common::drop_postgres_database(&format!("{}/{db}", base.rsplit_once('/').expect("base").0))
        .await;
}

/// `/healthz` as (status, body).
async fn health(server: &TestServer) -> (u16, serde_json::Value) {
    let response = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_degraded_while_the_listener_stays_down() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(base) = base_or_skip("healthz_is_degraded_while_the_listener_stays_down") else {
        return;
    };
    let database = fresh_postgres_database(&base).await;
    let server = TestServer::start_on(
        Arc::new(tempfile::tempdir().expect("tempdir")),
        database.clone(),
        "127.0.0.1:0",
        &[],
    )
    .await;
    assert_eq!(health(&server).await.0, 200);

    let name = database.rsplit_once('/').expect("db name").1.to_owned();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("admin connection");
    // The listener connects just after start: wait until it is there.
    within("the listener to connect", async {
        loop {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
            )
            .bind(&name)
            .bind("noc-server-listener")
            .fetch_one(&mut admin)
            .await
            .expect("pg_stat_activity");
            if n == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    // New connections to the database are refused (superusers too), so the
    // listener cannot come back; the pool's open connections still answer.
    let allow = |yes: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {yes}");
    sqlx::query(&allow(false))
        .execute(&mut admin)
        .await
        .expect("block connections");
    let killed: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
    )
    .bind(&name)
    .bind("noc-server-listener")
    .fetch_all(&mut admin)
    .await
    .expect("terminate");
    assert_eq!(
        killed.len(),
        1,
        "one listener connection, found by its name"
    );
    let killed_at = std::time::Instant::now();

    let body = within("/healthz to say degraded", async {
        loop {
            let (status, body) = health(&server).await;
            if status == 503 {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        killed_at.elapsed() >= Duration::from_secs(5),
        "degraded after only {:?}: a reconnection gets 5 s",
        killed_at.elapsed()
    );
    assert_eq!(body["status"], "degraded", "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );

    sqlx::query(&allow(true))
        .execute(&mut admin)
        .await
        .expect("allow connections");
    within("/healthz to be ok again", async {
        while health(&server).await.0 != 200 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    server.stop_and_drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expiry_is_emitted_once_with_two_instances_firing() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(base) = base_or_skip("an_expiry_is_emitted_once_with_two_instances_firing") else {
        return;
    };
    let (a, b) = pair(&base, &[]).await;
    let mut on_a = Screen::connect(&a.ws_url("")).await;
    let mut on_b = Screen::connect(&b.ws_url("")).await;
    on_a.snapshot().await;
    on_b.snapshot().await;
    // Both clocks know the time: each instance had a write with a ttl.
    let mut first = alert("ttl-a", "North", "high");
    first["ttl"] = serde_json::json!("1s");
    let mut second = alert("ttl-b", "North", "high");
    second["ttl"] = serde_json::json!("1s");
    a.post_ok(&first).await;
    b.post_ok(&second).await;
    for screen in [&mut on_a, &mut on_b] {
        let got = events(screen, 4).await;
        let mut resolved: Vec<&str> = got[2..].iter().map(|(_, id)| id.as_str()).collect();
        resolved.sort_unstable();
        assert_eq!(resolved, ["ttl-a", "ttl-b"], "{got:?}");
    }
    // And no second resolve of either: the marker comes next on both.
    let marker = a.post_marker("North").await;
    on_a.expect_marker(&marker).await;
    on_b.expect_marker(&marker).await;
    let history = a.get_json("/api/v1/alerts/ttl-a/history").await;
    let events: Vec<&str> = history
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(events, ["alert.created", "alert.resolved"]);
    b.stop().await;
    a.stop_and_drop_database().await;
}
