//! The write-back outbox and its worker, on the real store (SQLite, or
//! PostgreSQL under `NOC_TEST_STORE=postgres`) against a real
//! Alertmanager: an operator's ack queued in its own write becomes a
//! silence, and the alert shows `writeback` pending then done; the unack
//! deletes it. With Alertmanager down the write-back stays pending with the
//! reason, survives a restart of the server's parts, and is sent once when
//! Alertmanager is back. On PostgreSQL, two instances send each row once.
//! An Alertmanager that is down (a stand-in answering 503) is probed once
//! per backoff, not sent every pending write-back; when it answers again
//! they all go; after 24 h they fail untried.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::alertmanager::{Alertmanager, alertmanager_binary};
use common::{fresh_database, postgres_url, skip_or_fail};
use noc_server::change::{Action, Actor, AlertInput, WriteOp};
use noc_server::event::{Event, Publish};
use noc_server::metrics::Metrics;
use noc_server::store::outbox::Attempt;
use noc_server::store::{self, Store};
use noc_server::writeback::worker::{self, Target, TargetKind, Targets};
use noc_server::writer::Writer;
use noc_shared::{Alert, EventKind, EventReason, Writeback, WritebackState};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const SOURCE: &str = "am-kili";
const IRENE: &str = "irene@sprinttz.example";

/// The events the writer publishes, as a screen would get them.
#[derive(Default)]
struct Collect(Mutex<Vec<Event>>);

impl Publish for Collect {
    fn publish(&self, event: &Event) {
        self.0.lock().expect("lock").push(event.clone());
    }
    fn resync_all(&self) {}
}

/// The server's parts that write-back needs: the store, the writer and
/// the worker, with `SOURCE` written back to the Alertmanager at `am`.
struct Parts {
    store: Arc<dyn Store>,
    writer: Writer,
    events: Arc<Collect>,
    shutdown: CancellationToken,
    worker: Option<tokio::task::JoinHandle<()>>,
    am: String,
}

impl Parts {
    async fn start(database: &str, am: &str) -> Parts {
        let mut parts = Parts::without_worker(database, am).await;
        parts.start_worker();
        parts
    }

    /// The store and the writer, with no worker yet.
    async fn without_worker(database: &str, am: &str) -> Parts {
        let store = store::open(database).await.expect("open the store");
        store
            .set_writeback_sources(&[(SOURCE.into(), "alertmanager".into())])
            .await
            .expect("writeback sources");
        let events = Arc::new(Collect::default());
        let (writer, _task) = Writer::start(
            store.clone(),
            Some(events.clone() as Arc<dyn Publish>),
            Metrics::default(),
        );
        Parts {
            store,
            writer,
            events,
            shutdown: CancellationToken::new(),
            worker: None,
            am: am.to_owned(),
        }
    }

    fn start_worker(&mut self) {
        let am = self.am.clone();
        let targets: Targets = Arc::new(move |name: &str| {
            (name == SOURCE).then(|| Target {
                kind: TargetKind::Alertmanager,
                api_url: am.clone(),
                token_file: None,
            })
        });
        self.worker = Some(tokio::spawn(worker::run(
            self.store.clone(),
            self.writer.clone(),
            targets,
            Metrics::default(),
            self.shutdown.clone(),
        )));
    }

    async fn stop(self) {
        self.shutdown.cancel();
        if let Some(worker) = self.worker {
            let _ = worker.await;
        }
    }

    /// One op; its alert as stored.
    async fn write(&self, by: Actor, action: Action) -> Alert {
        let outcomes = self
            .writer
            .write(vec![WriteOp::new(by, action)])
            .await
            .expect("write");
        outcomes[0].alert.clone()
    }

    /// Raises alert `id` from the Alertmanager source, with labels.
    async fn raise(&self, id: &str) -> Alert {
        let input = AlertInput::from_json(&json!({
            "id": id, "site": "Kilimanjaro", "severity": "critical",
            "message": "Uplink rtr-01 to Arusha is down", "source": SOURCE,
            "labels": {"alertname": "LinkDown", "instance": format!("{id}:9116")}
        }))
        .expect("valid input");
        self.write(Actor::Source(SOURCE.into()), Action::Ingest(input))
            .await
    }

    async fn ack(&self, id: &str) -> Alert {
        self.write(
            Actor::User(IRENE.into()),
            Action::Ack {
                id: id.into(),
                note: Some("fibre cut".into()),
                expires_in: None,
            },
        )
        .await
    }

    /// Waits until alert `id` shows a write-back that `want` accepts.
    async fn writeback(&self, id: &str, want: impl Fn(&Writeback) -> bool) -> Writeback {
        let start = Instant::now();
        loop {
            let alert = self.store.get(id).await.expect("get").expect("stored");
            if let Some(w) = alert.writeback.filter(|w| want(w)) {
                return w;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "writeback of {id}: {:?}",
                self.store.get(id).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn silences(am: &str) -> Vec<Value> {
    let all: Value = reqwest::get(format!("{am}/api/v2/silences"))
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    all.as_array().cloned().unwrap_or_default()
}

fn active(silences: &[Value]) -> Vec<&Value> {
    silences
        .iter()
        .filter(|s| s["status"]["state"] == "active")
        .collect()
}

fn binary() -> Option<std::path::PathBuf> {
    let found = alertmanager_binary();
    if found.is_none() {
        skip_or_fail(
            "NOC_REQUIRE_ALERTMANAGER",
            "Alertmanager (prometheus-alertmanager)",
        );
    }
    found
}

#[tokio::test]
async fn an_ack_becomes_a_silence_and_the_unack_deletes_it() {
    let Some(binary) = binary() else { return };
    let am = Alertmanager::start(&binary, "http://127.0.0.1:9/").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let database = fresh_database(&dir).await;
    let parts = Parts::start(&database, &am.base).await;

    let raised = parts.raise("am-1").await;
    assert_eq!(
        raised.writeback, None,
        "a source's own write is not written back"
    );
    let acked = parts.ack("am-1").await;
    assert_eq!(
        acked.writeback,
        Some(Writeback {
            state: WritebackState::Pending,
            error: None
        }),
        "pending in the ack's own write"
    );
    parts
        .writeback("am-1", |w| w.state == WritebackState::Done)
        .await;
    let all = silences(&am.base).await;
    let live = active(&all);
    assert_eq!(live.len(), 1, "{all:?}");
    assert_eq!(live[0]["createdBy"], IRENE);
    assert_eq!(live[0]["comment"], "fibre cut");
    let mut names: Vec<&str> = live[0]["matchers"]
        .as_array()
        .expect("matchers")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["alertname", "instance"]);
    let shown = parts.events.0.lock().expect("lock").iter().any(|e| {
        e.kind == EventKind::Updated
            && e.reason == Some(EventReason::Writeback)
            && e.alert
                .writeback
                .as_ref()
                .is_some_and(|w| w.state == WritebackState::Done)
    });
    assert!(shown, "alert.updated with reason writeback");

    // The unack deletes the silence.
    let unacked = parts
        .write(
            Actor::User(IRENE.into()),
            Action::Unack { id: "am-1".into() },
        )
        .await;
    assert_eq!(
        unacked.writeback.map(|w| w.state),
        Some(WritebackState::Pending)
    );
    let start = Instant::now();
    while !active(&silences(&am.base).await).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the silence was never deleted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    parts
        .writeback("am-1", |w| w.state == WritebackState::Done)
        .await;
    let counts = parts.store.writeback_counts().await.expect("counts");
    assert_eq!(
        counts.get(SOURCE).map(|c| (c.pending, c.failed)),
        None,
        "{counts:?}"
    );
    parts.stop().await;
}

#[tokio::test]
async fn alertmanager_down_keeps_it_pending_across_a_restart_and_sends_it_once_when_back() {
    let Some(binary) = binary() else { return };
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let database = fresh_database(&dir).await;

    // Alertmanager is down during the ack.
    let parts = Parts::start(&database, &base).await;
    parts.raise("am-2").await;
    parts.ack("am-2").await;
    let pending = parts
        .writeback("am-2", |w| {
            w.state == WritebackState::Pending && w.error.is_some()
        })
        .await;
    assert!(
        pending
            .error
            .as_deref()
            .is_some_and(|e| e.contains("cannot connect")),
        "{pending:?}"
    );
    let counts = parts.store.writeback_counts().await.expect("counts");
    assert_eq!(counts.get(SOURCE).map(|c| c.pending), Some(1), "{counts:?}");
    parts.stop().await;

    // The server restarts; then Alertmanager is back.
    let parts = Parts::start(&database, &base).await;
    let am = Alertmanager::start_on(&binary, "http://127.0.0.1:9/", port).await;
    let done = parts
        .writeback("am-2", |w| w.state == WritebackState::Done)
        .await;
    assert_eq!(done.error, None);
    // Once: a second worker round sends nothing more.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(active(&silences(&am.base).await).len(), 1);
    parts.stop().await;
}

/// Two instances on one PostgreSQL database claim with `SKIP LOCKED`:
/// every write-back is sent exactly once.
#[tokio::test]
async fn two_instances_send_each_write_back_once() {
    let Some(binary) = binary() else { return };
    let Some(base) = postgres_url() else {
        eprintln!("skipped: NOC_TEST_DATABASE_URL is not set (PostgreSQL)");
        return;
    };
    let am = Alertmanager::start(&binary, "http://127.0.0.1:9/").await;
    let database = common::fresh_postgres_database(&base).await;
    // Queued with no worker running, then both workers start at once
    // and find the same rows due.
    let mut one = Parts::without_worker(&database, &am.base).await;
    let mut two = Parts::without_worker(&database, &am.base).await;
    let ids: Vec<String> = (0..12).map(|i| format!("am-pair-{i}")).collect();
    for id in &ids {
        one.raise(id).await;
        one.ack(id).await;
    }
    one.start_worker();
    two.start_worker();
    for id in &ids {
        one.writeback(id, |w| w.state == WritebackState::Done).await;
    }
    let all = silences(&am.base).await;
    assert_eq!(
        active(&all).len(),
        ids.len(),
        "one silence per ack: {all:?}"
    );
    one.stop().await;
    two.stop().await;
    common::drop_postgres_database(&database).await;
}

/// Finished write-backs go after 30 days, in batches; an ack whose silence
/// is still up stays, or its unack could not find the silence.
#[tokio::test]
async fn finished_write_backs_are_pruned_but_not_a_live_silence() {
    let Some(binary) = binary() else { return };
    let am = Alertmanager::start(&binary, "http://127.0.0.1:9/").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let database = fresh_database(&dir).await;
    let parts = Parts::start(&database, &am.base).await;
    parts.raise("am-3").await;
    parts.ack("am-3").await;
    parts
        .writeback("am-3", |w| w.state == WritebackState::Done)
        .await;
    // Without labels there is nothing to silence by: failed at once.
    let bare = AlertInput::from_json(&json!({"id": "am-4", "site": "Kilimanjaro",
        "severity": "high", "message": "no labels", "source": SOURCE}))
    .expect("valid input");
    parts
        .write(Actor::Source(SOURCE.into()), Action::Ingest(bare))
        .await;
    parts.ack("am-4").await;
    let failed = parts
        .writeback("am-4", |w| w.state == WritebackState::Failed)
        .await;
    assert!(
        failed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no labels")),
        "{failed:?}"
    );
    let counts = parts.store.writeback_counts().await.expect("counts");
    assert_eq!(counts.get(SOURCE).map(|c| c.failed), Some(1));

    // Nothing is 30 days old yet: the worker prunes what was queued
    // before now - 30 days.
    let month = chrono::Duration::days(30);
    let now = chrono::Utc::now();
    let pruned = parts.store.prune_writebacks(now - month, 100).await;
    assert_eq!(pruned.expect("prune"), 0);
    // A month on: the failed one goes, the live silence's ack stays.
    let later = now + chrono::Duration::days(1);
    let pruned = parts.store.prune_writebacks(later, 100).await;
    assert_eq!(pruned.expect("prune"), 1);
    let counts = parts.store.writeback_counts().await.expect("counts");
    assert_eq!(counts.get(SOURCE).map(|c| c.failed), None, "{counts:?}");
    assert!(
        parts
            .store
            .open_silence("am-3")
            .await
            .expect("read")
            .is_some()
    );
    parts.stop().await;
}

/// A stand-in Alertmanager that answers 503 to each silence asked of it
/// until it is `up`, and counts the silences it refused and accepted.
#[derive(Clone, Default)]
struct Stub {
    refused: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
    up: Arc<AtomicBool>,
}

impl Stub {
    /// Serves on a free port; answers its base address.
    async fn serve(&self) -> String {
        let stub = self.clone();
        let app = axum::Router::new().route(
            "/api/v2/silences",
            axum::routing::post(move || {
                let stub = stub.clone();
                async move {
                    if stub.up.load(Ordering::SeqCst) {
                        let n = stub.accepted.fetch_add(1, Ordering::SeqCst);
                        (
                            axum::http::StatusCode::OK,
                            axum::Json(json!({"silenceID": format!("s-{n}")})),
                        )
                    } else {
                        stub.refused.fetch_add(1, Ordering::SeqCst);
                        (
                            axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            axum::Json(json!({"error": "down for maintenance"})),
                        )
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }
}

/// Fifty acks pending to an Alertmanager that answers 503: the worker
/// probes it once per backoff (1 s, then 2 s) instead of trying each of
/// them on its own; once it answers, all fifty go within moments of the
/// next probe, each once.
#[tokio::test]
async fn a_source_that_is_down_is_probed_not_hammered() {
    let stub = Stub::default();
    let base = stub.serve().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let database = fresh_database(&dir).await;
    let mut parts = Parts::without_worker(&database, &base).await;
    let ids: Vec<String> = (0..50).map(|i| format!("am-down-{i}")).collect();
    for id in &ids {
        parts.raise(id).await;
        parts.ack(id).await;
    }
    parts.start_worker();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let probes = stub.refused.load(Ordering::SeqCst);
    // At 0 s, 1 s and 3 s; a fourth at most if the machine is slow.
    assert!(
        (1..=4).contains(&probes),
        "{probes} requests in 3 s to a source that is down"
    );
    let counts = parts.store.writeback_counts().await.expect("counts");
    let pending = counts.get(SOURCE).expect("counts of the source");
    assert_eq!(pending.pending, 50, "{counts:?}");
    assert!(
        pending
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("HTTP 503")),
        "{counts:?}"
    );

    stub.up.store(true, Ordering::SeqCst);
    let back = Instant::now();
    for id in &ids {
        parts
            .writeback(id, |w| w.state == WritebackState::Done)
            .await;
    }
    // The next probe is at most 4 s away; then the rest drain at once.
    assert!(
        back.elapsed() < Duration::from_secs(8),
        "all done {:?} after the source was back",
        back.elapsed()
    );
    assert_eq!(
        stub.accepted.load(Ordering::SeqCst),
        ids.len(),
        "each sent once"
    );
    parts.stop().await;
    common::drop_postgres_database(&database).await;
}

/// Runs `sql` on the test's database and answers the first column of its
/// first row, if any (an `UPDATE` answers none).
async fn raw(database: &str, sql: &str) -> Option<i64> {
    use sqlx::Connection;
    if database.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(database)
            .await
            .expect("connect");
        sqlx::query_scalar(sql)
            .fetch_optional(&mut conn)
            .await
            .expect("SQL")
    } else {
        let mut conn = sqlx::SqliteConnection::connect(database)
            .await
            .expect("open");
        sqlx::query_scalar(sql)
            .fetch_optional(&mut conn)
            .await
            .expect("SQL")
    }
}

/// The postponing statement moves the source's rows due before the probe,
/// and the claimed rows the worker held back, to the probe; a row claimed
/// and not held keeps its lease; rows pending for 24 h are not postponed;
/// none gains an attempt, and a row given up untried neither.
#[tokio::test]
async fn postponing_moves_due_and_held_rows_to_the_probe_and_leaves_attempts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = fresh_database(&dir).await;
    let parts = Parts::without_worker(&database, "http://127.0.0.1:9").await;
    for id in ["am-p-1", "am-p-2", "am-p-3"] {
        parts.raise(id).await;
        parts.ack(id).await;
    }
    let t = noc_server::change::now();
    let secs = chrono::Duration::seconds;
    let claimed = parts.store.claim_writebacks(t, 2).await.expect("claim");
    assert_eq!(claimed.len(), 2);
    let (leased, held) = (&claimed[0], &claimed[1]);
    let postponed = parts
        .store
        .postpone_writebacks(SOURCE, t + secs(5), &[held.id], t)
        .await
        .expect("postpone");
    assert_eq!(postponed, 2, "the held row and the unclaimed one");
    let early = parts.store.claim_writebacks(t + secs(4), 16).await;
    assert_eq!(
        early.expect("claim").len(),
        0,
        "nothing due before the probe"
    );
    let at_probe = parts.store.claim_writebacks(t + secs(5), 16).await;
    let at_probe = at_probe.expect("claim");
    let ids: Vec<i64> = at_probe.iter().map(|r| r.id).collect();
    assert!(!ids.contains(&leased.id), "still leased: {ids:?}");
    assert!(ids.contains(&held.id), "{ids:?}");
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(at_probe.iter().all(|r| r.attempts == 0), "{at_probe:?}");

    // A day on, every row has been pending for 24 h: none is postponed
    // but one held.
    let day = t + chrono::Duration::hours(25);
    let postponed = parts
        .store
        .postpone_writebacks(SOURCE, day + secs(300), &[], day)
        .await
        .expect("postpone");
    assert_eq!(postponed, 0);
    let postponed = parts
        .store
        .postpone_writebacks(SOURCE, day + secs(300), &[held.id], day)
        .await
        .expect("postpone");
    assert_eq!(postponed, 1);
    let expired = Attempt::Expired("Alertmanager refused the silence: HTTP 503".into());
    let (alert, shown) = parts
        .store
        .finish_writeback(held.id, &expired, day)
        .await
        .expect("finish")
        .expect("a row");
    assert_eq!(
        shown.map(|w| (w.state, w.error.is_some_and(|e| e.contains("HTTP 503")))),
        Some((WritebackState::Failed, true)),
        "{alert}"
    );
    let attempts = raw(
        &database,
        &format!("SELECT attempts FROM outbox WHERE id = {}", held.id),
    )
    .await;
    assert_eq!(attempts, Some(0), "given up untried");
    parts.stop().await;
    common::drop_postgres_database(&database).await;
}

/// Write-backs to a source that has been down for 24 h end `failed` with
/// its error as before, without each being tried first.
#[tokio::test]
async fn write_backs_to_a_source_down_for_a_day_fail_untried() {
    let stub = Stub::default();
    let base = stub.serve().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let database = fresh_database(&dir).await;
    let mut parts = Parts::without_worker(&database, &base).await;
    let ids = ["am-day-1", "am-day-2", "am-day-3"];
    for id in ids {
        parts.raise(id).await;
        parts.ack(id).await;
    }
    parts.start_worker();
    // Tried once, and the others postponed to the probe (not leased for
    // a minute any more).
    let start = Instant::now();
    let soon = "SELECT COUNT(*) FROM outbox \
                WHERE next_at > created_at AND next_at - created_at < 10000";
    while raw(&database, soon).await != Some(3) {
        assert!(start.elapsed() < Duration::from_secs(10), "never postponed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stub.refused.load(Ordering::SeqCst), 1);
    // As if queued a day ago.
    let day = 25 * 3600 * 1000;
    raw(
        &database,
        &format!("UPDATE outbox SET created_at = created_at - {day}"),
    )
    .await;
    for id in ids {
        let failed = parts
            .writeback(id, |w| w.state == WritebackState::Failed)
            .await;
        assert!(
            failed
                .error
                .as_deref()
                .is_some_and(|e| e.contains("HTTP 503")),
            "{id}: {failed:?}"
        );
    }
    // The first try, and the probe that found it still down.
    assert_eq!(stub.refused.load(Ordering::SeqCst), 2);
    let untried = raw(&database, "SELECT COUNT(*) FROM outbox WHERE attempts = 0").await;
    assert_eq!(untried, Some(2));
    parts.stop().await;
    common::drop_postgres_database(&database).await;
}
