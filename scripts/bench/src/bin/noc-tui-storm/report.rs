//! What the run measured, judged against its targets: one JSON line and one
//! line for a person.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use noc_bench::percentile::{self, histogram, quantile_ms};
use noc_tui::app::App;
use serde_json::json;

use crate::Args;
use crate::drive::{Driven, planned_events};
use crate::sink::Output;

/// The targets the run is judged against.
const CPU_TARGET_PCT: f64 = 15.0;
const KEY_TARGET_MS: f64 = 100.0;

pub struct Report {
    pub json: serde_json::Value,
    pub human: String,
    /// The client did not apply the whole storm (see `check`).
    pub failed: bool,
}

/// What the client made of the storm.
pub struct Client {
    pub alerts_held: usize,
    /// Events the screen loop took off its queue, applying each.
    pub taken: u64,
    /// The alerts the screen holds are those the events sent make.
    pub state_matches: bool,
    /// What went wrong (`check::failures`); empty for a whole storm.
    pub failures: Vec<String>,
}

/// What the frame hook sees.
pub struct Frames {
    pub drawn: u64,
    /// Keys answered so far: the screen counts the actions it applied.
    answered: usize,
    /// Key → frame, in microseconds.
    latencies: Histogram<u64>,
}

impl Frames {
    pub fn new() -> Self {
        Frames {
            drawn: 0,
            answered: 0,
            latencies: histogram(),
        }
    }

    /// A frame was written at `now` from `app`; `sent` are the times the
    /// keys were sent, in order.
    pub fn drawn(&mut self, app: &App, sent: &[Instant], now: Instant) {
        self.drawn += 1;
        let applied = usize::try_from(app.actions_applied).unwrap_or(usize::MAX);
        while self.answered < applied.min(sent.len()) {
            percentile::record(&mut self.latencies, now - sent[self.answered]);
            self.answered += 1;
        }
    }
}

/// The process's memory at the end.
pub struct Memory {
    pub final_rss_kib: u64,
    pub peak_rss_kib: u64,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn pct(cpu: Duration, over: f64) -> f64 {
    cpu.as_secs_f64() / over.max(1e-9) * 100.0
}

/// The start of the human line: `FAILED: what went wrong. ` or nothing.
fn marked(failures: &[String]) -> String {
    if failures.is_empty() {
        String::new()
    } else {
        format!("FAILED: {}. ", failures.join("; "))
    }
}

/// A latency for the human line.
fn show_ms(ms: Option<f64>) -> String {
    ms.map_or_else(|| "–".to_owned(), |ms| format!("{ms:.1}"))
}

pub fn report(
    args: &Args,
    driven: &Driven,
    frames: &Frames,
    output: Output,
    memory: Memory,
    client: Client,
) -> Report {
    let secs = driven.elapsed.as_secs_f64();
    let cpu_total_pct = pct(driven.cpu, secs);
    let feed_pct = pct(driven.feed_cpu, secs);
    let cpu_pct = (cpu_total_pct - feed_pct).max(0.0);
    let keys_timed = frames.latencies.len() as usize;
    let p50 = quantile_ms(&frames.latencies, 0.50);
    let p99 = quantile_ms(&frames.latencies, 0.99);
    let max = quantile_ms(&frames.latencies, 1.0);
    let unanswered = driven.keys.saturating_sub(keys_timed);

    // Bounded memory: the resident set over the second half of the storm
    // against the first.
    let rss: Vec<u64> = driven.samples.iter().map(|s| s.rss_kib).collect();
    let half = rss.len() / 2;
    let rss_mid = rss.get(half).copied().unwrap_or(0);
    let rss_last = rss.last().copied().unwrap_or(0);
    let growth_second_half_kib = rss_last as i64 - rss_mid as i64;
    let rss_max_during = rss.iter().copied().max().unwrap_or(0);
    // Flat: the second half adds less than 1 MiB and less than 5 %.
    let memory_bounded =
        growth_second_half_kib < 1024 && (growth_second_half_kib as f64) < 0.05 * rss_mid as f64;
    let cpu_met = cpu_pct <= CPU_TARGET_PCT;
    let keys_met = unanswered == 0 && max.is_some_and(|max| max <= KEY_TARGET_MS);
    let fps = frames.drawn as f64 / secs;
    let failed = !client.failures.is_empty();

    let json = json!({
        "scenario": "tui",
        "case": format!("storm {}/s {}s", args.rate, args.duration.as_secs_f64()),
        "rate": args.rate,
        "duration_s": args.duration.as_secs_f64(),
        "elapsed_s": secs,
        "failed": failed,
        "failures": client.failures,
        // What the client took and applied (`state_matches`: and applied
        // right); the other counts say how far each event got.
        "events": client.taken,
        "events_planned": planned_events(args.rate, args.duration),
        "events_sent": driven.sent,
        "events_decoded": driven.decoded.queued,
        "decode_failures": driven.decoded.failures,
        "events_taken": client.taken,
        "state_matches": client.state_matches,
        "achieved_rate": client.taken as f64 / secs,
        "pool": args.pool,
        "alerts_held": client.alerts_held,
        "terminal": format!("{}x{}", args.width, args.height),
        "frames": frames.drawn,
        "fps": fps,
        "output_bytes_per_s": output.bytes as f64 / secs,
        "writes_per_s": output.writes as f64 / secs,
        "cpu_pct": cpu_pct,
        "cpu_total_pct": cpu_total_pct,
        "feed_cpu_pct": feed_pct,
        "rss_kib_per_second": rss,
        "sample_at_s": driven.samples.iter().map(|s| s.at.as_secs_f64()).collect::<Vec<_>>(),
        "cpu_pct_per_second": driven.samples.windows(2).map(|w| {
            pct(w[1].cpu.saturating_sub(w[0].cpu), (w[1].at - w[0].at).as_secs_f64().max(1e-3))
        }).collect::<Vec<_>>(),
        "rss_peak_kib": memory.peak_rss_kib,
        "rss_max_during_kib": rss_max_during,
        "rss_final_kib": memory.final_rss_kib,
        "rss_growth_second_half_kib": growth_second_half_kib,
        "keys": driven.keys,
        "keys_unanswered": unanswered,
        "key_p50_ms": p50,
        "key_p99_ms": p99,
        "key_max_ms": max,
        "targets": {
            "cpu_le_15_pct": cpu_met,
            "memory_bounded": memory_bounded,
            "keys_within_100_ms": keys_met,
        },
    });
    let at = |i: usize| driven.samples.get(i).map_or(0.0, |s| s.at.as_secs_f64());
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    let human = format!(
        "{marked}tui storm: {events} of {sent} events sent taken by the screen in {secs:.1} s ({achieved:.0}/s of {rate}/s), {held} alerts held ({state}), \
         {frames} frames ({fps:.1}/s, {kb:.0} KB/s of ANSI); \
         CPU {cpu:.1} % of a core ({total:.1} % with the feed's {feed:.1} %) [≤ 15 %: {cpu_v}]; \
         RSS {first:.1} MiB at {first_s:.0} s, {mid:.1} at {mid_s:.0} s, {last:.1} at {last_s:.0} s, final {fin:.1}, peak {peak:.1} [bounded: {mem_v}]; \
         keys {keys}: p50 {p50} ms, p99 {p99} ms, max {max} ms, {unanswered} unanswered [≤ 100 ms: {key_v}]",
        marked = marked(&client.failures),
        events = client.taken,
        sent = driven.sent,
        achieved = client.taken as f64 / secs,
        state = if client.state_matches {
            "as the events make"
        } else {
            "NOT as the events make"
        },
        rate = args.rate,
        held = client.alerts_held,
        frames = frames.drawn,
        kb = output.bytes as f64 / secs / 1000.0,
        cpu = cpu_pct,
        total = cpu_total_pct,
        feed = feed_pct,
        cpu_v = verdict(cpu_met),
        first = mib(rss.first().copied().unwrap_or(0)),
        mid = mib(rss_mid),
        first_s = at(0),
        mid_s = at(half),
        last = mib(rss_last),
        last_s = at(rss.len().saturating_sub(1)),
        fin = mib(memory.final_rss_kib),
        peak = mib(memory.peak_rss_kib),
        mem_v = verdict(memory_bounded),
        keys = driven.keys,
        p50 = show_ms(p50),
        p99 = show_ms(p99),
        max = show_ms(max),
        key_v = verdict(keys_met),
    );
    Report {
        json,
        human,
        failed,
    }
}
