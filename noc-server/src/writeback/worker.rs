//! The write-back worker: claims the outbox's due rows, tells each source,
//! records how it went (retried with backoff for 24 h, then `failed`), and
//! shows the outcome on the alert (`alert.updated`, reason `writeback`).
//! It runs beside the writer and never holds it: a source that is slow or
//! down delays only its own write-backs. A source that is down is probed
//! with one write-back per backoff ([`Breakers`]) while its others wait,
//! postponed together by one statement, so that an outage costs the store
//! a few writes, not a retry per write-back.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::alertmanager::Alertmanager;
use super::breaker::Breakers;
use super::zabbix::Zabbix;
use super::{Notice, SendError, http_client};
use crate::change::{Action, Actor, WriteOp, now};
use crate::metrics::Metrics;
use crate::sources::file::{SourceConfig, SourceKind};
use crate::sources::registry::Sources;
use crate::store::Store;
use crate::store::outbox::{Attempt, KEEP_FINISHED, OutboxRow};
use crate::writer::Writer;

/// How often the outbox is looked at when nothing was due: the first retry
/// waits 1 s, so this keeps it close to that.
const POLL: Duration = Duration::from_millis(250);
/// Rows claimed at once.
const BATCH: usize = 16;
/// How often the pending and failed gauges are refreshed.
const GAUGES: Duration = Duration::from_secs(5);

/// The kinds of source the server can write back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Zabbix,
    Alertmanager,
}

impl TargetKind {
    /// The kind's name, as the sources file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Zabbix => "zabbix",
            TargetKind::Alertmanager => "alertmanager",
        }
    }
}

/// Where one source's write-backs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: TargetKind,
    pub api_url: String,
    pub token_file: Option<PathBuf>,
}

/// The target of each written-back source, by name, looked up at each
/// send so that a re-read sources file applies at once.
pub type Targets = Arc<dyn Fn(&str) -> Option<Target> + Send + Sync>;

/// Where `source` writes back: a Zabbix or Alertmanager source with an
/// `api_url`.
pub fn target_of(source: &SourceConfig) -> Option<Target> {
    let kind = match source.kind {
        SourceKind::Zabbix => TargetKind::Zabbix,
        SourceKind::Alertmanager => TargetKind::Alertmanager,
        SourceKind::Grafana | SourceKind::Webhook => return None,
    };
    Some(Target {
        kind,
        api_url: source.api_url.clone()?,
        token_file: source.api_token_file.clone(),
    })
}

/// The targets of the sources in force.
pub fn targets(sources: Arc<Sources>) -> Targets {
    Arc::new(move |name: &str| {
        sources
            .all()
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| target_of(s))
    })
}

/// The written-back sources as the store keeps them, `(name, kind)`, so
/// that an action's own write knows to queue its write-back.
pub fn written_back(sources: &Sources) -> Vec<(String, String)> {
    sources
        .all()
        .iter()
        .filter_map(|s| target_of(s).map(|t| (s.name.clone(), t.kind.as_str().to_owned())))
        .collect()
}

/// Sends write-backs until `shutdown`.
pub async fn run(
    store: Arc<dyn Store>,
    writer: Writer,
    targets: Targets,
    metrics: Metrics,
    shutdown: CancellationToken,
) {
    let http = http_client();
    let mut breakers = Breakers::default();
    let mut gauges_at = Instant::now();
    loop {
        let claimed = match store.claim_writebacks(now(), BATCH).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "write-back: cannot read the outbox");
                Vec::new()
            }
        };
        let full = claimed.len() == BATCH;
        let round = Round {
            http: &http,
            store: store.as_ref(),
            writer: &writer,
            targets: &targets,
            metrics: &metrics,
        };
        for (source, rows) in by_source(claimed) {
            round.send_all(&mut breakers, &source, rows).await;
        }
        if gauges_at.elapsed() >= GAUGES {
            gauges_at = Instant::now();
            refresh_gauges(store.as_ref(), &metrics).await;
            prune(store.as_ref()).await;
        }
        if full {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// The claimed rows grouped by source, each group in the claim's order.
fn by_source(rows: Vec<OutboxRow>) -> Vec<(String, Vec<OutboxRow>)> {
    let mut groups: Vec<(String, Vec<OutboxRow>)> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|(source, _)| *source == row.source) {
            Some((_, group)) => group.push(row),
            None => groups.push((row.source.clone(), vec![row])),
        }
    }
    groups
}

/// What one round of the worker works with.
struct Round<'a> {
    http: &'a reqwest::Client,
    store: &'a dyn Store,
    writer: &'a Writer,
    targets: &'a Targets,
    metrics: &'a Metrics,
}

impl Round<'_> {
    /// Sends `source`'s claimed `rows` in order while the source may be
    /// sent to. Once it is down, the rest are not sent: the ones pending
    /// for 24 h are given up, and the others, with every row of the source
    /// due before its next probe, postponed to that probe.
    async fn send_all(&self, breakers: &mut Breakers, source: &str, rows: Vec<OutboxRow>) {
        let mut rows = rows.into_iter().peekable();
        while let Some(row) = rows.next_if(|_| breakers.may_send(source, now())) {
            let attempt = send(self.http, self.store, self.targets, &row).await;
            count(self.metrics, &row, &attempt);
            judge(breakers, &row, &attempt);
            self.record(&row, &attempt).await;
        }
        let Some(down) = breakers.down(source).filter(|d| d.probe_at > now()) else {
            return;
        };
        let (until, error) = (down.probe_at, down.error.clone());
        let mut held = Vec::new();
        for row in rows {
            if row.given_up(now()) {
                let attempt = Attempt::Expired(error.clone());
                count(self.metrics, &row, &attempt);
                self.record(&row, &attempt).await;
            } else {
                held.push(row.id);
            }
        }
        if let Err(e) = self
            .store
            .postpone_writebacks(source, until, &held, now())
            .await
        {
            tracing::warn!(error = %e, source, "write-back: cannot postpone the source's write-backs");
        }
    }

    async fn record(&self, row: &OutboxRow, attempt: &Attempt) {
        if let Err(e) = finish(self.store, self.writer, row, attempt).await {
            tracing::warn!(error = %e, outbox_id = row.id, "write-back: cannot record the outcome");
        }
    }
}

/// What `attempt` at `row` says of its source: down after an error worth
/// retrying, up after a success; a write-back refused for good says
/// nothing of it. Logs the source going down and coming back, once each.
fn judge(breakers: &mut Breakers, row: &OutboxRow, attempt: &Attempt) {
    let source = row.source.as_str();
    match attempt {
        Attempt::Retry(e) => {
            let tripped = breakers.failed(source, e, now());
            let probe_in = (tripped.probe_at - now()).num_milliseconds() as f64 / 1000.0;
            if tripped.went_down {
                tracing::warn!(source, error = %e, probe_in_s = probe_in, "write-back: source is down; probing it once per backoff, its other write-backs wait");
            } else {
                tracing::debug!(source, error = %e, probe_in_s = probe_in, "write-back: source still down");
            }
        }
        Attempt::Done { .. } => {
            if let Some(down) = breakers.succeeded(source) {
                let down_s = (now() - down.since).num_seconds();
                tracing::info!(
                    source,
                    down_s,
                    failures = down.failures,
                    "write-back: source is back; sending its write-backs"
                );
            }
        }
        Attempt::Failed(_) | Attempt::Expired(_) => {}
    }
}

/// What `row` asks the source to hear.
fn notice(row: &OutboxRow) -> Result<Notice, String> {
    let by = row.actor.clone();
    Ok(match row.action.as_str() {
        "ack" => Notice::Ack {
            by,
            note: row.note.clone(),
            expires_at: row.expires_at(),
        },
        "unack" => Notice::Unack { by },
        "note" => Notice::Note {
            by,
            text: row.note.clone().unwrap_or_default(),
        },
        "resolve" => Notice::Resolve,
        other => return Err(format!("unknown write-back action {other:?}")),
    })
}

/// One attempt at `row`.
async fn send(
    http: &reqwest::Client,
    store: &dyn Store,
    targets: &Targets,
    row: &OutboxRow,
) -> Attempt {
    let Some(target) = targets(&row.source) else {
        return Attempt::Failed(format!(
            "source {} has no api_url in the sources file now",
            row.source
        ));
    };
    let notice = match notice(row) {
        Ok(notice) => notice,
        Err(e) => return Attempt::Failed(e),
    };
    let sent = match target.kind {
        TargetKind::Zabbix => to_zabbix(http, &target, row, &notice).await,
        TargetKind::Alertmanager => to_alertmanager(http, store, &target, row, &notice).await,
    };
    match sent {
        Ok(remote_id) => Attempt::Done { remote_id },
        Err(SendError::Retry(e)) => Attempt::Retry(e),
        Err(SendError::Fail(e)) => Attempt::Failed(e),
    }
}

async fn to_zabbix(
    http: &reqwest::Client,
    target: &Target,
    row: &OutboxRow,
    notice: &Notice,
) -> Result<Option<String>, SendError> {
    let token_file = target.token_file.clone().ok_or_else(|| {
        SendError::Fail(format!(
            "source {} has an api_url but no api_token_file",
            row.source
        ))
    })?;
    let labels = row.labels();
    Zabbix::new(http.clone(), &target.api_url, token_file)
        .send(labels.get("zabbix.eventid").map(String::as_str), notice)
        .await
        .map(|()| None)
}

async fn to_alertmanager(
    http: &reqwest::Client,
    store: &dyn Store,
    target: &Target,
    row: &OutboxRow,
    notice: &Notice,
) -> Result<Option<String>, SendError> {
    let am = Alertmanager::new(http.clone(), &target.api_url, target.token_file.clone());
    let stored = |e: crate::store::StoreError| SendError::Retry(format!("the store: {e}"));
    match notice {
        Notice::Ack {
            by,
            note,
            expires_at,
        } => am
            .silence(&row.labels(), by, note.as_deref(), *expires_at)
            .await
            .map(Some),
        Notice::Unack { .. } | Notice::Resolve => {
            if let Some((ack_row, silence)) =
                store.open_silence(&row.alert_id).await.map_err(stored)?
            {
                am.unsilence(&silence).await?;
                store.close_silence(ack_row).await.map_err(stored)?;
            }
            Ok(None)
        }
        Notice::Note { .. } => Ok(None),
    }
}

fn count(metrics: &Metrics, row: &OutboxRow, attempt: &Attempt) {
    match attempt {
        Attempt::Done { .. } => {
            metrics.writeback_sent.inc();
            tracing::info!(alert_id = %row.alert_id, source = %row.source, action = %row.action, "written back");
        }
        Attempt::Retry(e) => {
            metrics.writeback_retries.inc();
            // The source going down is logged once, by `judge`.
            tracing::debug!(alert_id = %row.alert_id, source = %row.source, action = %row.action, attempts = row.attempts + 1, error = %e, "write-back failed, will retry");
        }
        Attempt::Failed(e) | Attempt::Expired(e) => {
            metrics.writeback_given_up.inc();
            tracing::warn!(alert_id = %row.alert_id, source = %row.source, action = %row.action, error = %e, "write-back failed for good");
        }
    }
}

/// Records the attempt, and shows the alert's write-back as it now stands
/// (an event only when that changed).
async fn finish(
    store: &dyn Store,
    writer: &Writer,
    row: &OutboxRow,
    attempt: &Attempt,
) -> Result<(), String> {
    let finished = store
        .finish_writeback(row.id, attempt, now())
        .await
        .map_err(|e| e.to_string())?;
    let Some((id, writeback)) = finished else {
        return Ok(());
    };
    let op = WriteOp::new(Actor::Server, Action::Writeback { id, writeback });
    match writer.write(vec![op]).await {
        // The alert may be gone (retention): nothing to show it on.
        Ok(_) | Err(crate::writer::WriterError::Refused(_)) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Drops a batch of write-backs finished over [`KEEP_FINISHED`] ago, so
/// the outbox does not grow without bound; small batches keep each delete
/// short beside the writer.
async fn prune(store: &dyn Store) {
    let before = now() - chrono::Duration::from_std(KEEP_FINISHED).unwrap_or_default();
    if let Err(e) = store.prune_writebacks(before, 500).await {
        tracing::warn!(error = %e, "write-back: cannot prune the outbox");
    }
}

async fn refresh_gauges(store: &dyn Store, metrics: &Metrics) {
    if let Ok(counts) = store.writeback_counts().await {
        let sum = |f: fn(&noc_shared::WritebackCounts) -> u64| {
            i64::try_from(counts.values().map(f).sum::<u64>()).unwrap_or(i64::MAX)
        };
        metrics.writeback_pending.set(sum(|c| c.pending));
        metrics.writeback_failed.set(sum(|c| c.failed));
    }
}
