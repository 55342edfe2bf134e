//! The sources' signs of life, watched: what was heard is saved in the
//! store (so a restart remembers), and a source with a `heartbeat` that
//! stays silent longer than that gets the server's own alert
//! `source-silent-<name>`, resolved as soon as the source is heard again.
//!
//! One task ([`run`]) per instance. With several instances on one
//! PostgreSQL each reads the others' signs of life from the store, so a
//! source heard by any instance counts for all.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use noc_shared::{EventKind, Severity, Status};
use tokio_util::sync::CancellationToken;

use crate::change::{Actor, AlertInput, SERVER};
use crate::sources::file::SourceConfig;
use crate::sources::registry::Sources;
use crate::store::{Store, StoreError};
use crate::writer::Writer;

/// How often silences are looked for (a sign of life wakes the task at
/// once): well within the contract's "heartbeat + 1 s".
const TICK: Duration = Duration::from_millis(250);
/// How often the store is told what was heard, and asked what the other
/// instances heard.
const SYNC: Duration = Duration::from_secs(1);

/// The id of the alert a silent source gets.
pub fn silent_id(name: &str) -> String {
    format!("source-silent-{name}")
}

/// Learns when each source was last heard, as the store has it: called
/// before serving, so that the first answers already know.
pub async fn recall(sources: &Sources, store: &dyn Store) -> Result<(), StoreError> {
    let seen = store.load_seen().await?;
    let names: Vec<String> = seen.iter().map(|(n, _)| n.clone()).collect();
    for (name, at) in seen {
        sources.remember(&name, at);
    }
    sources.mark_saved(&names);
    Ok(())
}

/// Watches the sources until `shutdown`.
pub async fn run(
    sources: Arc<Sources>,
    store: Arc<dyn Store>,
    writer: Writer,
    shutdown: CancellationToken,
) {
    let started = Utc::now();
    let mut watch = Watch {
        sources,
        store,
        writer,
        raised: HashSet::new(),
        started,
    };
    watch.sync().await;
    watch.find_raised().await;
    let mut last_sync = tokio::time::Instant::now();
    loop {
        watch.check().await;
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = watch.sources.heard.notified() => {}
            () = tokio::time::sleep(TICK) => {}
        }
        if last_sync.elapsed() >= SYNC {
            watch.sync().await;
            last_sync = tokio::time::Instant::now();
        }
    }
    // What was heard last is not lost with the shutdown.
    watch.sync().await;
}

struct Watch {
    sources: Arc<Sources>,
    store: Arc<dyn Store>,
    writer: Writer,
    /// Sources whose silent alert is active.
    raised: HashSet<String>,
    started: DateTime<Utc>,
}

impl Watch {
    /// Saves what was heard here; learns what was heard elsewhere.
    async fn sync(&mut self) {
        let unsaved = self.sources.take_unsaved();
        if unsaved.is_empty() {
            // Nothing to write: no transaction.
        } else if let Err(e) = self.store.save_seen(&unsaved).await {
            tracing::warn!(error = %e, "cannot save when sources were last heard; retrying");
            for (name, at) in unsaved {
                self.sources.remember(&name, at);
            }
        }
        if let Err(e) = recall(&self.sources, &*self.store).await {
            tracing::warn!(error = %e, "cannot read when sources were last heard");
        }
    }

    /// The silent alerts still active from before a restart.
    async fn find_raised(&mut self) {
        for source in self.sources.all().iter() {
            if let Ok(Some(alert)) = self.store.get(&silent_id(&source.name)).await {
                if alert.status == Status::Active {
                    self.raised.insert(source.name.clone());
                }
            }
        }
    }

    /// Raises or resolves each source's silent alert.
    async fn check(&mut self) {
        let now = Utc::now();
        let sources = self.sources.all();
        // A source taken out of the file, or its heartbeat, is watched no
        // more: its alert must not stay up for ever.
        let unwatched: Vec<String> = self
            .raised
            .iter()
            .filter(|name| {
                !sources
                    .iter()
                    .any(|s| &s.name == *name && s.heartbeat.is_some())
            })
            .cloned()
            .collect();
        for name in unwatched {
            self.resolve(&name).await;
        }
        for source in sources.iter() {
            let Some(heartbeat) = source.heartbeat else {
                continue;
            };
            let last_seen = self.sources.last_seen(&source.name);
            // One never heard counts from this start.
            let quiet = (now - last_seen.unwrap_or(self.started))
                .to_std()
                .unwrap_or_default();
            let raised = self.raised.contains(&source.name);
            if quiet > heartbeat && !raised {
                self.raise(source, silent_alert(source, quiet, heartbeat))
                    .await;
            } else if raised && quiet <= heartbeat && last_seen.is_some() {
                // Heard again (a source never heard stays silent, restart
                // or not).
                self.resolve(&source.name).await;
            }
        }
    }

    async fn raise(&mut self, source: &SourceConfig, input: AlertInput) {
        // Another instance on the same store may have raised it already:
        // writing it again would emit a second event for one silence.
        if let Ok(Some(alert)) = self.store.get(&silent_id(&source.name)).await {
            if alert.status == Status::Active {
                self.raised.insert(source.name.clone());
                return;
            }
        }
        match self.writer.ingest(Actor::Server, vec![input]).await {
            Ok(_) => {
                tracing::warn!(source = %source.name, "source silent: alert raised");
                self.raised.insert(source.name.clone());
            }
            Err(e) => {
                tracing::warn!(source = %source.name, error = %e, "cannot raise the silent-source alert; retrying")
            }
        }
    }

    /// Resolves `name`'s silent alert: heard again, or no longer watched.
    async fn resolve(&mut self, name: &str) {
        let input = AlertInput::resolve(&silent_id(name));
        match self.writer.ingest(Actor::Server, vec![input]).await {
            Ok(_) => {
                tracing::info!(source = %name, "source heard again: alert resolved");
                self.raised.remove(name);
            }
            Err(e) => {
                tracing::warn!(source = %name, error = %e, "cannot resolve the silent-source alert; retrying")
            }
        }
    }
}

/// The alert of a source silent for `quiet`.
fn silent_alert(source: &SourceConfig, quiet: Duration, heartbeat: Duration) -> AlertInput {
    AlertInput {
        id: Some(silent_id(&source.name)),
        site: Some(source.site.clone()),
        severity: Some(Severity::Critical),
        message: Some(format!(
            "No word from {} for {} (heartbeat every {})",
            source.name,
            short(quiet),
            short(heartbeat)
        )),
        source: Some(SERVER.to_owned()),
        event: EventKind::Created,
        ..AlertInput::default()
    }
}

/// A span as the screens show ages (`5m`, `3h12m`).
fn short(d: Duration) -> String {
    noc_shared::age(chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_gives_its_spans_as_the_screens_show_ages() {
        let text = "[[source]]\nname = \"prom\"\nkind = \"alertmanager\"\ntoken = \"t\"";
        let sources = crate::sources::file::parse(text).expect("a source");
        let alert = silent_alert(
            &sources[0],
            Duration::from_secs(3600),
            Duration::from_secs(300),
        );
        assert_eq!(
            alert.message.as_deref(),
            Some("No word from prom for 1h0m (heartbeat every 5m)")
        );
    }
}
