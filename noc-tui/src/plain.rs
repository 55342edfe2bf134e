//! `--plain`: no full screen. One line per alert of each snapshot and per
//! event on standard output, `<time> <SEVERITY> <site> <message>` (the word
//! is `RESOLVED`, `EXPIRED`, `ACKED`, `UNACKED`, `NOTED` or `SILENCED` for
//! those events), and the link's news on
//! standard error. For logs, pipes and consoles without cursor addressing.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use noc_shared::{Alert, AlertEvent, EventKind, EventReason, ServerMessage};
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::cli::Config;
use crate::net::{self, NetEvent, NetOptions, human_duration};
use crate::screen::{EVENT_QUEUE, StopSignals};
use crate::text::one_line;
use crate::ui::theme::severity_label;

/// Follows the server until a signal or until standard output is closed
/// (e.g. `| head`), both of which are a normal end.
pub async fn run(config: Config) -> io::Result<()> {
    let (events_tx, mut events_rx) = mpsc::channel(EVENT_QUEUE);
    let (commands_tx, commands_rx) = mpsc::channel(1);
    let network = tokio::spawn(net::run(
        config,
        NetOptions::default(),
        events_tx,
        commands_rx,
    ));
    let mut stop = StopSignals::new()?;
    let stdout = io::stdout();
    let mut printer = Printer::default();
    let result = loop {
        tokio::select! {
            event = events_rx.recv() => {
                let Some(event) = event else {
                    break Err(io::Error::other("the network task stopped"));
                };
                let mut out = stdout.lock();
                match printer.write_event(&mut out, &mut io::stderr(), &event).and_then(|()| out.flush()) {
                    Ok(()) => {}
                    // The reader went away: a normal way for a pipe to end.
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => break Ok(()),
                    Err(e) => break Err(e),
                }
            }
            () = stop.recv() => break Ok(()),
        }
    };
    drop(commands_tx);
    drop(events_rx);
    let _ = timeout(Duration::from_secs(2), network).await;
    result
}

/// Turns network events into lines. On each connection it remembers which
/// alerts it has written and in which state (their `updated_at`), and
/// writes of a snapshot only the alerts not written yet in that state: the
/// answer to the client's own subscribe message repeats the connect
/// snapshot, maybe with events written meanwhile, and a log would otherwise
/// show them twice.
#[derive(Debug, Default)]
pub struct Printer {
    written: HashMap<String, DateTime<Utc>>,
}

impl Printer {
    /// Writes what one network event means: alert lines to `out`, link news
    /// to `news`.
    pub fn write_event(
        &mut self,
        out: &mut impl Write,
        news: &mut impl Write,
        event: &NetEvent,
    ) -> io::Result<()> {
        match event {
            NetEvent::Connecting { url, attempt } => {
                if *attempt <= 1 {
                    writeln!(news, "noc-tui: connecting to {url}")?;
                }
            }
            NetEvent::Connected { url } => {
                self.written.clear();
                writeln!(news, "noc-tui: connected to {url}")?;
            }
            NetEvent::Disconnected {
                url,
                reason,
                retry_in,
            } => {
                self.written.clear();
                writeln!(
                    news,
                    "noc-tui: disconnected from {url}: {}; retrying in {}",
                    one_line(reason),
                    human_duration(*retry_in)
                )?;
            }
            NetEvent::Message(ServerMessage::Snapshot(snapshot)) => {
                let before = std::mem::take(&mut self.written);
                for alert in &snapshot.alerts {
                    self.written.insert(alert.id.clone(), alert.updated_at);
                }
                for alert in &snapshot.alerts {
                    if before.get(&alert.id) == Some(&alert.updated_at) {
                        continue;
                    }
                    writeln!(out, "{}", snapshot_line(alert))?;
                }
                if snapshot.truncated {
                    writeln!(
                        news,
                        "noc-tui: the snapshot holds only the first {} matching alerts",
                        snapshot.alerts.len()
                    )?;
                }
            }
            NetEvent::Message(ServerMessage::Error { message }) => {
                writeln!(news, "noc-tui: the server says: {}", one_line(message))?;
            }
            NetEvent::Message(other) => {
                if let Some((kind, event)) = other.as_alert_event() {
                    let alert = &event.alert;
                    if alert.is_active() {
                        self.written.insert(alert.id.clone(), alert.updated_at);
                    } else {
                        self.written.remove(&alert.id);
                    }
                    writeln!(out, "{}", event_line(kind, event))?;
                }
            }
        }
        Ok(())
    }
}

/// The line for an alert of a snapshot: stamped with when it began.
pub fn snapshot_line(alert: &Alert) -> String {
    line(
        alert.created_at,
        severity_label(alert.severity, false),
        alert,
    )
}

/// The line for an event: stamped with when it happened, with a word in
/// place of the severity for what is not a new problem: `RESOLVED`
/// (`EXPIRED` when its `ttl` ran out), `ACKED`, `UNACKED`, `NOTED`, and
/// `SILENCED` when a silence starts hiding it (or it arrives hidden).
pub fn event_line(kind: EventKind, event: &AlertEvent) -> String {
    let alert = &event.alert;
    let silence = event.reason == Some(EventReason::Silence);
    match kind {
        EventKind::Created | EventKind::Updated
            if alert.is_silenced() && (silence || kind == EventKind::Created) =>
        {
            line(alert.updated_at, "SILENCED", alert)
        }
        EventKind::Created | EventKind::Updated => line(
            alert.updated_at,
            severity_label(alert.severity, false),
            alert,
        ),
        EventKind::Resolved => line(
            alert.resolved_at.unwrap_or(alert.updated_at),
            if event.reason == Some(EventReason::Expired) {
                "EXPIRED"
            } else {
                "RESOLVED"
            },
            alert,
        ),
        EventKind::Acknowledged => line(alert.acked_at.unwrap_or(alert.updated_at), "ACKED", alert),
        EventKind::Unacknowledged => line(alert.updated_at, "UNACKED", alert),
        EventKind::Noted => line(alert.updated_at, "NOTED", alert),
    }
}

fn line(time: DateTime<Utc>, word: &str, alert: &Alert) -> String {
    format!(
        "{} {word} {} {}",
        time.to_rfc3339_opts(SecondsFormat::Secs, true),
        one_line(&alert.site),
        one_line(&alert.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::alert;
    use noc_shared::{Severity, Snapshot, SnapshotReason, Status};

    fn write(event: NetEvent) -> (String, String) {
        write_with(&mut Printer::default(), event)
    }

    fn write_with(printer: &mut Printer, event: NetEvent) -> (String, String) {
        let (mut out, mut news) = (Vec::new(), Vec::new());
        printer
            .write_event(&mut out, &mut news, &event)
            .expect("in memory");
        (
            String::from_utf8(out).expect("utf-8"),
            String::from_utf8(news).expect("utf-8"),
        )
    }

    #[test]
    fn snapshot_writes_one_line_per_alert() {
        let mut a = alert("a", "Dar es Salaam", Severity::Critical, 1);
        a.message = "Core switch\nunreachable".into();
        let b = alert("b", "Kampala", Severity::Info, 2);
        let (out, news) = write(NetEvent::Message(ServerMessage::Snapshot(Snapshot {
            reason: SnapshotReason::Connect,
            seq: 4,
            sites: None,
            min_severity: Severity::Info,
            heartbeat_ms: 1000,
            alerts: vec![a, b],
            truncated: false,
            profile: None,
        })));
        assert_eq!(
            out,
            "2026-11-28T20:01:00Z CRITICAL Dar es Salaam Core switch unreachable\n\
             2026-11-28T20:02:00Z INFO Kampala info problem b\n"
        );
        assert_eq!(news, "");
    }

    #[test]
    fn events_write_their_word_and_time() {
        let mut a = alert("a", "Kampala", Severity::High, 1);
        let (out, _) = write(NetEvent::Message(ServerMessage::alert(
            EventKind::Created,
            5,
            a.clone(),
        )));
        assert_eq!(out, "2026-11-28T20:01:00Z HIGH Kampala high problem a\n");

        a.acked_at = Some(a.created_at + chrono::Duration::minutes(5));
        a.acked_by = Some("irene@example".into());
        let (out, _) = write(NetEvent::Message(ServerMessage::alert(
            EventKind::Acknowledged,
            6,
            a.clone(),
        )));
        assert_eq!(out, "2026-11-28T20:06:00Z ACKED Kampala high problem a\n");

        a.status = Status::Resolved;
        a.resolved_at = Some(a.created_at + chrono::Duration::minutes(9));
        let (out, _) = write(NetEvent::Message(ServerMessage::alert(
            EventKind::Resolved,
            7,
            a,
        )));
        assert_eq!(
            out,
            "2026-11-28T20:10:00Z RESOLVED Kampala high problem a\n"
        );
    }

    #[test]
    fn part_two_events_write_their_words() {
        let a = alert("a", "Kampala", Severity::High, 1);
        let with = |kind: EventKind, reason: Option<EventReason>, alert: Alert| {
            let event = AlertEvent {
                seq: 9,
                reason,
                note: None,
                alert,
            };
            write(NetEvent::Message(ServerMessage::alert_event(kind, event))).0
        };
        let at = "2026-11-28T20:01:00Z";
        assert_eq!(
            with(
                EventKind::Unacknowledged,
                Some(EventReason::AckExpired),
                a.clone()
            ),
            format!("{at} UNACKED Kampala high problem a\n")
        );
        assert_eq!(
            with(EventKind::Noted, None, a.clone()),
            format!("{at} NOTED Kampala high problem a\n")
        );
        let silenced = Alert {
            silenced_by: Some("sil-1".into()),
            ..a.clone()
        };
        assert_eq!(
            with(
                EventKind::Updated,
                Some(EventReason::Silence),
                silenced.clone()
            ),
            format!("{at} SILENCED Kampala high problem a\n")
        );
        assert_eq!(
            with(EventKind::Created, None, silenced),
            format!("{at} SILENCED Kampala high problem a\n")
        );
        // The silence ended: the alert is back, under its severity.
        assert_eq!(
            with(EventKind::Updated, Some(EventReason::Silence), a.clone()),
            format!("{at} HIGH Kampala high problem a\n")
        );
        let expired = Alert {
            status: Status::Resolved,
            ..a
        };
        assert_eq!(
            with(
                EventKind::Resolved,
                Some(EventReason::Expired),
                expired.clone()
            ),
            format!("{at} EXPIRED Kampala high problem a\n")
        );
        assert_eq!(
            with(EventKind::Resolved, None, expired),
            format!("{at} RESOLVED Kampala high problem a\n")
        );
    }

    #[test]
    fn link_news_goes_to_the_other_stream() {
        let (out, news) = write(NetEvent::Disconnected {
            url: "ws://h/ws/alerts".into(),
            reason: "Connection refused".into(),
            retry_in: Duration::from_millis(1500),
        });
        assert_eq!(out, "");
        assert_eq!(
            news,
            "noc-tui: disconnected from ws://h/ws/alerts: Connection refused; retrying in 1.5s\n"
        );
        let (out, news) = write(NetEvent::Message(ServerMessage::Heartbeat { ts: 1 }));
        assert_eq!((out.as_str(), news.as_str()), ("", ""));
    }

    #[test]
    fn a_repeated_snapshot_is_written_once_per_connection() {
        let snap = |reason| {
            NetEvent::Message(ServerMessage::Snapshot(Snapshot {
                reason,
                seq: 4,
                sites: None,
                min_severity: Severity::Info,
                heartbeat_ms: 1000,
                alerts: vec![alert("a", "Kampala", Severity::High, 1)],
                truncated: false,
                profile: None,
            }))
        };
        let mut printer = Printer::default();
        let (out, _) = write_with(&mut printer, snap(SnapshotReason::Connect));
        assert_eq!(out.lines().count(), 1);
        let (out, _) = write_with(&mut printer, snap(SnapshotReason::Subscribe));
        assert_eq!(out, "", "same content, not repeated");
        write_with(
            &mut printer,
            NetEvent::Connected {
                url: "ws://h/ws/alerts".into(),
            },
        );
        let (out, _) = write_with(&mut printer, snap(SnapshotReason::Connect));
        assert_eq!(out.lines().count(), 1, "a new connection shows it again");
    }

    #[test]
    fn a_late_subscribe_snapshot_writes_only_what_changed() {
        let a = alert("a", "Kampala", Severity::High, 1);
        let b = alert("b", "Kampala", Severity::Critical, 2);
        let snap = |seq, alerts: Vec<Alert>| {
            NetEvent::Message(ServerMessage::Snapshot(Snapshot {
                reason: SnapshotReason::Subscribe,
                seq,
                sites: None,
                min_severity: Severity::Info,
                heartbeat_ms: 1000,
                alerts,
                truncated: false,
                profile: None,
            }))
        };
        let mut printer = Printer::default();
        write_with(&mut printer, snap(4, vec![a.clone()]));
        // An event arrives before the answer to the subscribe message.
        let (out, _) = write_with(
            &mut printer,
            NetEvent::Message(ServerMessage::alert(EventKind::Created, 5, b.clone())),
        );
        assert_eq!(out.lines().count(), 1);
        let (out, _) = write_with(&mut printer, snap(5, vec![b.clone(), a.clone()]));
        assert_eq!(out, "", "both already written in this state");
        // One of them changed meanwhile: only it is written.
        let mut a2 = a.clone();
        a2.updated_at += chrono::Duration::seconds(1);
        a2.message = "changed".into();
        let (out, _) = write_with(&mut printer, snap(6, vec![b, a2]));
        assert_eq!(out, "2026-11-28T20:01:00Z HIGH Kampala changed\n");
    }
}
