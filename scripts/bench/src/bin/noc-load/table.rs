//! The comparison table: the JSON lines of one run (any servers, any
//! scenarios) as one Markdown table, a column per server and a ratio column
//! per server against the baseline (Node `ws`).

use serde_json::Value;

/// One row of the table: a metric of a scenario.
struct Metric {
    scenario: &'static str,
    /// The JSON field; `lost_dup` stands for the pair `lost` / `duplicated`.
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

const DELIVERY: [(&str, &str, bool); 7] = [
    ("deliveries_per_s", "deliveries/s", true),
    ("p50_ms", "p50 ms", true),
    ("p99_ms", "p99 ms", true),
    ("max_ms", "max ms", true),
    ("cpu_us_per_delivery", "server CPU µs/delivery", true),
    ("lost_dup", "lost / duplicated", false),
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
    m(
        "stuck",
        "lost_dup",
        "healthy screens lost / duplicated",
        false,
    ),
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
    for (scenario, case) in &cases {
        for (key, label, ratio) in metrics_of(scenario) {
            out.push_str(&format!("| {case} | {label} |"));
            for s in &servers {
                out.push_str(&format!(" {} |", cell(find(case, s), key)));
            }
            if with_ratios {
                let base = number(find(case, baseline), key);
                for s in &compared {
                    let r = match (ratio, number(find(case, s), key), base) {
                        (true, Some(v), Some(b)) if b > 0.0 => format!("{:.2}", v / b),
                        _ => String::new(),
                    };
                    out.push_str(&format!(" {r} |"));
                }
            }
            out.push('\n');
        }
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

fn number(result: Option<&Value>, key: &str) -> Option<f64> {
    result?.get(key)?.as_f64()
}

fn cell(result: Option<&Value>, key: &str) -> String {
    let Some(result) = result else {
        return "–".to_owned();
    };
    if key == "lost_dup" {
        return format!("{} / {}", result["lost"], result["duplicated"]);
    }
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

    #[test]
    fn a_column_per_server_and_ratios_against_the_baseline() {
        let lines = [
            r#"{"scenario":"idle","case":"idle n=1000","label":"noc-server","rss_per_screen_kib":3.0}"#,
            r#"{"scenario":"idle","case":"idle n=1000","label":"node-ws","rss_per_screen_kib":6.0}"#,
            "a human line, skipped",
            r#"{"scenario":"fanout","case":"fanout n=1000 k=1","label":"node-ws","deliveries_per_s":1000,"p50_ms":1.5,"p99_ms":12.25,"max_ms":20,"cpu_us_per_delivery":10,"lost":0,"duplicated":0}"#,
            r#"{"scenario":"fanout","case":"fanout n=1000 k=1","label":"noc-server","deliveries_per_s":2000,"p50_ms":0.5,"p99_ms":2,"max_ms":3,"cpu_us_per_delivery":null,"lost":1,"duplicated":2}"#,
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
            "| idle n=1000 | RSS KiB/screen | 3.00 | 6.00 | 0.50 |"
        );
        assert_eq!(
            rows[3],
            "| fanout n=1000 k=1 | deliveries/s | 2000 | 1000 | 2.00 |"
        );
        assert!(rows.contains(&"| fanout n=1000 k=1 | p99 ms | 2.00 | 12.2 | 0.16 |"));
        assert!(rows.contains(&"| fanout n=1000 k=1 | server CPU µs/delivery | n/a | 10.0 |  |"));
        assert!(rows.contains(&"| fanout n=1000 k=1 | lost / duplicated | 1 / 2 | 0 / 0 |  |"));
        assert_eq!(rows.len(), 2 + 1 + 7);
    }

    #[test]
    fn no_ratio_columns_without_the_baseline() {
        let line = r#"{"scenario":"ingest","case":"ingest batch=1","label":"noc-server","alerts_per_s":5000,"post_p50_ms":2,"post_p99_ms":9,"cpu_us_per_alert":40}"#;
        let table = render(line, "node-ws");
        assert!(table.starts_with("| case | metric | noc-server |\n|---|---|---:|\n"));
        assert!(table.contains("| ingest batch=1 | alerts/s | 5000 |"));
        assert!(table.contains("noc-server commits to disk"));
    }
}
