//! The site board: one tile per site (one row on a narrow screen) with its
//! counts per severity and its worst alert, so that one wall shows a whole
//! country at a glance. Sites
//! the screen subscribed to that have no alerts are listed too, as OK. The
//! rows come from the model ([`App::site_rows`]); this draws them.

use noc_shared::Severity;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Widget};

use super::Theme;
use super::theme::severity_label;
use crate::app::{App, SiteRow};
use crate::layout::{BODY_TITLE_ROWS, HEADING_ROWS};
use crate::text::{fit, one_line};

/// Width and height of one site's tile on the grid.
pub const TILE: (u16, u16) = (26, 5);

/// The body in site-board view: a grid of tiles where two fit across,
/// a table on narrower screens.
pub fn render(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let [title, table] =
        Layout::vertical([Constraint::Length(BODY_TITLE_ROWS), Constraint::Fill(1)]).areas(area);
    let rows = app.site_rows();
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
    if area.width >= TILE.0 * 2 {
        render_grid(app, theme, &rows, table, buf);
        return;
    }

    let short = area.width < 70;
    let count_width: u16 = if short { 4 } else { 8 };
    let site_width: u16 = if short { 12 } else { 20 };
    let mut widths = vec![Constraint::Length(site_width)];
    widths.extend([Constraint::Length(count_width); 5]);
    widths.push(Constraint::Fill(1));
    let mut heading = vec!["SITE"];
    heading.extend(Severity::ALL.map(|s| severity_label(s, short)));
    heading.push("WORST ALERT");

    let page = usize::from(table.height.saturating_sub(HEADING_ROWS));
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

/// The sites as tiles, row by row, worst first: each tile in its worst
/// alert's colours, titled with the site, with the worst severity, the
/// counts per severity (`C2 H0 A1 W3 I0`) and the worst alert's message.
fn render_grid(app: &App, theme: Theme, rows: &[SiteRow], area: Rect, buf: &mut Buffer) {
    let across = usize::from((area.width / TILE.0).max(1));
    let down = usize::from((area.height / TILE.1).max(1));
    let first = app.first_row(rows.len());
    for (at, row) in rows.iter().skip(first).take(across * down).enumerate() {
        let x = area.x + (at % across) as u16 * TILE.0;
        let y = area.y + (at / across) as u16 * TILE.1;
        let tile = Rect::new(x, y, TILE.0, TILE.1).intersection(area);
        render_tile(app, theme, row, tile, buf);
    }
}

fn render_tile(app: &App, theme: Theme, row: &SiteRow, area: Rect, buf: &mut Buffer) {
    let mut style = row.worst.map_or(theme.ok(), |w| theme.severity(w.severity));
    if app.stale {
        style = theme.stale(style);
    }
    let inner = usize::from(TILE.0.saturating_sub(4));
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|s| {
            let letter = severity_label(*s, true).chars().next().unwrap_or('?');
            format!("{letter}{}", row.counts[s.rank()])
        })
        .collect();
    let lines = match row.worst {
        Some(worst) => vec![
            Line::from(severity_label(worst.severity, false)),
            Line::from(counts.join(" ")),
            Line::from(fit(&one_line(&worst.message), inner)),
        ],
        None => vec![Line::from("OK"), Line::from(counts.join(" "))],
    };
    Paragraph::new(lines)
        .style(style)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} ", fit(&one_line(&row.name), inner)))
                .style(style),
        )
        .render(area, buf);
}
