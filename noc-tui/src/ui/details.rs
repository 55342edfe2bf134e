//! One alert's details over the list (Enter): every field, its labels, its
//! link (shown whole, to copy), its description, its notes and its
//! history as the API gives them. Scrolled with Up/Down when long.

use chrono::{DateTime, Utc};
use noc_shared::{Alert, EventKind, HistoryEntry};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use super::Theme;
use super::theme::severity_label;
use crate::app::{App, Details, Fetch};
use noc_shared::age;

use crate::text::one_line;

/// Draws the pane over `area` (the body).
pub fn render(app: &App, details: &Details, theme: Theme, area: Rect, buf: &mut Buffer) {
    Clear.render(area, buf);
    let lines = lines(app, details, theme);
    Paragraph::new(lines)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} — Esc closes ", one_line(&details.alert.id)))
                .title_style(theme.heading()),
        )
        .wrap(Wrap { trim: false })
        .scroll((details.scroll, 0))
        .render(area, buf);
}

/// The pane's text, top to bottom.
pub fn lines(app: &App, details: &Details, theme: Theme) -> Vec<Line<'static>> {
    let alert = &details.alert;
    let mut lines = fields(app, alert);
    lines.push(Line::from(""));
    lines.push(Line::styled("DESCRIPTION", theme.heading()));
    match alert
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        // A description may have lines of its own; each is kept, made safe.
        Some(text) => lines.extend(
            text.lines()
                .map(|l| Line::from(format!("  {}", one_line(l)))),
        ),
        None => lines.push(Line::from("  (none)")),
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(
        format!("LABELS {}", alert.labels.len()),
        theme.heading(),
    ));
    for (name, value) in &alert.labels {
        lines.push(Line::from(format!(
            "  {}={}",
            one_line(name),
            one_line(value)
        )));
    }
    lines.push(Line::from(""));
    match &details.history {
        Fetch::Loading => lines.push(Line::styled("NOTES AND HISTORY: loading…", theme.heading())),
        Fetch::Failed(why) => lines.push(Line::from(vec![
            Span::styled("NOTES AND HISTORY: ", theme.heading()),
            Span::styled(
                format!("cannot load: {}", one_line(why)),
                theme.disconnected(),
            ),
        ])),
        Fetch::Loaded(entries) => history(app, entries, theme, &mut lines),
    }
    lines
}

/// Every field of the alert, one per line.
fn fields(app: &App, alert: &Alert) -> Vec<Line<'static>> {
    let time = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            format!(
                "{} ({} ago)",
                super::format_time(app, t, "%Y-%m-%d %H:%M:%S"),
                age(app.now.wall - t)
            )
        })
        .unwrap_or_else(|| "-".to_owned())
    };
    let text = |t: Option<&str>| {
        t.map(|t| one_line(t).into_owned())
            .unwrap_or_else(|| "-".to_owned())
    };
    let writeback = alert.writeback.as_ref().map(|w| match &w.error {
        Some(e) => format!("{}: {}", w.state.as_str(), e),
        None => w.state.as_str().to_owned(),
    });
    let rows: Vec<(&str, String)> = vec![
        ("message", one_line(&alert.message).into_owned()),
        ("severity", severity_label(alert.severity, false).to_owned()),
        ("status", alert.status.as_str().to_owned()),
        ("site", one_line(&alert.site).into_owned()),
        ("host", text(alert.host.as_deref())),
        ("source", one_line(&alert.source).into_owned()),
        ("link", text(alert.url.as_deref())),
        ("created", time(Some(alert.created_at))),
        ("updated", time(Some(alert.updated_at))),
        ("last seen", time(Some(alert.last_seen_at))),
        ("occurrences", alert.occurrences.to_string()),
        ("resolved", time(alert.resolved_at)),
        ("expires", time(alert.expires_at)),
        ("acked by", text(alert.acked_by.as_deref())),
        ("acked", time(alert.acked_at)),
        ("ack note", text(alert.ack_note.as_deref())),
        ("ack expires", time(alert.ack_expires_at)),
        ("silenced by", text(alert.silenced_by.as_deref())),
        (
            "flapping",
            if alert.flapping { "yes" } else { "no" }.to_owned(),
        ),
        ("notes", alert.notes.to_string()),
        ("write-back", text(writeback.as_deref())),
    ];
    rows.into_iter()
        .map(|(name, value)| Line::from(format!("{name:>12}  {value}")))
        .collect()
}

/// The notes first (what operators wrote), then the whole history.
fn history(app: &App, entries: &[HistoryEntry], theme: Theme, lines: &mut Vec<Line<'static>>) {
    let stamp = |t: DateTime<Utc>| super::format_time(app, t, "%m-%d %H:%M:%S");
    let notes: Vec<&HistoryEntry> = entries
        .iter()
        .filter(|e| e.event == EventKind::Noted && e.note.is_some())
        .collect();
    lines.push(Line::styled(
        format!("NOTES {}", notes.len()),
        theme.heading(),
    ));
    for entry in notes {
        lines.push(Line::from(format!(
            "  {}  {}: {}",
            stamp(entry.at),
            one_line(&entry.by),
            one_line(entry.note.as_deref().unwrap_or_default())
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(
        format!("HISTORY {}", entries.len()),
        theme.heading(),
    ));
    for entry in entries {
        let mut line = format!(
            "  {}  {}  by {}",
            stamp(entry.at),
            entry.event.as_str(),
            one_line(&entry.by)
        );
        if let Some(reason) = entry.reason {
            line.push_str(&format!(" ({})", reason.as_str()));
        }
        if let Some(note) = &entry.note {
            line.push_str(&format!("  note: {}", one_line(note)));
        }
        for (field, (before, after)) in &entry.changes {
            line.push_str(&format!("  {field}: {before} → {after}"));
        }
        lines.push(Line::from(line));
    }
}
