//! Command-line flags ([`Cli`]) and the checked settings they become
//! ([`Config`]). Every URL is validated and normalised here, before the
//! terminal is taken, so that a typo is one line on standard error and exit
//! code 2 instead of a blank screen. The same goes for `--ca-file`, and
//! the TLS configuration for `wss://` is built here once, at start.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use noc_shared::{ClientMessage, Severity, parse_site_list};
use url::Url;

use crate::tls::{self, BadCaFile};

/// The WebSocket path of the server, appended to `http(s)://` bases and to
/// bare `ws://host:port` URLs.
pub const WS_PATH: &str = "/ws/alerts";

/// The URL used when neither `--url` nor `NOC_URL` is given.
pub const DEFAULT_URL: &str = "ws://localhost:8080/ws/alerts";

/// The NOC wall screen: live alerts from a noc-server, in the terminal.
#[derive(Clone, Parser)]
#[command(name = "noc-tui", version, about, long_about = None)]
pub struct Cli {
    /// Server to connect to: ws:// or wss:// (a bare ws://host:port means
    /// /ws/alerts), or an http(s):// base whose path is kept as a prefix.
    /// Repeat to give fallbacks, tried in turn.
    #[arg(long = "url", value_name = "URL", env = "NOC_URL", default_value = DEFAULT_URL)]
    pub urls: Vec<String>,

    /// Sites or site groups to show, as a comma list (default: all sites).
    #[arg(long, value_name = "A,B", env = "NOC_SITES")]
    pub sites: Option<String>,

    /// Least severe alert to show: critical, high, average, warning or info.
    #[arg(long, value_name = "SEVERITY", default_value = "info")]
    pub min_severity: Severity,

    /// Name of this screen, shown in the server's list of screens
    /// (default: the host name).
    #[arg(long, value_name = "N")]
    pub name: Option<String>,

    /// Viewer or user token, for servers that require one.
    #[arg(long, value_name = "T", env = "NOC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// A user's token, for acting on alerts (ack, unack, notes, silences);
    /// also used to view when --token is not given.
    #[arg(long, value_name = "T", env = "NOC_USER_TOKEN", hide_env_values = true)]
    pub user_token: Option<String>,

    /// One line per alert and event on standard output instead of the
    /// full-screen view (for logs, pipes and dumb consoles).
    #[arg(long)]
    pub plain: bool,

    /// Ring the terminal bell when an alert at or above this severity
    /// arrives (default: never).
    #[arg(long, value_name = "SEVERITY")]
    pub bell: Option<Severity>,

    /// Write a diagnostic log to this file (default: no log; the screen is
    /// never written to).
    #[arg(long, value_name = "PATH", env = "NOC_TUI_LOG")]
    pub log_file: Option<PathBuf>,

    /// PEM file of CA certificates to trust for wss://, in addition to the
    /// system's (for a server whose certificate a private CA signed).
    #[arg(long, value_name = "PATH", env = "NOC_CA_FILE")]
    pub ca_file: Option<PathBuf>,
}

// Written by hand so that the token never reaches a log or a panic message.
impl fmt::Debug for Cli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cli")
            .field("urls", &self.urls)
            .field("sites", &self.sites)
            .field("min_severity", &self.min_severity)
            .field("name", &self.name)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field(
                "user_token",
                &self.user_token.as_ref().map(|_| "<redacted>"),
            )
            .field("plain", &self.plain)
            .field("bell", &self.bell)
            .field("log_file", &self.log_file)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Flags that cannot be used: one line on standard error and exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Url(#[from] BadUrl),
    #[error(transparent)]
    CaFile(#[from] BadCaFile),
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
}

/// A `--url` that is not a WebSocket or HTTP URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --url {url:?}: {reason}")]
pub struct BadUrl {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it, for a person.
    pub reason: String,
}

/// The settings of one run, checked and normalised.
#[derive(Clone)]
pub struct Config {
    /// WebSocket URLs (`ws://` or `wss://`, path included, no query), tried
    /// in turn.
    pub urls: Vec<Url>,
    /// The sites asked for, `None` for all.
    pub sites: Option<Vec<String>>,
    pub min_severity: Severity,
    /// The screen's name, sent as `client`.
    pub name: String,
    /// What the WebSocket and reads send: `--token`, else `--user-token`.
    pub token: Option<String>,
    /// `--user-token`: what actions send; `None` and the action keys say
    /// that one is needed.
    pub user_token: Option<String>,
    pub plain: bool,
    pub bell: Option<Severity>,
    pub log_file: Option<PathBuf>,
    /// The `--ca-file` given, if any (already read into `tls`).
    pub ca_file: Option<PathBuf>,
    /// The TLS configuration of every `wss://` connection: the system's CAs
    /// and the `--ca-file`'s. `None` when no URL is `wss://`.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field(
                "urls",
                &self.urls.iter().map(Url::as_str).collect::<Vec<_>>(),
            )
            .field("sites", &self.sites)
            .field("min_severity", &self.min_severity)
            .field("name", &self.name)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field(
                "user_token",
                &self.user_token.as_ref().map(|_| "<redacted>"),
            )
            .field("plain", &self.plain)
            .field("bell", &self.bell)
            .field("ca_file", &self.ca_file)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Config {
    /// Checks the flags: a bad URL or an unusable `--ca-file` is refused.
    /// The `--ca-file` is read even when no URL needs it, so that a typo
    /// shows at once rather than on the day a `wss://` URL is added.
    pub fn from_cli(cli: Cli) -> Result<Config, ConfigError> {
        let urls = cli
            .urls
            .iter()
            .map(|u| normalize_url(u))
            .collect::<Result<Vec<_>, _>>()?;
        let extra_roots = cli.ca_file.as_deref().map(tls::read_ca_file).transpose()?;
        // `ws://` needs no TLS, so the system's store is only read when a
        // `wss://` URL will use it.
        let tls = if urls.iter().any(|u| u.scheme() == "wss") {
            Some(tls::client_config(extra_roots)?)
        } else {
            None
        };
        let name = cli
            .name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(default_name);
        let user_token = cli.user_token.filter(|t| !t.is_empty());
        Ok(Config {
            urls,
            sites: cli.sites.as_deref().and_then(parse_site_list),
            min_severity: cli.min_severity,
            name,
            token: cli
                .token
                .filter(|t| !t.is_empty())
                .or_else(|| user_token.clone()),
            user_token,
            plain: cli.plain,
            bell: cli.bell,
            log_file: cli.log_file,
            ca_file: cli.ca_file,
            tls,
        })
    }

    /// The subscribe message sent after every connect.
    pub fn subscribe_message(&self) -> ClientMessage {
        ClientMessage::Subscribe {
            sites: self.sites.clone().unwrap_or_default(),
            min_severity: Some(self.min_severity),
        }
    }

    /// The URL to dial for `base`: the filter and the screen's name in the
    /// query, as the contract asks. The token is not put here; it travels in
    /// the `Authorization` header, where proxies do not log it.
    pub fn connect_url(&self, base: &Url) -> Url {
        let mut url = base.clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(sites) = &self.sites {
                query.append_pair("sites", &sites.join(","));
            }
            query.append_pair("min_severity", self.min_severity.as_str());
            query.append_pair("client", &self.name);
        }
        url
    }

    /// The sites line of the header: `all` or the comma list.
    pub fn sites_label(&self) -> String {
        match &self.sites {
            None => "all".to_owned(),
            Some(list) => list.join(","),
        }
    }
}

/// The host name, or `noc-tui` when the system has none to give.
fn default_name() -> String {
    let name = gethostname::gethostname()
        .to_string_lossy()
        .trim()
        .to_owned();
    if name.is_empty() {
        "noc-tui".to_owned()
    } else {
        name
    }
}

/// Turns a `--url` into the WebSocket URL to dial, following the contract:
///
/// - `ws://` / `wss://`: kept; an empty path (`ws://host:port`) becomes
///   `/ws/alerts`.
/// - `http://` / `https://`: a base; the scheme becomes `ws`/`wss` and its
///   path, if any, is a prefix (`http://h/noc` → `ws://h/noc/ws/alerts`). A
///   base that already ends in `/ws/alerts` is taken as the full URL rather
///   than doubled.
/// - anything else is refused.
///
/// A query given with a `ws://` URL is kept; a fragment is dropped.
pub fn normalize_url(input: &str) -> Result<Url, BadUrl> {
    let bad = |reason: &str| BadUrl {
        url: input.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = input.trim();
    let mut url = Url::parse(trimmed)
        .map_err(|e| bad(&format!("{e}; expected ws://, wss://, http:// or https://")))?;
    let secure = match url.scheme() {
        "ws" | "http" => false,
        "wss" | "https" => true,
        other => {
            return Err(bad(&format!(
                "unsupported scheme {other:?}; expected ws://, wss://, http:// or https://"
            )));
        }
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    let is_base = matches!(url.scheme(), "http" | "https");
    let path = url.path().trim_end_matches('/').to_owned();
    let path = if path.is_empty() {
        WS_PATH.to_owned()
    } else if is_base && !path.ends_with(WS_PATH) {
        format!("{path}{WS_PATH}")
    } else {
        path
    };
    // http→ws and https→wss are both moves between "special" schemes, which
    // `set_scheme` allows.
    url.set_scheme(if secure { "wss" } else { "ws" })
        .map_err(|()| bad("cannot use as a WebSocket URL"))?;
    url.set_path(&path);
    if is_base {
        url.set_query(None);
    }
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests;
