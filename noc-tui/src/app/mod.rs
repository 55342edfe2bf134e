//! The screen's model: everything it shows ([`App`]) and the questions the
//! view asks of it (which alerts are visible, the counts, the first row of
//! the page, the site board's rows). [`update()`] is the one function that
//! changes it: an [`Action`] from the keyboard, a resize, a clock tick or a
//! network event in, the new state and a few [`Effects`] out. No I/O
//! happens here, so every behaviour of the screen is testable without a
//! terminal or a socket.
//!
//! - `mod.rs`: [`App`] and its parts ([`Now`], [`Link`], [`View`],
//!   [`Mode`], [`Zone`]).
//! - `visible.rs`: the read-only queries the view draws from: which alerts
//!   show (acked, silenced, the `/` filter), the counts, the selection and
//!   the first row of the page.
//! - `update.rs`: [`Msg`], [`Action`], [`Effects`] and [`update()`].
//! - `act.rs`: the operator's actions on the selected alert: the prompts
//!   they open and the [`Request`](crate::api::Request) they end in.
//! - `prompt.rs`: [`Prompt`], the one-line questions (`a`, `n`, `s`).
//! - `details.rs`: [`Details`], one alert opened with Enter, and its
//!   history as the API gives it.
//! - `profile.rs`: the screen's profile from the server, applied.
//! - `sites.rs`: the site board's rows, [`App::site_rows`].
//! - `tests.rs`: the model's tests, and the fixtures other modules' tests
//!   share.

mod act;
mod details;
mod profile;
mod prompt;
mod sites;
mod update;
mod visible;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use noc_shared::{Profile, Severity, SiteFilter};

use crate::alerts::AlertBook;
use crate::cli::Config;

pub use details::{Details, Fetch};
pub use profile::IDENTIFY_FOR;
pub use prompt::{Prompt, PromptKind};
pub use sites::SiteRow;
pub use update::{Action, BELL_EVERY, Effects, HIGHLIGHT_FOR, Msg, update};

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
    /// One alert's details (Enter), [`App::details`].
    Details,
    /// A one-line question at the bottom, [`App::prompt`].
    Prompt,
    /// Typing the `/` filter, [`App::query`].
    Filter,
}

/// A line for the operator at the bottom of the screen: an action's outcome
/// in words, shown until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    /// True for a failure, drawn to stand out.
    pub error: bool,
    pub until: Instant,
}

/// The selected alert: its id, and its severity and start, which place it
/// in the display order so that, once it has left the list, the selection
/// falls on the alert that came after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub id: String,
    pub severity: Severity,
    pub created_at: DateTime<Utc>,
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
    /// `h` toggles: show acknowledged alerts (on at start).
    pub show_acked: bool,
    /// `z` toggles: show silenced alerts (off at start).
    pub show_silenced: bool,
    /// The `/` filter, lower-cased; empty for none.
    pub query: String,
    /// What has the keyboard.
    pub mode: Mode,
    /// Index of the first row shown in the current view.
    pub scroll: usize,
    /// The selected alert, by id (and its place in the display order, for
    /// when it leaves), so that it stays selected as the list moves; `None`
    /// means the first row.
    pub selected: Option<Selected>,
    /// The alert opened with Enter.
    pub details: Option<Details>,
    /// The question being asked at the bottom.
    pub prompt: Option<Prompt>,
    /// True when a user token was given, so the action keys may act.
    pub can_act: bool,
    /// A line for the operator (an action's outcome) and when it goes.
    pub status: Option<Status>,
    /// Terminal size in cells (width, height), for paging and clamping the
    /// scroll.
    pub size: (u16, u16),
    /// Alerts that stand out until the given instant.
    pub highlights: HashMap<String, Instant>,
    /// Ring for alerts at or above this severity: the profile's `bell`, else
    /// `--bell`.
    pub bell: Option<Severity>,
    /// `--bell`, for when the profile goes.
    pub own_bell: Option<Severity>,
    /// When the bell last rang: it rings at most once per [`BELL_EVERY`].
    pub last_bell: Option<Instant>,
    /// The screen's profile from the server, `None` when it has none.
    pub profile: Option<Profile>,
    /// With the profile's `view = "rotate"`: when to switch views next.
    pub rotate_at: Option<Instant>,
    /// The screen's name fills the screen until then (`identify`).
    pub identify_until: Option<Instant>,
    /// A server `error` message and when it stops being shown.
    pub notice: Option<(String, Instant)>,
    /// Set by [`Action::Quit`]; the loop exits.
    pub quit: bool,
    /// How many actions (keys that mean something) have been applied: the
    /// storm benchmark times each key to the first frame drawn after it.
    pub actions_applied: u64,
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
            show_silenced: false,
            query: String::new(),
            mode: Mode::Browse,
            scroll: 0,
            selected: None,
            details: None,
            prompt: None,
            can_act: config.user_token.is_some(),
            status: None,
            size: (80, 24),
            highlights: HashMap::new(),
            bell: config.bell,
            own_bell: config.bell,
            last_bell: None,
            profile: None,
            rotate_at: None,
            identify_until: None,
            notice: None,
            quit: false,
            actions_applied: 0,
            now,
            zone: Zone::Local,
            color: true,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
