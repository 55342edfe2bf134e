//! The wire protocol of the NOC alert system, shared by the server, the
//! terminal client and the tests so that there is one definition of each
//! message.
//!
//! # Layout
//!
//! - [`severity`]: [`Severity`], its order (critical is the greatest) and the
//!   aliases monitoring systems use.
//! - [`alert`]: [`Alert`] as stored and sent, and its [`Status`].
//! - [`filter`]: [`SiteFilter`], the one `matches` that decides which screen
//!   wants which alert, and [`parse_site_list`] for comma lists.
//! - [`message`]: [`ServerMessage`] (tagged by `event`) and [`ClientMessage`].

pub mod alert;
pub mod filter;
pub mod message;
pub mod severity;

pub use alert::{Alert, Status};
pub use filter::{SiteFilter, parse_site_list, site_key};
pub use message::{
    AlertEvent, ClientMessage, EventKind, ProtocolError, ServerMessage, Snapshot, SnapshotReason,
};
pub use severity::{Severity, UnknownSeverity};
