//! `noc-tui`, the NOC wall screen: live alerts from a `noc-server` in a
//! terminal, built to run for months on a text-only console.
//!
//! # Layout
//!
//! - [`cli`]: the flags ([`cli::Cli`]) and the checked settings they become
//!   ([`cli::Config`]), URL normalisation included.
//! - [`app`]: the screen's model ([`app::App`]: the alerts, the link, the
//!   view, the mode, the scroll; the site board's rows) and the pure
//!   [`app::update`] that applies actions, resizes, clock ticks, network
//!   events and API replies; the selection, the `/` filter, the details,
//!   the prompts and the profile.
//! - [`input`]: the key map, a key and the mode in, an [`app::Action`] out;
//!   beside it the help's list of keys.
//! - [`layout`]: the rows around the list, which [`ui`] lays out and
//!   [`app`] pages by.
//! - [`alerts`]: [`alerts::AlertBook`], the active alerts by id with a sorted
//!   index, so drawing never sorts.
//! - [`api`]: the server's REST API for the operator's actions and an
//!   alert's history: [`api::Request`]/[`api::Reply`] as plain data for
//!   the model, [`api::ApiClient`] doing the HTTP off the screen's task.
//! - [`net`]: the network task (connect, subscribe, answer heartbeats,
//!   detect a dead link, reconnect with [`net::backoff`]).
//! - [`ui`]: render functions, one per region, and the colour theme; it
//!   reads the model, never the reverse.
//! - [`screen`]: the full-screen loop that ties keys (through [`input`]),
//!   network and frames together; [`terminal`] takes and restores the
//!   terminal.
//! - [`plain`]: `--plain`, one line per event on standard output.
//! - [`tls`]: the TLS configuration for `wss://` (the system's CAs and
//!   `--ca-file`).
//! - [`logging`], [`text`]: log file setup and small text helpers.

pub mod alerts;
pub mod api;
pub mod app;
pub mod cli;
pub mod input;
pub mod layout;
pub mod logging;
pub mod net;
pub mod plain;
pub mod screen;
pub mod terminal;
pub mod text;
pub mod tls;
pub mod ui;

use std::io;

pub use cli::{Cli, Config};

/// The runtime `noc-tui` runs on (two worker threads); `noc-tui-storm`
/// builds it here too, so that it measures the client as it runs.
pub fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// Runs the screen (or plain mode) until the operator quits. The terminal
/// is always given back, whatever the outcome.
pub async fn run(config: Config) -> io::Result<()> {
    if config.plain {
        plain::run(config).await
    } else {
        screen::run(config).await
    }
}
