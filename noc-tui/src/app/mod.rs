//! The screen's model: everything it shows ([`App`]) and the questions the
//! view asks of it (which alerts are visible, the counts, the first row of
//! the page, the site board's rows). [`update()`] is the one function that
//! changes it: an [`Action`] from the keyboard, a resize, a clock tick or a
//! network event in, the new state and a few [`Effects`] out. No I/O
//! happens here, so every behaviour of the screen is testable without a
//! terminal or a socket.
//!
//! - `mod.rs`: [`App`] and its parts ([`Now`], [`Link`], [`View`],
//!   [`Mode`], [`Zone`]), and the read-only queries the view draws from.
//! - `update.rs`: [`Msg`], [`Action`], [`Effects`] and [`update()`].
//! - `sites.rs`: the site board's rows, [`App::site_rows`].
//! - `tests.rs`: the model's tests, and the fixtures other modules' tests
//!   share.

mod sites;
mod update;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use noc_shared::{Alert, Severity, SiteFilter};

use crate::alerts::AlertBook;
use crate::cli::Config;
use crate::layout;

pub use sites::SiteRow;
pub use update::{Action, Effects, HIGHLIGHT_FOR, Msg, update};

/// The moment an update happens: the monotonic clock for ages and
/// deadlines, the wall clock for what the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub instant: Instant,
    pub wall: DateTime<Utc>,
}

impl Now {
    /// The current time.
    pub fn current() -> Self {
        Now {
            instant: Instant::now(),
            wall: Utc::now(),
        }
    }

    /// This moment moved on by `d` (for tests and for deadlines).
    pub fn plus(self, d: Duration) -> Self {
        Now {
            instant: self.instant + d,
            wall: self.wall + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero()),
        }
    }
}

/// The state of the link to the server, as the header tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Dialling `url`; `attempt` counts the tries since the last good link.
    Connecting { url: String, attempt: u32 },
    /// The socket is open.
    Connected { url: String, since: DateTime<Utc> },
    /// The link is down; the next try is at `retry_at`.
    Disconnected {
        url: String,
        reason: String,
        retry_at: Instant,
    },
}

impl Link {
    /// The server URL this state is about.
    pub fn url(&self) -> &str {
        match self {
            Link::Connecting { url, .. }
            | Link::Connected { url, .. }
            | Link::Disconnected { url, .. } => url,
        }
    }
}

/// Which of the two screens is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// Every alert, one per row.
    #[default]
    Alerts,
    /// One row per site: its counts and its worst alert.
    Sites,
}

/// How times are shown: the machine's zone (the default) or UTC (tests, and
/// walls that span zones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Local,
    Utc,
}

/// What has the keyboard: the bare list (or board), or something opened
/// over it. Each mode has its own key map ([`crate::input`]); a pane or a
/// prompt opened over the list is one more variant here, one more map
/// there, and one more overlay in the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Nothing open: the keys scroll, switch views, quit.
    #[default]
    Browse,
    /// The key help (`?`) over the list.
    Help,
}

/// Everything the screen shows. Owned by the UI task alone.
#[derive(Debug)]
pub struct App {
    /// This screen's name (`--name`).
    pub name: String,
    /// The sites as asked for on the command line, for the header.
    pub sites_label: String,
    /// The filter as the server last confirmed it (group names expanded).
    pub filter: SiteFilter,
    /// The active alerts, in display order.
    pub alerts: AlertBook,
    /// True when the last snapshot held only part of the matching alerts.
    pub truncated: bool,
    pub link: Link,
    /// True while the alerts shown come from a link that has gone down.
    pub stale: bool,
    /// When the last message from the server arrived (wall clock).
    pub last_data_at: Option<DateTime<Utc>>,
    /// When the last heartbeat arrived.
    pub last_heartbeat: Option<Instant>,
    /// The server's heartbeat interval from the last snapshot.
    pub heartbeat_ms: Option<u64>,
    pub view: View,
    /// `a` toggles: show acknowledged alerts (on at start).
    pub show_acked: bool,
    /// What has the keyboard.
    pub mode: Mode,
    /// Index of the first row shown in the current view.
    pub scroll: usize,
    /// Terminal size in cells (width, height), for paging and clamping the
    /// scroll.
    pub size: (u16, u16),
    /// Alerts that stand out until the given instant.
    pub highlights: HashMap<String, Instant>,
    /// `--bell`: ring for alerts at or above this severity.
    pub bell: Option<Severity>,
    /// A server `error` message and when it stops being shown.
    pub notice: Option<(String, Instant)>,
    /// Set by [`Action::Quit`]; the loop exits.
    pub quit: bool,
    /// The time of the last update, which the screen shows.
    pub now: Now,
    pub zone: Zone,
    /// False when `NO_COLOR` is set: no colour at all, only bold/reverse.
    pub color: bool,
}

impl App {
    /// A screen for `config`, not yet connected.
    pub fn new(config: &Config, now: Now) -> Self {
        let url = config
            .urls
            .first()
            .map(|u| u.to_string())
            .unwrap_or_default();
        App {
            name: config.name.clone(),
            sites_label: config.sites_label(),
            filter: SiteFilter::new(config.sites.clone(), config.min_severity),
            alerts: AlertBook::new(),
            truncated: false,
            link: Link::Connecting { url, attempt: 1 },
            stale: false,
            last_data_at: None,
            last_heartbeat: None,
            heartbeat_ms: None,
            view: View::Alerts,
            show_acked: true,
            mode: Mode::Browse,
            scroll: 0,
            size: (80, 24),
            highlights: HashMap::new(),
            bell: config.bell,
            notice: None,
            quit: false,
            now,
            zone: Zone::Local,
            color: true,
        }
    }

    /// The alerts the list shows: all active ones, less the acknowledged
    /// when they are hidden, in display order.
    pub fn visible_alerts(&self) -> impl Iterator<Item = &Alert> + '_ {
        let show_acked = self.show_acked;
        self.alerts
            .iter()
            .filter(move |a| show_acked || !a.is_acked())
    }

    /// How many acknowledged alerts `a` is hiding.
    pub fn hidden_acked(&self) -> usize {
        if self.show_acked {
            0
        } else {
            self.alerts.acked_counts().iter().sum()
        }
    }

    /// Visible alerts per severity, in [`Severity::ALL`] order.
    pub fn counts(&self) -> [usize; 5] {
        let mut counts = self.alerts.counts();
        if !self.show_acked {
            for (count, acked) in counts.iter_mut().zip(self.alerts.acked_counts()) {
                *count -= acked;
            }
        }
        counts
    }

    /// How many alerts the list shows.
    pub fn visible_count(&self) -> usize {
        self.counts().iter().sum()
    }

    /// The first row to draw when `rows` rows exist: the scroll, pulled back
    /// if the list has shrunk since (network events do not clamp it, so
    /// that a storm of resolutions costs nothing extra).
    pub fn first_row(&self, rows: usize) -> usize {
        self.scroll.min(rows.saturating_sub(self.page_rows()))
    }

    /// True while `id` should stand out.
    pub fn is_highlighted(&self, id: &str) -> bool {
        self.highlights
            .get(id)
            .is_some_and(|until| *until > self.now.instant)
    }

    /// Rows in the current view, for clamping the scroll.
    fn row_count(&self) -> usize {
        match self.view {
            View::Alerts => self.visible_count(),
            View::Sites => self.site_rows().len(),
        }
    }

    /// Rows that fit on one page of the list: the terminal's height less
    /// the rows around the list ([`layout`]).
    pub fn page_rows(&self) -> usize {
        layout::page_rows(self.size.1)
    }

    /// Pulls the scroll back inside the current view's rows.
    fn clamp_scroll(&mut self) {
        let max = self.row_count().saturating_sub(self.page_rows());
        self.scroll = self.scroll.min(max);
    }
}

#[cfg(test)]
pub(crate) mod tests;
