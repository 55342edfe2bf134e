//! Drawing: `impl Widget for &App`, one small function per region of the
//! screen. Nothing here changes state; everything is read from [`App`], and
//! the model knows nothing of this module (the rows around the list, which
//! it pages by, are in [`crate::layout`]).
//!
//! ```text
//! header   title or name · server · sites                 clock   (2 rows)
//!          link state · heartbeat age
//! counts   CRITICAL n  HIGH n  …  total n  SILENCED n              (1 row)
//! banner   SOURCE SILENT: …                          (1 row, only then)
//! body     title, column headings, the alerts or the site board;
//!          the details pane over it when open
//! footer   a prompt, the filter, an action's outcome, or key hints (1 row)
//! ```
//!
//! - `header.rs`: the header, the counts row and the banner; `alerts.rs`:
//!   the alert list; `sites.rs`: the site board; `details.rs`: one alert's
//!   details; `footer.rs`: the bottom line; `help.rs`: the `?` overlay;
//!   `identify.rs`: the screen's name across the screen; `theme.rs`:
//!   colours and severity labels; `tests.rs`: whole screens on a
//!   `TestBackend`.

pub mod alerts;
pub mod details;
pub mod footer;
pub mod header;
pub mod help;
pub mod identify;
pub mod sites;
pub mod theme;

use chrono::{DateTime, Local, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Widget;

use crate::app::{App, Mode, View, Zone};
use crate::layout::{COUNTS_ROWS, FOOTER_ROWS, HEADER_ROWS};
pub use theme::Theme;

/// The whole screen.
impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = Theme::new(self.color);
        let [header, counts, banner, body, footer] = Layout::vertical([
            Constraint::Length(HEADER_ROWS),
            Constraint::Length(COUNTS_ROWS),
            Constraint::Length(self.banner_rows()),
            Constraint::Fill(1),
            Constraint::Length(FOOTER_ROWS),
        ])
        .areas(area);
        header::render(self, theme, header, buf);
        header::render_counts(self, theme, counts, buf);
        if banner.height > 0 {
            header::render_banner(self, theme, banner, buf);
        }
        match self.view {
            View::Alerts => alerts::render(self, theme, body, buf),
            View::Sites => sites::render(self, theme, body, buf),
        }
        if let Some(open) = &self.details {
            details::render(self, open, theme, body, buf);
        }
        footer::render(self, theme, footer, buf);
        if self.mode == Mode::Help {
            help::render(theme, area, buf);
        }
        if self.identifying() {
            identify::render(self, theme, area, buf);
        }
    }
}

/// `t` in the screen's zone, with `fmt` (a chrono format string).
pub fn format_time(app: &App, t: DateTime<Utc>, fmt: &str) -> String {
    match app.zone {
        Zone::Utc => t.format(fmt).to_string(),
        Zone::Local => t.with_timezone(&Local).format(fmt).to_string(),
    }
}

/// The calendar day of `t` in the screen's zone, to tell today from before.
fn day_of(app: &App, t: DateTime<Utc>) -> chrono::NaiveDate {
    match app.zone {
        Zone::Utc => t.date_naive(),
        Zone::Local => t.with_timezone(&Local).date_naive(),
    }
}

/// An alert time that fits `width` (8 or 11): the time of day for today,
/// with the date for older alerts.
pub fn alert_time(app: &App, t: DateTime<Utc>, width: u16) -> String {
    let today = day_of(app, app.now.wall) == day_of(app, t);
    match (today, width >= 11) {
        (true, _) => format_time(app, t, "%H:%M:%S"),
        (false, true) => format_time(app, t, "%m-%d %H:%M"),
        (false, false) => format_time(app, t, "%m-%d"),
    }
}

#[cfg(test)]
mod tests;
