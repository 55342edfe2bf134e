//! The header (who, where, the link's state in plain words, the clock) and
//! the counts row.

use std::time::Duration;

use chrono::Timelike;
use noc_shared::Severity;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::Theme;
use super::theme::severity_label;
use crate::app::{App, Link};
use crate::text::one_line;

/// The two header rows.
pub fn render(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let [top, state] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let clock = super::format_time(app, app.now.wall, "%Y-%m-%d %H:%M:%S");
    // The clock keeps its place on the right unless the screen is too narrow
    // for anything else.
    let clock_width = if top.width >= 40 {
        clock.len() as u16 + 1
    } else {
        0
    };
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(clock_width)]).areas(top);
    // The least severity is only worth the room when it filters something.
    let min = match app.filter.min_severity() {
        Severity::Info => String::new(),
        other => format!("  min: {other}"),
    };
    let name = match app.title() {
        Some(title) => format!("{} ({})", one_line(title), app.name),
        None => format!("NOC {}", app.name),
    };
    let title = Line::from(vec![
        Span::styled(name, theme.heading()),
        Span::raw(format!(
            "  {}  sites: {}{min}",
            app.link.url(),
            app.sites_label,
        )),
    ]);
    Paragraph::new(title).render(left, buf);
    Paragraph::new(Line::from(Span::styled(clock, theme.heading())).right_aligned())
        .render(right, buf);
    Paragraph::new(state_line(app, theme)).render(state, buf);
}

/// The link's state, in plain words, with what the operator needs next.
fn state_line(app: &App, theme: Theme) -> Line<'static> {
    let mut spans = match &app.link {
        Link::Connected { since, .. } => vec![
            Span::styled("CONNECTED", theme.connected()),
            Span::raw(format!(
                " since {}",
                super::format_time(app, *since, "%H:%M:%S")
            )),
        ],
        Link::Connecting { attempt, .. } => {
            let tries = if *attempt > 1 {
                format!(" (attempt {attempt})")
            } else {
                String::new()
            };
            vec![
                Span::styled("CONNECTING", theme.connecting()),
                Span::raw(format!("{tries}…")),
            ]
        }
        Link::Disconnected {
            reason, retry_at, ..
        } => {
            let left = retry_at.saturating_duration_since(app.now.instant);
            let when = if left.is_zero() {
                "retrying now".to_owned()
            } else {
                // Whole seconds, counted from the second the clock shows, so
                // that "in 4s" and "at" agree with the clock beside them.
                let secs = left.as_millis().div_ceil(1000);
                let shown = app.now.wall.with_nanosecond(0).unwrap_or(app.now.wall);
                let at = shown + chrono::Duration::seconds(secs as i64);
                format!(
                    "retrying in {secs}s (at {})",
                    super::format_time(app, at, "%H:%M:%S")
                )
            };
            vec![
                Span::styled(format!(" DISCONNECTED — {when} "), theme.disconnected()),
                Span::raw(format!(" {}", one_line(reason))),
            ]
        }
    };
    spans.push(Span::styled(
        format!(" · {}", heartbeat_age(app)),
        theme.muted(),
    ));
    if let Some((notice, _)) = &app.notice {
        spans.push(Span::raw(format!(" · server says: {}", one_line(notice))));
    }
    Line::from(spans)
}

/// "heartbeat 3s ago", or that none came yet.
fn heartbeat_age(app: &App) -> String {
    match app.last_heartbeat {
        None => "no heartbeat yet".to_owned(),
        Some(at) => {
            let age = app.now.instant.saturating_duration_since(at);
            format!("heartbeat {} ago", whole_seconds(age))
        }
    }
}

/// A countdown in whole seconds, rounded up so that it never says 0s early.
fn whole_seconds(d: Duration) -> String {
    format!("{}s", d.as_millis().div_ceil(1000))
}

/// The counts row: one badge per severity, then the total.
pub fn render_counts(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let counts = app.counts();
    let short = area.width < 70;
    let mut spans = Vec::with_capacity(8);
    for severity in Severity::ALL {
        let n = counts[severity.rank()];
        spans.push(Span::styled(
            format!(" {} {n} ", severity_label(severity, short)),
            theme.badge(severity, n),
        ));
        spans.push(Span::raw(" "));
    }
    let total: usize = counts.iter().sum();
    spans.push(Span::raw(format!("total {total}")));
    // Always shown, so that nothing is hidden without the wall saying so.
    let silenced = app.silenced_count();
    let shown = if app.show_silenced { "shown" } else { "hidden" };
    spans.push(Span::styled(
        format!("  SILENCED {silenced}"),
        if silenced > 0 {
            theme.heading()
        } else {
            theme.muted()
        },
    ));
    if silenced > 0 {
        spans.push(Span::styled(format!(" ({shown})"), theme.muted()));
    }
    let hidden = app.hidden_acked();
    if hidden > 0 {
        spans.push(Span::styled(
            format!(" ({hidden} acked hidden)"),
            theme.muted(),
        ));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

/// The banner for silent sources: one line, unmissable, naming each.
pub fn render_banner(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let words: Vec<String> = app
        .silent_sources()
        .map(|a| one_line(&a.message).into_owned())
        .collect();
    let text = format!(" SOURCE SILENT: {} ", words.join(" · "));
    Paragraph::new(Line::from(Span::styled(
        text,
        theme.badge(Severity::Critical, 1),
    )))
    .style(theme.badge(Severity::Critical, 1))
    .render(area, buf);
}
