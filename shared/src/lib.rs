//! The wire protocol of the NOC alert system, shared by the server, the
//! terminal client and the tests so that there is one definition of each
//! message.
//!
//! # Layout
//!
//! - [`severity`]: [`Severity`], its order (critical is the greatest) and the
//!   aliases monitoring systems use.
//! - [`alert`]: [`Alert`] as stored and sent, its [`Status`], and its
//!   [`age`] as the screens show it.
//! - [`filter`]: [`SiteFilter`], the one `matches` that decides which screen
//!   wants which alert, and [`parse_site_list`] for comma lists.
//! - [`message`]: [`ServerMessage`] (tagged by `event`) and [`ClientMessage`].
//! - [`profile`]: [`Profile`], a wall screen's configuration by name.
//! - [`api`]: the REST API's other shapes: [`Note`], [`HistoryEntry`],
//!   [`Silence`] and its [`Matcher`]s, [`SourceInfo`].

pub mod alert;
pub mod api;
pub mod filter;
pub mod message;
pub mod profile;
pub mod severity;

pub use alert::{Alert, EVERY_SITE, Status, Writeback, WritebackState, age};
pub use api::{
    HistoryEntry, MatchOp, Matcher, Note, Silence, SilenceState, SourceInfo, SourceState,
    WritebackCounts,
};
pub use filter::{SiteFilter, parse_site_list, site_key};
pub use message::{
    AlertEvent, ClientMessage, EventKind, EventReason, ProtocolError, ServerMessage, Snapshot,
    SnapshotReason,
};
pub use profile::{Bell, Profile, ProfileView};
pub use severity::{Severity, UnknownSeverity};
