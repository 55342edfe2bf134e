//! Whether the client applied what the storm sent: the benchmark's numbers
//! only mean something if every event the feed sent was decoded, queued,
//! taken by the screen loop and left the screen holding what the events say.
//! Any shortfall fails the run, in release builds too.

use crate::drive::Decoded;

/// How far each event got.
#[derive(Debug)]
pub struct Flow<'a> {
    /// Events the storm was to send (`--rate` × `--duration`).
    pub planned: u64,
    /// Events the feed sent.
    pub sent: u64,
    pub decoded: &'a Decoded,
    /// Events the screen loop took off its queue (it applies each as it
    /// takes it; whether it applied them right, `differences` says).
    pub taken: u64,
    /// How the alerts the screen holds depart from what the sent events
    /// make (see `noc_bench::storm::Model::differences`).
    pub differences: &'a [String],
}

/// Lines shown before the differences are cut short.
const SHOWN: usize = 3;

/// What went wrong, one line each; empty when every event was applied.
pub fn failures(flow: &Flow) -> Vec<String> {
    let mut out = Vec::new();
    if flow.sent < flow.planned {
        out.push(format!(
            "the feed sent {} of {} events (the screen's queue closed)",
            flow.sent, flow.planned
        ));
    }
    let decoded = flow.decoded;
    if decoded.failures > 0 {
        out.push(format!(
            "{} events failed to decode (first: {})",
            decoded.failures,
            decoded.first_failure.as_deref().unwrap_or("?")
        ));
    }
    if decoded.queued + decoded.failures < flow.sent {
        out.push(format!(
            "{} events sent were never queued for the screen",
            flow.sent - decoded.queued - decoded.failures
        ));
    }
    if flow.taken != decoded.queued {
        out.push(format!(
            "the screen took {} of the {} events queued for it",
            flow.taken, decoded.queued
        ));
    }
    if !flow.differences.is_empty() {
        let shown: Vec<&str> = flow
            .differences
            .iter()
            .take(SHOWN)
            .map(String::as_str)
            .collect();
        let more = flow.differences.len().saturating_sub(SHOWN);
        out.push(format!(
            "the screen's alerts differ from what the {} events sent make: {}{}",
            flow.sent,
            shown.join("; "),
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow<'a>(decoded: &'a Decoded, taken: u64, differences: &'a [String]) -> Flow<'a> {
        Flow {
            planned: 1000,
            sent: 1000,
            decoded,
            taken,
            differences,
        }
    }

    #[test]
    fn a_whole_storm_has_no_failure() {
        let decoded = Decoded {
            queued: 1000,
            ..Decoded::default()
        };
        assert_eq!(failures(&flow(&decoded, 1000, &[])), Vec::<String>::new());
    }

    #[test]
    fn each_shortfall_is_named() {
        let decoded = Decoded {
            queued: 990,
            failures: 10,
            first_failure: Some("EOF while parsing".into()),
        };
        let diffs: Vec<String> = (0..5).map(|i| format!("storm-{i} differs")).collect();
        let mut short = flow(&decoded, 900, &diffs);
        short.sent = 995;
        let lines = failures(&short);
        assert_eq!(
            lines,
            [
                "the feed sent 995 of 1000 events (the screen's queue closed)",
                "10 events failed to decode (first: EOF while parsing)",
                "the screen took 900 of the 990 events queued for it",
                "the screen's alerts differ from what the 995 events sent make: \
                 storm-0 differs; storm-1 differs; storm-2 differs; and 2 more",
            ]
        );
    }

    #[test]
    fn events_lost_between_the_feed_and_the_queue_are_counted() {
        let decoded = Decoded {
            queued: 700,
            ..Decoded::default()
        };
        assert_eq!(
            failures(&flow(&decoded, 700, &[])),
            ["300 events sent were never queued for the screen"]
        );
    }
}
