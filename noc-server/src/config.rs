//! Command-line flags, each also read from its `NOC_…` environment
//! variable; and [`Live`], a setting from a file that SIGHUP may replace.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use clap::Parser;

/// A token from the command line or the environment. Its `Debug` and
/// `Display` never show the value, so a logged config leaks nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The token itself, for comparison and hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A fresh random token of 32 hex digits.
    pub fn generate() -> Self {
        let bytes: [u8; 16] = rand::random();
        Secret(hex::encode(bytes))
    }
}

impl FromStr for Secret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err("a token must not be empty".into());
        }
        Ok(Secret(s.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The NOC alert server: takes alerts from monitoring systems, stores them
/// and pushes every change to the connected wall screens.
#[derive(Debug, Clone, Parser)]
#[command(name = "noc-server", version, about)]
pub struct Cli {
    /// Address to listen on for HTTP and WebSocket.
    #[arg(long, env = "NOC_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Where alerts are stored: `sqlite://PATH` (created on first run) or
    /// `postgres://…`. A password in it is shown as `***` wherever the
    /// server prints the URL.
    #[arg(
        long,
        env = "NOC_DATABASE",
        default_value = "sqlite://noc.db",
        hide_env_values = true
    )]
    pub database: String,

    /// Token that webhooks present on `/internal/*`. When unset, one is
    /// generated and printed at start.
    #[arg(long, env = "NOC_INGEST_TOKEN", hide_env_values = true)]
    pub ingest_token: Option<Secret>,

    /// TOML file of users (`[[user]]` with `email` and `token` or
    /// `token_sha256`) who may create, resolve and acknowledge alerts.
    #[arg(long, env = "NOC_USERS_FILE")]
    pub users_file: Option<PathBuf>,

    /// Token required to read alerts and open the WebSocket. When unset,
    /// viewing is open.
    #[arg(long, env = "NOC_VIEWER_TOKEN", hide_env_values = true)]
    pub viewer_token: Option<Secret>,

    /// TOML file of sources (`[[source]]` with `name`, `kind`, `token` or
    /// `token_sha256`, and optionally `heartbeat`, `site`, `watchdog`,
    /// `api_url`, `api_token_file`): monitoring systems that post with
    /// their own token; see docs/integrations.md.
    #[arg(long, env = "NOC_SOURCES_FILE")]
    pub sources_file: Option<PathBuf>,

    /// TOML file of site groups (`[groups] Tanzania = ["Kilimanjaro", …]`).
    #[arg(long, env = "NOC_SITES_FILE")]
    pub sites_file: Option<PathBuf>,

    /// TOML file of wall screen profiles by name (`[screen."wall-3"]` with
    /// `title`, `sites`, `min_severity`, `view`, …), set in the store at
    /// start and on SIGHUP.
    #[arg(long, env = "NOC_SCREENS_FILE")]
    pub screens_file: Option<PathBuf>,

    /// Interval of heartbeats and Pings to screens, e.g. `250ms`, `30s`, `2m`;
    /// a screen silent for three intervals is disconnected.
    #[arg(long, env = "NOC_HEARTBEAT_INTERVAL", default_value = "30s", value_parser = parse_interval)]
    pub heartbeat_interval: Duration,

    /// How long resolved alerts (with their notes and history) are kept,
    /// e.g. `30d`, `12h`; older ones are deleted, checked every minute.
    #[arg(long, env = "NOC_KEEP_RESOLVED", default_value = "30d", value_parser = parse_keep)]
    pub keep_resolved: Duration,

    /// The flapping rule's window (the contract's 30 minutes), shortened
    /// for tests, e.g. `2s`. Hidden: a NOC keeps the contract's.
    #[arg(long, env = "NOC_FLAP_WINDOW", default_value = "30m", value_parser = parse_flap_window, hide = true)]
    pub flap_window: Duration,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "NOC_MAX_BODY", default_value_t = 1_048_576)]
    pub max_body: usize,

    /// How long Grafana's test notification stays before it resolves by
    /// itself. Hidden: only the tests shorten it.
    #[arg(long, hide = true, default_value = "5m", value_parser = humantime::parse_duration)]
    pub grafana_test_ttl: Duration,

    /// Feed made-up alerts from a few sites, for a first look.
    #[arg(long)]
    pub demo: bool,

    #[command(flatten)]
    pub limits: Limits,

    /// PEM certificate chain: serve HTTPS and WSS directly (with --tls-key).
    #[arg(long, env = "NOC_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, env = "NOC_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Browser origins allowed to open the WebSocket, comma-separated (e.g.
    /// `https://noc.example.org`). When set, an upgrade whose `Origin` is
    /// another is refused with 403 (cross-site WebSocket hijacking);
    /// clients that send no `Origin` (terminal clients) are not affected.
    #[arg(long, env = "NOC_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
}

/// What one client may ask of the server. Each has a flag, so a site with
/// unusual needs can move it, and a default that a NOC never reaches.
#[derive(Debug, Clone, clap::Args)]
pub struct Limits {
    /// Screens connected at once; more are refused with 503.
    #[arg(long, env = "NOC_MAX_SCREENS", default_value_t = 10_000)]
    pub max_screens: usize,

    /// Largest WebSocket message a screen may send, in bytes; more closes
    /// the connection with 1009.
    #[arg(long, env = "NOC_MAX_WS_MESSAGE", default_value_t = 64 * 1024)]
    pub max_ws_message: usize,

    /// Largest WebSocket frame a screen may send, in bytes.
    #[arg(long, env = "NOC_MAX_WS_FRAME", default_value_t = 64 * 1024)]
    pub max_ws_frame: usize,

    /// Sites (after expanding groups) one subscription may name.
    #[arg(long, env = "NOC_MAX_SUBSCRIPTION_SITES", default_value_t = 1000)]
    pub max_subscription_sites: usize,

    /// Messages per second a screen may send (a pong per heartbeat and a
    /// rare subscribe are far below it); a burst of twice as many is let
    /// through, beyond that messages are refused with an error event, and a
    /// screen that keeps flooding is closed with 1008.
    #[arg(long, env = "NOC_MAX_CLIENT_RATE", default_value_t = 20)]
    pub max_client_rate: u32,
}

/// `url` with its password (if any) replaced by `***`, for logs and errors.
/// A string that is not a URL is shown as it is: it holds no password.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Cannot fail: the URL has a password, so it has a host.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// `text` (an error's message) with the password of `url` replaced by
/// `***`, however the error quoted it (as written, or decoded).
pub fn scrub_password(text: &str, url: &str) -> String {
    let Some(password) = url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    else {
        return text.to_owned();
    };
    let decoded = percent_decode(&password);
    text.replace(&password, "***").replace(&decoded, "***")
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("p={s}").as_bytes())
        .next()
        .map_or_else(|| s.to_owned(), |(_, v)| v.into_owned())
}

/// A setting read from a file (users, site groups) that a reload replaces
/// whole: readers take the value in force, which a reload never changes
/// under their feet.
pub struct Live<T>(RwLock<Arc<T>>);

impl<T> Live<T> {
    pub fn new(value: T) -> Self {
        Live(RwLock::new(Arc::new(value)))
    }

    /// The value in force.
    pub fn get(&self) -> Arc<T> {
        // Replaced whole under the lock, so a poisoned one is consistent.
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts `value` in force.
    pub fn set(&self, value: T) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(value);
    }
}

fn parse_keep(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (write e.g. 30d or 12h)"))?;
    if d < Duration::from_secs(1) {
        return Err("resolved alerts are kept at least 1s".into());
    }
    Ok(d)
}

fn parse_flap_window(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (write e.g. 30m or 2s)"))?;
    if d < Duration::from_millis(100) {
        return Err("the flapping window must be at least 100ms".into());
    }
    Ok(d)
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    let d =
        humantime::parse_duration(s).map_err(|e| format!("{e} (write e.g. 250ms, 30s or 2m)"))?;
    if d < Duration::from_millis(10) {
        return Err("the heartbeat interval must be at least 10ms".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_follow_the_contract() {
        let cli = Cli::try_parse_from(["noc-server"]).expect("defaults parse");
        assert_eq!(cli.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.database, "sqlite://noc.db");
        assert_eq!(cli.heartbeat_interval, Duration::from_secs(30));
        assert_eq!(cli.max_body, 1_048_576);
        assert_eq!(cli.keep_resolved, Duration::from_secs(30 * 86_400));
        assert!(!cli.demo);
    }

    #[test]
    fn durations_and_secrets() {
        let cli = Cli::try_parse_from([
            "noc-server",
            "--heartbeat-interval",
            "250ms",
            "--ingest-token",
            "hunter2",
        ])
        .expect("parses");
        assert_eq!(cli.heartbeat_interval, Duration::from_millis(250));
        assert!(!format!("{cli:?}").contains("hunter2"));
        assert!(Cli::try_parse_from(["noc-server", "--heartbeat-interval", "soon"]).is_err());
    }

    #[test]
    fn database_passwords_are_redacted() {
        let url = "postgres://noc:p%40ss@db.example:5432/noc";
        assert_eq!(redact_url(url), "postgres://noc:***@db.example:5432/noc");
        assert_eq!(redact_url("sqlite://noc.db"), "sqlite://noc.db");
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(
            scrub_password("bad p@ss and p%40ss", url),
            "bad *** and ***"
        );
    }
}
