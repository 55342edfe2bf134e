//! The comparison table: the JSON lines of one run (any servers, any
//! scenarios) as one Markdown table, a column per server and a ratio column
//! per server against the baseline (Node `ws`).
//!
//! Each case opens with the screens that actually connected and every
//! failure count. A result with any failure has each of its figures marked
//! `✗` and gets no ratio, so that it is never read as, or against, a clean
//! run.

use serde_json::Value;

use crate::failures::Failures;

/// In front of every figure of a result that had a failure.
const FAILED: &str = "✗";

/// One row of the table: a metric of a scenario.
struct Metric {
    scenario: &'static str,
    /// The JSON field.
    key: &'static str,
    label: &'static str,
    /// Ratios make sense for this metric.
    ratio: bool,
}

const fn m(scenario: &'static str, key: &'static str, label: &'static str, ratio: bool) -> Metric {
    Metric {
        scenario,
        key,
        label,
        ratio,
    }
}

const DELIVERY: [(&str, &str, bool); 6] = [
    ("deliveries_per_s", "deliveries/s", true),
    ("p50_ms", "p50 ms", true),
    ("p99_ms", "p99 ms", true),
    ("max_ms", "max ms", true),
    ("cpu_us_per_delivery", "server CPU µs/delivery", true),
    // Near 100 %, the generator and not the server set the pace.
    ("gen_cpu_pct", "generator CPU %", false),
];

const METRICS: &[Metric] = &[
    m("idle", "rss_per_screen_kib", "RSS KiB/screen", true),
    m("ingest", "alerts_per_s", "alerts/s", true),
    m("ingest", "post_p50_ms", "POST p50 ms", true),
    m("ingest", "post_p99_ms", "POST p99 ms", true),
    m("ingest", "cpu_us_per_alert", "server CPU µs/alert", true),
    m("ingest", "gen_cpu_pct", "generator CPU %", false),
    m("stuck", "rss_growth_kib", "server RSS growth KiB", true),
    m("stuck", "rss_end_kib", "server RSS at end KiB", true),
    m("stuck", "p99_ms", "healthy screens p99 ms", true),
];

fn metrics_of(scenario: &str) -> Vec<(&'static str, &'static str, bool)> {
    if scenario == "fanout" {
        return DELIVERY.to_vec();
    }
    if scenario == "storm" {
        // Whether the posts kept to the storm's rate: a server that slows
        // its ingest down sheds load it should have delivered.
        let mut rows = DELIVERY.to_vec();
        rows.push(("achieved_rate", "alerts/s accepted", true));
        return rows;
    }
    METRICS
        .iter()
        .filter(|m| m.scenario == scenario)
        .map(|m| (m.key, m.label, m.ratio))
        .collect()
}

/// Builds the table from JSON lines (other lines are skipped). Cases appear
/// in the order of their first result, servers likewise; a later result of
/// the same case and server replaces an earlier one.
pub fn render(jsonl: &str, baseline: &str) -> String {
    let results: Vec<Value> = jsonl
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
        .filter(|v| v.get("case").is_some() && v.get("label").is_some())
        .collect();
    let mut cases: Vec<(String, String)> = Vec::new();
    let mut servers: Vec<String> = Vec::new();
    for r in &results {
        let case = (text(&r["scenario"]), text(&r["case"]));
        if !cases.contains(&case) {
            cases.push(case);
        }
        let label = text(&r["label"]);
        if !servers.contains(&label) {
            servers.push(label);
        }
    }
    let find = |case: &str, server: &str| {
        results
            .iter()
            .rev()
            .find(|r| r["case"] == case && r["label"] == server)
    };
    let compared: Vec<&String> = servers.iter().filter(|s| *s != baseline).collect();
    let with_ratios = servers.iter().any(|s| s == baseline) && !compared.is_empty();

    let mut out = String::from("| case | metric |");
    for s in &servers {
        out.push_str(&format!(" {s} |"));
    }
    if with_ratios {
        for s in &compared {
            out.push_str(&format!(" {s} / {baseline} |"));
        }
    }
    out.push_str("\n|---|---|");
    let columns = servers.len() + if with_ratios { compared.len() } else { 0 };
    out.push_str(&"---:|".repeat(columns));
    out.push('\n');
    let mut any_failed = false;
    for (scenario, case) in &cases {
        let results: Vec<Option<&Value>> = servers.iter().map(|s| find(case, s)).collect();
        any_failed |= results.iter().flatten().any(|r| failed(r));
        // Ratio columns stay empty on these rows.
        let blank = if with_ratios { compared.len() } else { 0 };
        if results.iter().flatten().any(|r| r.get("screens").is_some()) {
            out.push_str(&format!("| {case} | screens connected |"));
            for r in &results {
                out.push_str(&format!(" {} |", connected_cell(*r)));
            }
            out.push_str(&"  |".repeat(blank));
            out.push('\n');
        }
        out.push_str(&format!("| {case} | failures |"));
        for r in &results {
            out.push_str(&format!(" {} |", failures_cell(*r)));
        }
        out.push_str(&"  |".repeat(blank));
        out.push('\n');
        for (key, label, ratio) in metrics_of(scenario) {
            out.push_str(&format!("| {case} | {label} |"));
            for r in &results {
                out.push_str(&format!(" {} |", cell(*r, key)));
            }
            if with_ratios {
                let base = clean_number(find(case, baseline), key);
                for s in &compared {
                    let r = match (ratio, clean_number(find(case, s), key), base) {
                        (true, Some(v), Some(b)) if b > 0.0 => format!("{:.2}", v / b),
                        _ => String::new(),
                    };
                    out.push_str(&format!(" {r} |"));
                }
            }
            out.push('\n');
        }
    }
    if any_failed {
        out.push_str(&format!(
            "\n{FAILED}: the case had failures (its failures row says which); its figures \
             are not a clean run's and get no ratio.\n"
        ));
    }
    if cases.iter().any(|(scenario, _)| scenario == "ingest") {
        out.push_str(
            "\nIngest rows count what each server does before it answers: noc-server \
             commits to disk; the peers keep alerts in memory.\n",
        );
    }
    out
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Whether a result had any failure: its own mark, or any count above
/// zero (for lines written without the mark).
fn failed(result: &Value) -> bool {
    result["failed"].as_bool() == Some(true) || Failures::from_json(result).any()
}

/// A figure of a clean result, for a ratio.
fn clean_number(result: Option<&Value>, key: &str) -> Option<f64> {
    let result = result.filter(|r| !failed(r))?;
    result.get(key)?.as_f64()
}

fn connected_cell(result: Option<&Value>) -> String {
    let Some(result) = result else {
        return "–".to_owned();
    };
    let connected = result["connected"].as_u64().unwrap_or(0);
    let screens = result["screens"].as_u64().unwrap_or(0);
    let mark = if connected < screens {
        format!("{FAILED} ")
    } else {
        String::new()
    };
    format!("{mark}{connected} of {screens}")
}

fn failures_cell(result: Option<&Value>) -> String {
    let Some(result) = result else {
        return "–".to_owned();
    };
    let failures = Failures::from_json(result);
    if failed(result) {
        format!("{FAILED} {}", failures.describe())
    } else {
        failures.describe()
    }
}

fn cell(result: Option<&Value>, key: &str) -> String {
    let Some(result) = result else {
        return "–".to_owned();
    };
    let figure = figure(result, key);
    if failed(result) {
        format!("{FAILED} {figure}")
    } else {
        figure
    }
}

fn figure(result: &Value, key: &str) -> String {
    match result.get(key) {
        Some(Value::Number(n)) => {
            let x = n.as_f64().unwrap_or_default();
            if x.abs() >= 100.0 {
                format!("{x:.0}")
            } else if x.abs() >= 10.0 {
                format!("{x:.1}")
            } else {
                format!("{x:.2}")
            }
        }
        Some(Value::Null) | None => "n/a".to_owned(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: &str = r#""connect_failed":0,"requests_failed":0,"lost":0,"duplicated":0,"misrouted":0,"lagged_snapshots":0,"screens_ended_early":0,"failed":false"#;

    #[test]
    fn a_column_per_server_and_ratios_against_the_baseline() {
        let lines = [
            r#"{"scenario":"idle","case":"idle n=1000","label":"noc-server","screens":1000,"connected":1000,"rss_per_screen_kib":3.0,"connect_failed":0,"screens_ended_early":0,"failed":false}"#
                .to_owned(),
            r#"{"scenario":"idle","case":"idle n=1000","label":"node-ws","screens":1000,"connected":1000,"rss_per_screen_kib":6.0,"connect_failed":0,"screens_ended_early":0,"failed":false}"#
                .to_owned(),
            "a human line, skipped".to_owned(),
            format!(
                r#"{{"scenario":"fanout","case":"fanout n=1000 k=1","label":"node-ws","screens":1000,"connected":1000,"deliveries_per_s":1000,"p50_ms":1.5,"p99_ms":12.25,"max_ms":20,"cpu_us_per_delivery":10,{CLEAN}}}"#
            ),
            format!(
                r#"{{"scenario":"fanout","case":"fanout n=1000 k=1","label":"noc-server","screens":1000,"connected":1000,"deliveries_per_s":2000,"p50_ms":0.5,"p99_ms":2,"max_ms":3,"cpu_us_per_delivery":null,{CLEAN}}}"#
            ),
        ]
        .join("\n");
        let table = render(&lines, "node-ws");
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(
            rows[0],
            "| case | metric | noc-server | node-ws | noc-server / node-ws |"
        );
        assert_eq!(
            rows[2],
            "| idle n=1000 | screens connected | 1000 of 1000 | 1000 of 1000 |  |"
        );
        assert_eq!(rows[3], "| idle n=1000 | failures | none | none |  |");
        assert_eq!(
            rows[4],
            "| idle n=1000 | RSS KiB/screen | 3.00 | 6.00 | 0.50 |"
        );
        assert_eq!(
            rows[7],
            "| fanout n=1000 k=1 | deliveries/s | 2000 | 1000 | 2.00 |"
        );
        assert!(rows.contains(&"| fanout n=1000 k=1 | p99 ms | 2.00 | 12.2 | 0.16 |"));
        assert!(rows.contains(&"| fanout n=1000 k=1 | server CPU µs/delivery | n/a | 10.0 |  |"));
        assert_eq!(rows.len(), 2 + 3 + 2 + 6);
        assert!(!table.contains(FAILED), "a clean run has no mark:\n{table}");
    }

    #[test]
    fn a_case_with_failures_is_marked_and_not_compared() {
        // 9,000 of 10,000 screens connected on noc-server; node-ws clean.
        let lines = [
            r#"{"scenario":"idle","case":"idle n=10000","label":"noc-server","screens":10000,"connected":9000,"rss_per_screen_kib":4.0,"connect_failed":1000,"screens_ended_early":0,"failed":true}"#,
            r#"{"scenario":"idle","case":"idle n=10000","label":"node-ws","screens":10000,"connected":10000,"rss_per_screen_kib":6.0,"connect_failed":0,"screens_ended_early":0,"failed":false}"#,
        ]
        .join("\n");
        let table = render(&lines, "node-ws");
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(
            rows[2],
            "| idle n=10000 | screens connected | ✗ 9000 of 10000 | 10000 of 10000 |  |"
        );
        assert_eq!(
            rows[3],
            "| idle n=10000 | failures | ✗ 1000 screens failed to connect | none |  |"
        );
        assert_eq!(
            rows[4], "| idle n=10000 | RSS KiB/screen | ✗ 4.00 | 6.00 |  |",
            "no ratio against a failed case"
        );
        assert!(table.contains("✗: the case had failures"), "{table}");
    }

    #[test]
    fn every_failure_count_shows() {
        let line = r#"{"scenario":"storm","case":"storm n=1000 rate=500","label":"noc-server","screens":1000,"connected":1000,"deliveries_per_s":5,"connect_failed":0,"requests_failed":2,"lost":3,"duplicated":4,"misrouted":5,"lagged_snapshots":6,"screens_ended_early":7}"#;
        let table = render(line, "node-ws");
        assert!(
            table.contains(
                "| failures | ✗ 2 POSTs failed, 3 lost, 4 duplicated, 5 misrouted, \
                 6 lagged snapshots, 7 screens disconnected |"
            ),
            "{table}"
        );
        assert!(table.contains("| deliveries/s | ✗ 5.00 |"), "{table}");
    }

    #[test]
    fn no_ratio_columns_without_the_baseline() {
        let line = r#"{"scenario":"ingest","case":"ingest batch=1","label":"noc-server","alerts_per_s":5000,"post_p50_ms":2,"post_p99_ms":9,"cpu_us_per_alert":40,"requests_failed":0,"failed":false}"#;
        let table = render(line, "node-ws");
        assert!(table.starts_with("| case | metric | noc-server |\n|---|---|---:|\n"));
        assert!(table.contains("| ingest batch=1 | failures | none |"));
        assert!(
            !table.contains("screens connected"),
            "ingest has no screens"
        );
        assert!(table.contains("| ingest batch=1 | alerts/s | 5000 |"));
        assert!(table.contains("noc-server commits to disk"));
    }
}
