//! `--sources-file`: the monitoring systems allowed to post, each with its
//! own token ([`SourceConfig`]), read whole or refused with the file and
//! the line of the first mistake.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::auth::{TokenDigest, token_digest};

/// Names the server uses itself, which a source may not take.
const RESERVED: [&str; 2] = ["noc-server", "api"];
/// The `alertname` of Alertmanager's always-firing alert, by default.
pub const DEFAULT_WATCHDOG: &str = "Watchdog";

/// What kind of system a source is (write-back and the docs' recipes
/// depend on it; any kind may post to any endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Zabbix,
    Alertmanager,
    Grafana,
    Webhook,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Zabbix => "zabbix",
            SourceKind::Alertmanager => "alertmanager",
            SourceKind::Grafana => "grafana",
            SourceKind::Webhook => "webhook",
        }
    }
}

/// One `[[source]]` of the file, checked.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// `[a-z0-9-]{1,64}`: every alert's `source`, and the owner of its alerts.
    pub name: String,
    pub kind: SourceKind,
    pub(crate) token: TokenDigest,
    /// Silent longer than this raises `source-silent-<name>`.
    pub heartbeat: Option<Duration>,
    /// Where that alert shows (`*` by default).
    pub site: String,
    /// The `alertname` that is a heartbeat, not an alert.
    pub watchdog: String,
    /// For write-back: kept as written.
    pub api_url: Option<String>,
    pub api_token_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    #[serde(default)]
    source: Vec<Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    kind: SourceKind,
    token: Option<String>,
    token_sha256: Option<String>,
    heartbeat: Option<String>,
    site: Option<String>,
    watchdog: Option<String>,
    api_url: Option<String>,
    api_token_file: Option<PathBuf>,
}

/// Reads and checks the whole file; the error names the file and the line.
pub fn load(path: &Path) -> Result<Vec<SourceConfig>, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read sources file {shown}: {e}"))?;
    parse(&text).map_err(|e| format!("sources file {shown}: {e}"))
}

/// The sources of `text`; the error says at which line.
pub fn parse(text: &str) -> Result<Vec<SourceConfig>, String> {
    // toml's own message starts with the line and column.
    let file: SourcesFile = toml::from_str(text).map_err(|e| e.to_string().trim().to_owned())?;
    let mut names = HashSet::new();
    file.source
        .into_iter()
        .map(|entry| {
            let line = text[..entry.span().start].lines().count() + 1;
            let entry = entry.into_inner();
            let name = entry.name.clone();
            check(entry)
                .and_then(|source| {
                    if names.insert(source.name.clone()) {
                        Ok(source)
                    } else {
                        Err("is named twice".into())
                    }
                })
                .map_err(|e| format!("line {line}: source {name:?} {e}"))
        })
        .collect()
}

fn check(entry: Entry) -> Result<SourceConfig, String> {
    let name_ok = (1..=64).contains(&entry.name.len())
        && entry
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !name_ok {
        return Err("is not a valid name: use 1 to 64 of a-z, 0-9 and -".into());
    }
    if RESERVED.contains(&entry.name.as_str()) {
        return Err("takes a name the server uses itself".into());
    }
    let token = token_digest(entry.token.as_deref(), entry.token_sha256.as_deref())
        .ok_or("needs exactly one of `token` or `token_sha256` (64 hex digits)")?;
    let heartbeat = entry
        .heartbeat
        .map(|h| {
            humantime::parse_duration(&h)
                .ok()
                .filter(|d| *d >= Duration::from_secs(1))
                .ok_or_else(|| format!("has heartbeat {h:?}: write e.g. 30s, 5m or 1h"))
        })
        .transpose()?;
    Ok(SourceConfig {
        name: entry.name,
        kind: entry.kind,
        token,
        heartbeat,
        site: entry
            .site
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| noc_shared::EVERY_SITE.to_owned()),
        watchdog: entry
            .watchdog
            .unwrap_or_else(|| DEFAULT_WATCHDOG.to_owned()),
        api_url: entry.api_url,
        api_token_file: entry.api_token_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[source]]
name = "zabbix-dc1"
kind = "zabbix"
token = "t1"
heartbeat = "5m"
site = "Kilimanjaro"
api_url = "https://zabbix.dc1.example/api_jsonrpc.php"
api_token_file = "/etc/noc/zabbix-dc1.token"

[[source]]
name = "am"
kind = "alertmanager"
token_sha256 = "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"
watchdog = "DeadMansSwitch"
"#;

    #[test]
    fn reads_every_field() {
        let sources = parse(GOOD).expect("parses");
        assert_eq!(sources.len(), 2);
        let dc1 = &sources[0];
        assert_eq!(dc1.name, "zabbix-dc1");
        assert_eq!(dc1.kind, SourceKind::Zabbix);
        assert_eq!(dc1.heartbeat, Some(Duration::from_secs(300)));
        assert_eq!(dc1.site, "Kilimanjaro");
        assert_eq!(dc1.watchdog, "Watchdog");
        assert_eq!(
            dc1.api_token_file.as_deref(),
            Some(Path::new("/etc/noc/zabbix-dc1.token"))
        );
        assert_eq!(sources[1].site, "*");
        assert_eq!(sources[1].watchdog, "DeadMansSwitch");
        assert!(sources[1].heartbeat.is_none());
    }

    #[test]
    fn mistakes_name_the_line() {
        for (text, wanted) in [
            (
                "[[source]]\nname = \"a\"\nkind = \"nagios\"\ntoken = \"x\"\n",
                "line 3",
            ),
            (
                "\n\n[[source]]\nname = \"A b\"\nkind = \"zabbix\"\ntoken = \"x\"\n",
                "line 3",
            ),
            (
                "[[source]]\nname = \"a\"\nkind = \"zabbix\"\n",
                "line 1: source \"a\" needs",
            ),
            (
                "[[source]]\nname = \"a\"\nkind = \"zabbix\"\ntoken = \"x\"\n\n[[source]]\nname = \"a\"\nkind = \"zabbix\"\ntoken = \"y\"\n",
                "line 6: source \"a\" is named twice",
            ),
            (
                "[[source]]\nname = \"a\"\nkind = \"zabbix\"\ntoken = \"x\"\nheartbeat = \"soon\"\n",
                "heartbeat \"soon\"",
            ),
            (
                "[[source]]\nname = \"noc-server\"\nkind = \"webhook\"\ntoken = \"x\"\n",
                "line 1",
            ),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(wanted), "{err:?} should contain {wanted:?}");
        }
    }
}
