//! Write-back to the source: what an operator does on the wall (ack,
//! unack, a note, a resolve) told to the system the alert came from, so
//! that the people working in Zabbix or Alertmanager see it too.
//!
//! - [`Notice`]: what is told, as stored in the outbox.
//! - [`zabbix`]: Zabbix's JSON-RPC `event.acknowledge`.
//! - [`alertmanager`]: a silence in Alertmanager for an ack, deleted on
//!   unack or resolve.
//! - [`worker`]: sends the outbox's rows (`store/outbox.rs`), retries, and
//!   shows the outcome on the alert.
//! - [`breaker`]: a source that is down is probed once per backoff while
//!   its other write-backs wait.

pub mod alertmanager;
pub mod breaker;
pub mod worker;
pub mod zabbix;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How long one request to a source may take before it counts as failed
/// (and is tried again later).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What an operator did, as the source hears of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Notice {
    /// Acknowledged by `by` (an email), with an optional note, lapsing at
    /// `expires_at` if given.
    Ack {
        by: String,
        note: Option<String>,
        expires_at: Option<DateTime<Utc>>,
    },
    /// The acknowledgement taken back by `by`.
    Unack { by: String },
    /// A note added by `by`.
    Note { by: String, text: String },
    /// Resolved on the wall.
    Resolve,
}

/// Why a write-back did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again: the source was unreachable, slow, refused the
    /// token (which an operator may fix), or answered with an error.
    #[error("{0}")]
    Retry(String),
    /// Trying again cannot help: the alert lacks what the source needs to
    /// find it (a Zabbix event id, any label).
    #[error("{0}")]
    Fail(String),
}

/// The HTTP client every write-back uses: rustls, and a bound on each
/// request so a hung source never holds the worker.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(REQUEST_TIMEOUT)
        .build()
        // Building fails only when the TLS backend cannot start, which a
        // rustls build with its bundled roots does not do.
        .unwrap_or_default()
}

/// The API token in `path`, read at each send so that a rotated token is
/// used at once. Surrounding whitespace (a final newline) is not part of it.
pub fn read_token(path: &Path) -> Result<String, SendError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SendError::Retry(format!("api_token_file {}: {e}", path.display())))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(SendError::Retry(format!(
            "api_token_file {} is empty",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

/// A transport failure in words for the alert's `writeback.error`: what
/// failed and where, never a token.
fn transport(what: &str, url: &str, e: &reqwest::Error) -> SendError {
    let why = if e.is_timeout() {
        format!("no answer within {}s", REQUEST_TIMEOUT.as_secs())
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        e.to_string()
    };
    SendError::Retry(format!("{what} {url}: {why}"))
}
