//! The alert list: one row per active alert, most severe first, then newest,
//! the selected one marked `>`. Only the rows on screen are built, so a long
//! list costs nothing extra.

use noc_shared::{Alert, WritebackState};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget};

use super::Theme;
use super::theme::severity_label;
use crate::app::App;
use crate::layout::{BODY_TITLE_ROWS, HEADING_ROWS};
use noc_shared::age;

use crate::text::{fit, one_line, who};

/// The age column: `3h12m` and `23h59m` fit.
const AGE_WIDTH: u16 = 6;

/// What marks the selected row, in the first column.
pub const SELECTED_MARK: &str = ">";

/// Which columns fit, from widest to narrowest screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    /// Width of the time column, 0 when dropped.
    time: u16,
    short_severity: bool,
    site: u16,
    /// Width of the host column, 0 when dropped.
    host: u16,
}

impl Columns {
    fn for_width(width: u16) -> Self {
        match width {
            100.. => Columns {
                time: 11,
                short_severity: false,
                site: 16,
                host: 18,
            },
            70..100 => Columns {
                time: 8,
                short_severity: false,
                site: 12,
                host: 0,
            },
            _ => Columns {
                time: 0,
                short_severity: true,
                site: 10,
                host: 0,
            },
        }
    }

    fn widths(&self) -> Vec<Constraint> {
        let mut widths = Vec::with_capacity(7);
        widths.push(Constraint::Length(1));
        if self.time > 0 {
            widths.push(Constraint::Length(self.time));
        }
        widths.push(Constraint::Length(AGE_WIDTH));
        widths.push(Constraint::Length(if self.short_severity { 4 } else { 8 }));
        widths.push(Constraint::Length(self.site));
        if self.host > 0 {
            widths.push(Constraint::Length(self.host));
        }
        widths.push(Constraint::Fill(1));
        widths
    }

    fn heading(&self) -> Vec<&'static str> {
        let mut names = Vec::with_capacity(7);
        names.push("");
        if self.time > 0 {
            names.push("TIME");
        }
        names.push("AGE");
        names.push(if self.short_severity {
            "SEV"
        } else {
            "SEVERITY"
        });
        names.push("SITE");
        if self.host > 0 {
            names.push("HOST");
        }
        names.push("MESSAGE");
        names
    }
}

/// The body in list view: a title line, then the table.
pub fn render(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let [title, table] =
        Layout::vertical([Constraint::Length(BODY_TITLE_ROWS), Constraint::Fill(1)]).areas(area);
    let total = app.visible_count();
    // Each is a walk of the list: once per frame.
    let selected = app.selected_index();
    let first = app.first_row_for(total, selected);
    Paragraph::new(title_line(app, theme, total, first)).render(title, buf);
    let columns = Columns::for_width(area.width);
    let page = usize::from(table.height.saturating_sub(HEADING_ROWS));
    let rows: Vec<Row> = app
        .visible_alerts()
        .enumerate()
        .skip(first)
        .take(page)
        .map(|(at, alert)| alert_row(app, theme, columns, alert, selected == Some(at)))
        .collect();
    let empty = rows.is_empty();
    Table::new(rows, columns.widths())
        .header(Row::new(columns.heading()).style(theme.heading()))
        .column_spacing(1)
        .render(table, buf);
    if empty {
        let [_, message] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(table);
        let text = if app.stale || app.last_data_at.is_none() {
            "  (no alerts received yet)"
        } else if !app.query.is_empty() {
            "  No alert matches the filter."
        } else {
            "  No active alerts."
        };
        Paragraph::new(text).render(message, buf);
    }
}

/// "ALERTS 12", the scroll position, and the stale mark when the link is down.
fn title_line(app: &App, theme: Theme, total: usize, first: usize) -> Line<'static> {
    let mut spans = vec![Span::styled(format!("ALERTS {total}"), theme.heading())];
    let page = app.page_rows();
    if total > page {
        let last = (first + page).min(total);
        let first = first + 1;
        spans.push(Span::raw(format!("  rows {first}-{last} of {total}")));
    }
    if !app.query.is_empty() {
        spans.push(Span::styled(
            format!("  filter \"{}\"", one_line(&app.query)),
            theme.heading(),
        ));
    }
    if app.truncated {
        spans.push(Span::raw("  (the server sent the first 1000 only)"));
    }
    if app.stale {
        let since = app
            .last_data_at
            .map(|t| format!(" as of {}", super::format_time(app, t, "%H:%M:%S")))
            .unwrap_or_default();
        spans.push(Span::styled(
            format!("  STALE: link down, showing the last known alerts{since}"),
            theme.disconnected(),
        ));
    }
    Line::from(spans)
}

fn alert_row<'a>(
    app: &App,
    theme: Theme,
    columns: Columns,
    alert: &'a Alert,
    selected: bool,
) -> Row<'a> {
    let mut style = theme.severity(alert.severity);
    let highlighted = app.is_highlighted(&alert.id);
    if highlighted {
        style = theme.highlight(style);
    }
    if app.stale {
        style = theme.stale(style);
    }
    if selected {
        style = style.add_modifier(Modifier::BOLD);
    }
    let mut cells: Vec<Cell> = Vec::with_capacity(7);
    cells.push(Cell::from(if selected { SELECTED_MARK } else { "" }));
    if columns.time > 0 {
        cells.push(Cell::from(super::alert_time(
            app,
            alert.created_at,
            columns.time,
        )));
    }
    cells.push(Cell::from(age(app.now.wall - alert.created_at)));
    cells.push(Cell::from(severity_label(
        alert.severity,
        columns.short_severity,
    )));
    let site = if alert.is_everywhere() {
        EVERYWHERE.into()
    } else {
        one_line(&alert.site)
    };
    cells.push(Cell::from(fit(&site, usize::from(columns.site))));
    if columns.host > 0 {
        let host = alert.host.as_deref().unwrap_or("");
        cells.push(Cell::from(fit(&one_line(host), usize::from(columns.host))));
    }
    let mut message = marks(alert);
    if highlighted {
        message.insert_str(0, "NEW ");
    }
    message.push_str(&one_line(&alert.message));
    cells.push(Cell::from(message));
    Row::new(cells).style(style)
}

/// How the site column shows an alert for every site.
pub const EVERYWHERE: &str = "* every site";

/// The marks before an alert's message: `FLAP`, `[SILENCED]`, `[ACK] who`,
/// `[WB FAILED]` when the write-back to its source gave up, each followed
/// by a space.
pub fn marks(alert: &Alert) -> String {
    let mut marks = String::new();
    if alert.flapping {
        marks.push_str("FLAP ");
    }
    if alert.is_silenced() {
        marks.push_str("[SILENCED] ");
    }
    if alert.is_acked() {
        marks.push_str("[ACK]");
        if let Some(by) = &alert.acked_by {
            marks.push(' ');
            marks.push_str(&one_line(who(by)));
        }
        marks.push(' ');
    }
    if alert
        .writeback
        .as_ref()
        .is_some_and(|w| w.state == WritebackState::Failed)
    {
        marks.push_str("[WB FAILED] ");
    }
    marks
}
