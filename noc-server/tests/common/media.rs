//! The Zabbix media type (`scripts/zabbix/`) for the tests: the YAML's
//! parameters, and its script run in Zabbix's own engine, `zabbix_js`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use super::within;

pub fn media_dir() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "..", "scripts", "zabbix"]
        .iter()
        .collect()
}

pub fn read(name: &str) -> String {
    let path = media_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The text of the YAML literal block (`key: |`) opened by the line
/// `key_line`, as a YAML parser reads it (clip chomping: one final newline).
pub fn literal_block(yaml: &str, key_line: &str) -> String {
    let mut lines = yaml.lines().skip_while(|l| l.trim() != key_line);
    let key = lines
        .next()
        .unwrap_or_else(|| panic!("no {key_line:?} line"));
    let key_indent = indent(key);
    let mut block: Vec<&str> = Vec::new();
    let mut block_indent = None;
    for line in lines {
        if line.trim().is_empty() {
            block.push("");
            continue;
        }
        if indent(line) <= key_indent {
            break;
        }
        let at = *block_indent.get_or_insert(indent(line));
        assert!(indent(line) >= at, "under-indented block line {line:?}");
        block.push(&line[at..]);
    }
    while block.last() == Some(&"") {
        block.pop();
    }
    format!("{}\n", block.join("\n"))
}

/// The media type's parameters, name → value, as the YAML gives them.
pub fn yaml_parameters(yaml: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut lines = yaml
        .lines()
        .skip_while(|l| l.trim() != "parameters:")
        .skip(1)
        .take_while(|l| {
            l.trim_start().starts_with("- name:") || l.trim_start().starts_with("value:")
        });
    while let Some(name) = lines.next() {
        let name = name.trim().trim_start_matches("- name:").trim();
        let value = lines.next().expect("a value after each name");
        let value = value.trim().trim_start_matches("value:").trim();
        let value = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .map_or_else(|| value.to_owned(), |v| v.replace("''", "'"));
        params.insert(name.to_owned(), value);
    }
    params
}

/// `zabbix_js`, if installed.
pub fn zabbix_js() -> Option<PathBuf> {
    super::find_program(&["zabbix_js"])
}

/// What Zabbix hands the script: the YAML's parameters with their macros
/// resolved, and the URL and token set as a user would.
pub fn params(
    base: &str,
    token: &str,
    macros: &BTreeMap<&str, String>,
) -> serde_json::Map<String, Value> {
    yaml_parameters(&read("media_noc.yaml"))
        .into_iter()
        .map(|(name, value)| {
            let value = match name.as_str() {
                "noc_url" => base.to_owned(),
                "noc_token" => token.to_owned(),
                _ => macros.get(value.as_str()).cloned().unwrap_or(value),
            };
            (name, Value::String(value))
        })
        .collect()
}

/// Runs the media type's script in `zabbix_js` with `params`; returns
/// whether it succeeded, and its standard output and error.
pub async fn run(zabbix_js: &Path, params: &serde_json::Map<String, Value>) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("params.json");
    std::fs::write(&input, Value::Object(params.clone()).to_string()).expect("write params");
    let mut command = tokio::process::Command::new(zabbix_js);
    command
        .arg("-s")
        .arg(media_dir().join("noc-webhook.js"))
        .arg("-i")
        .arg(&input)
        .args(["-t", "10"])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    // libcurl would send even 127.0.0.1 through a configured proxy.
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        command.env_remove(var);
    }
    let output = within("zabbix_js to finish", command.output())
        .await
        .expect("zabbix_js runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// `zabbix_js`, or `None` after saying why the test is skipped (or a
/// panic under `NOC_REQUIRE_ZABBIX_JS=1`).
pub fn zabbix_js_or_skip() -> Option<PathBuf> {
    let found = zabbix_js();
    if found.is_none() {
        super::skip_or_fail("NOC_REQUIRE_ZABBIX_JS", "zabbix_js");
    }
    found
}
