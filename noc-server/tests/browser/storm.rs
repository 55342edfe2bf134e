//! The page under load, a benchmark rather than a test (ignored by plain
//! `cargo test`; `scripts/bench-browser.sh` runs it in release): 1,000
//! alerts on screen, then a storm of updates at `NOC_STORM_RATE` events/s
//! (default 500) for `NOC_STORM_SECS` seconds (default 60). It prints the
//! page's frame times (requestAnimationFrame deltas, and the browser's own
//! long-animation-frame entries) and its JS heap before, during and after.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{TestServer, WAIT};
use crate::harness::{Browser, Tools};

const ALERTS: usize = 1000;
const SITES: [&str; 6] = [
    "Kilimanjaro",
    "Serengeti",
    "Kampala",
    "Entebbe",
    "Arusha",
    "Mwanza",
];
const SEVERITIES: [&str; 5] = ["critical", "high", "average", "warning", "info"];
/// One POST of this many alerts every tick: 500 events/s is 10 × 50.
const TICK: Duration = Duration::from_millis(100);

/// Starts recording frame gaps and long animation frames in the page.
const RECORD: &str = "
    window.bench = { deltas: [], loaf: [], storm: [] };
    let last = performance.now();
    const frame = (t) => {
        window.bench.deltas.push(t - last);
        if (window.bench.storming) window.bench.storm.push(t - last);
        last = t;
        requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    try {
        new PerformanceObserver((list) => {
            for (const e of list.getEntries()) window.bench.loaf.push(e.duration);
        }).observe({ type: 'long-animation-frame', buffered: false });
    } catch (e) { window.bench.loaf = null; }
    return null;";

/// Takes the recorded frames: count, p50, p99, max (ms), and the long
/// animation frames (count, max).
const TAKE: &str = "
    const d = window.bench.deltas.slice().sort((a, b) => a - b);
    const at = (q) => d.length ? d[Math.min(d.length - 1, Math.floor(q * d.length))] : null;
    const loaf = window.bench.loaf;
    const out = {
        frames: d.length, p50: at(0.5), p99: at(0.99), max: d.length ? d[d.length - 1] : null,
        long_frames: loaf ? loaf.length : null, long_max: loaf && loaf.length ? Math.max(...loaf) : null,
        seq: window.noc.model.lastSeq, rendered: window.noc.rendered, render_max_ms: window.noc.renderMs.max,
    };
    window.bench.deltas = []; if (loaf) window.bench.loaf = []; window.noc.renderMs.max = 0;
    return out;";

/// The whole storm's frames, as TAKE counts them, then forgotten.
const STORM: &str = "
    const d = window.bench.storm.sort((a, b) => a - b);
    const at = (q) => d[Math.min(d.length - 1, Math.floor(q * d.length))];
    const out = { frames: d.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: d[d.length - 1],
                  over_100ms: d.filter(x => x > 100).length };
    window.bench.storm = [];
    return out;";

/// The JS heap in use after a full collection, in bytes.
const HEAP: &str = "window.gc(); window.gc(); return performance.memory.usedJSHeapSize;";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn storm_alert(i: usize, round: u64) -> Value {
    let n = i % ALERTS;
    json!({
        "id": format!("storm-{n:04}"),
        "site": SITES[n % SITES.len()],
        "severity": SEVERITIES[(n + round as usize) % SEVERITIES.len()],
        "message": format!("Storm alert {n}, round {round}: interface errors rising"),
        "host": format!("host-{n:04}.example"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-browser.sh"]
async fn storm() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let rate = env_number("NOC_STORM_RATE", 500);
    let secs = env_number("NOC_STORM_SECS", 60);
    let per_tick = usize::try_from(rate / 10).expect("rate");
    let server = TestServer::start(&["--heartbeat-interval", "5s"]).await;
    let all: Vec<Value> = (0..ALERTS).map(|i| storm_alert(i, 0)).collect();
    server.post_ok(&Value::Array(all)).await;

    let flags = ["--js-flags=--expose-gc", "--enable-precise-memory-info"];
    let browser = Browser::start_with(&tools, &flags).await;
    browser.open(&server, "/?client=storm").await;
    browser
        .wait_for(
            "1,000 alerts",
            WAIT,
            &format!("return window.noc && window.noc.model.alerts.size === {ALERTS};"),
        )
        .await;
    browser.js(RECORD).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = browser.js(TAKE).await;
    println!("idle, 1,000 alerts: {idle}");
    let heap_before = browser.js(HEAP).await;
    println!("heap before: {heap_before} B");

    // Two storms with a quiet spell after each: the heap after the second
    // shows whether the first left anything behind.
    let mut round = 1;
    for storm in 1..=2 {
        browser
            .js("window.bench.storming = true; return null;")
            .await;
        let (sent, took, peak) = blow(&server, &browser, secs, per_tick, &mut round).await;
        browser
            .js("window.bench.storming = false; return null;")
            .await;
        let frames = browser.js(STORM).await;
        println!(
            "storm {storm}: sent {sent} updates in {took:.1?} ({:.0}/s); frames {frames}; peak heap {peak} B",
            sent as f64 / took.as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
        let after = browser.js(TAKE).await;
        let heap = browser.js(HEAP).await;
        println!("after storm {storm}: frames {after}; heap {heap} B");
    }
    browser.close().await;
    server.stop().await;
}

/// One storm: every tick, `per_tick` updates of existing alerts, for
/// `secs`. Returns how many were sent, in how long, and the peak heap.
async fn blow(
    server: &TestServer,
    browser: &Browser,
    secs: u64,
    per_tick: usize,
    round: &mut u64,
) -> (usize, Duration, u64) {
    let start = Instant::now();
    let mut sent = 0usize;
    let mut peak = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        let tick = Instant::now();
        // Paced by the clock: after a slow answer the next batch is bigger,
        // so that the rate holds on average.
        let due = (start.elapsed().as_secs_f64() * per_tick as f64 * 10.0) as usize + per_tick;
        let n = due.saturating_sub(sent).max(1);
        let batch: Vec<Value> = (0..n).map(|k| storm_alert(sent + k, *round)).collect();
        sent += n;
        *round += 1;
        server.post_ok(&Value::Array(batch)).await;
        if *round % 50 == 0 {
            let heap = browser
                .js("return performance.memory.usedJSHeapSize;")
                .await;
            peak = peak.max(heap.as_u64().unwrap_or(0));
        }
        tokio::time::sleep(TICK.saturating_sub(tick.elapsed())).await;
    }
    (sent, start.elapsed(), peak)
}
