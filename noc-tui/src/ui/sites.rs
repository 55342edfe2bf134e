//! The site board: one row per site with its counts per severity and its
//! worst alert, so that one wall shows a whole country at a glance. Sites
//! the screen subscribed to that have no alerts are listed too, as OK.

use std::collections::HashMap;

use noc_shared::{Alert, Severity};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget};

use super::Theme;
use super::theme::severity_label;
use crate::app::App;
use crate::text::{fit, one_line};

/// One line of the board.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRow<'a> {
    /// The site's name as the first alert (or the subscription) spelled it.
    pub name: String,
    /// Visible alerts per severity, in [`Severity::ALL`] order.
    pub counts: [usize; 5],
    /// The most severe, then newest, alert of the site.
    pub worst: Option<&'a Alert>,
}

/// The board's rows: worst sites first (by their worst alert, then by how
/// many alerts of each severity), quiet sites last, each group by name.
pub fn site_rows(app: &App) -> Vec<SiteRow<'_>> {
    let mut rows: Vec<SiteRow> = Vec::new();
    // Site names are matched case-insensitively, as the server does.
    let mut index: HashMap<String, usize> = HashMap::new();
    // Visible alerts come in display order, so a site's first is its worst.
    for alert in app.visible_alerts() {
        let key = alert.site.to_lowercase();
        let at = *index.entry(key).or_insert_with(|| {
            rows.push(SiteRow {
                name: alert.site.clone(),
                counts: [0; 5],
                worst: Some(alert),
            });
            rows.len() - 1
        });
        rows[at].counts[alert.severity.rank()] += 1;
    }
    for site in app.filter.sites().unwrap_or_default() {
        if !index.contains_key(&site.to_lowercase()) {
            rows.push(SiteRow {
                name: site.clone(),
                counts: [0; 5],
                worst: None,
            });
        }
    }
    rows.sort_by(|a, b| {
        let rank = |r: &SiteRow| r.worst.map_or(usize::MAX, |w| w.severity.rank());
        rank(a)
            .cmp(&rank(b))
            .then_with(|| b.counts.cmp(&a.counts))
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    rows
}

/// The body in site-board view.
pub fn render(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let [title, table] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let rows = site_rows(app);
    let troubled = rows.iter().filter(|r| r.worst.is_some()).count();
    let mut spans = vec![Span::styled(
        format!("SITES {}  ({troubled} with alerts)", rows.len()),
        theme.heading(),
    )];
    if app.stale {
        spans.push(Span::styled(
            "  STALE: link down, showing the last known alerts",
            theme.disconnected(),
        ));
    }
    Paragraph::new(Line::from(spans)).render(title, buf);

    let short = area.width < 70;
    let count_width: u16 = if short { 4 } else { 8 };
    let site_width: u16 = if short { 12 } else { 20 };
    let mut widths = vec![Constraint::Length(site_width)];
    widths.extend([Constraint::Length(count_width); 5]);
    widths.push(Constraint::Fill(1));
    let mut heading = vec!["SITE"];
    heading.extend(Severity::ALL.map(|s| severity_label(s, short)));
    heading.push("WORST ALERT");

    let page = usize::from(table.height.saturating_sub(1));
    let body: Vec<Row> = rows
        .iter()
        .skip(app.first_row(rows.len()))
        .take(page)
        .map(|row| site_row(app, theme, row, site_width))
        .collect();
    Table::new(body, widths)
        .header(Row::new(heading).style(theme.heading()))
        .column_spacing(1)
        .render(table, buf);
}

fn site_row<'a>(app: &App, theme: Theme, row: &SiteRow, site_width: u16) -> Row<'a> {
    let mut cells = vec![Cell::from(fit(
        &one_line(&row.name),
        usize::from(site_width),
    ))];
    cells.extend(row.counts.iter().map(|n| {
        Cell::from(if *n == 0 {
            "-".to_owned()
        } else {
            n.to_string()
        })
    }));
    let mut style = match row.worst {
        Some(worst) => {
            cells.push(Cell::from(format!(
                "{} {}",
                severity_label(worst.severity, true),
                one_line(&worst.message)
            )));
            theme.severity(worst.severity)
        }
        None => {
            cells.push(Cell::from("OK"));
            theme.ok()
        }
    };
    if app.stale {
        style = theme.stale(style);
    }
    Row::new(cells).style(style)
}
