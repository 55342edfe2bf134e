//! What goes over the wire: the alert bodies the generator posts, and a cheap
//! scan of the text frames the screens receive.
//!
//! Each posted alert carries its number and its send time in its message,
//! `bench <run> <n> <sent_ns>`, so a delivery is timed and counted from the
//! frame alone. The scan looks only for the `event` and `message` values:
//! a full JSON parse of every frame would cost the generator more than the
//! server spends writing it, and the generator must stay the faster side.
//! It tolerates the whitespace some servers put after `:` (Python's
//! `json.dumps`) and any key order.

use std::fmt::Write as _;

/// The prefix of every generated alert message.
const PREFIX: &str = "bench ";

/// One generated alert as a JSON object (no trailing newline).
///
/// `site` is the site number (`site-<k>`); `pad` extra bytes lengthen the
/// message for scenarios that need bigger frames.
pub fn alert_json(out: &mut String, run: u32, n: u64, site: u32, sent_ns: u64, pad: usize) {
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        r#"{{"id":"bench-{run}-{n}","site":"site-{site}","severity":"critical","message":"{PREFIX}{run} {n} {sent_ns}"#
    );
    if pad > 0 {
        out.push(' ');
        out.extend(std::iter::repeat_n('x', pad - 1));
    }
    out.push_str(r#"","source":"bench"}"#);
}

/// The body of one POST: a single alert, or an array of `count` alerts
/// numbered from `first` (all with the same send time).
pub fn post_body(run: u32, first: u64, count: u64, sites: u32, sent_ns: u64, pad: usize) -> String {
    let mut out = String::with_capacity(160 * count as usize + pad);
    if count == 1 {
        alert_json(&mut out, run, first, site_of(first, sites), sent_ns, pad);
        return out;
    }
    out.push('[');
    for n in first..first + count {
        if n > first {
            out.push(',');
        }
        alert_json(&mut out, run, n, site_of(n, sites), sent_ns, pad);
    }
    out.push(']');
    out
}

/// The site number alert `n` goes to when there are `sites` sites: round
/// robin, so every site gets the same share.
pub fn site_of(n: u64, sites: u32) -> u32 {
    // The remainder is below `sites`, a u32.
    (n % u64::from(sites.max(1))) as u32
}

/// What a received text frame is, as far as the generator cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// An alert event carrying a generated message.
    Alert { run: u32, n: u64, sent_ns: u64 },
    /// A snapshot, with its reason (`connect`, `subscribe`, `lagged`).
    Snapshot { reason: &'a str },
    /// A heartbeat; the screen answers it with a pong.
    Heartbeat,
    /// Anything else (an alert of another origin, an error message).
    Other,
}

/// Classifies a text frame without parsing it whole.
pub fn scan(text: &str) -> Frame<'_> {
    let Some(event) = string_value(text, "event") else {
        return Frame::Other;
    };
    if event.starts_with("alert.") {
        return string_value(text, "message")
            .and_then(parse_message)
            .map_or(Frame::Other, |(run, n, sent_ns)| Frame::Alert {
                run,
                n,
                sent_ns,
            });
    }
    match event {
        "snapshot" => Frame::Snapshot {
            reason: string_value(text, "reason").unwrap_or(""),
        },
        "heartbeat" => Frame::Heartbeat,
        _ => Frame::Other,
    }
}

/// Reads `bench <run> <n> <sent_ns>` (and ignores padding after it).
pub fn parse_message(message: &str) -> Option<(u32, u64, u64)> {
    let mut parts = message.strip_prefix(PREFIX)?.splitn(4, ' ');
    let run = parts.next()?.parse().ok()?;
    let n = parts.next()?.parse().ok()?;
    let sent_ns = parts.next()?.parse().ok()?;
    Some((run, n, sent_ns))
}

/// The string value of the first `"key"` in `text`, up to its closing quote.
/// Escapes are not decoded: the values looked at here never hold any.
fn string_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find(key) {
        let start = from + at;
        let end = start + key.len();
        from = end;
        // The key must be a whole quoted key, not part of a longer one.
        if start == 0 || bytes[start - 1] != b'"' || bytes.get(end) != Some(&b'"') {
            continue;
        }
        let rest = text[end + 1..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let value = rest.trim_start().strip_prefix('"')?;
        let close = value.find('"')?;
        return Some(&value[..close]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posted_alert_reads_back_from_its_event() {
        let mut body = String::new();
        alert_json(&mut body, 7, 42, 3, 123_456_789, 0);
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        assert_eq!(parsed["id"], "bench-7-42");
        assert_eq!(parsed["site"], "site-3");
        assert_eq!(parsed["message"], "bench 7 42 123456789");
        // As noc-server sends it: event first, compact.
        let event = r#"{"event":"alert.created","seq":9,"id":"bench-7-42","site":"site-3","severity":"critical","message":"bench 7 42 123456789","host":null}"#;
        assert_eq!(
            scan(event),
            Frame::Alert {
                run: 7,
                n: 42,
                sent_ns: 123_456_789
            }
        );
    }

    #[test]
    fn scans_spaced_json_and_any_key_order() {
        // Python's json.dumps puts a space after ':'.
        let spaced = r#"{"event": "alert.created", "seq": 1, "message": "bench 1 2 3 xxxx", "site": "site-0"}"#;
        assert_eq!(
            scan(spaced),
            Frame::Alert {
                run: 1,
                n: 2,
                sent_ns: 3
            }
        );
        let reordered = r#"{"message":"bench 1 5 6","seq":2,"event":"alert.updated"}"#;
        assert_eq!(
            scan(reordered),
            Frame::Alert {
                run: 1,
                n: 5,
                sent_ns: 6
            }
        );
    }

    #[test]
    fn tells_snapshots_heartbeats_and_foreign_frames_apart() {
        // A snapshot holds alerts with generated messages; they are not deliveries.
        let snapshot = r#"{"alerts":[{"message":"bench 1 2 3"}],"event":"snapshot","reason":"lagged","seq":4}"#;
        assert_eq!(scan(snapshot), Frame::Snapshot { reason: "lagged" });
        assert_eq!(
            scan(r#"{"event":"heartbeat","ts":1764358800}"#),
            Frame::Heartbeat
        );
        assert_eq!(
            scan(r#"{"event":"alert.created","message":"Core switch down"}"#),
            Frame::Other
        );
        assert_eq!(scan(r#"{"event":"error","message":"bad"}"#), Frame::Other);
        assert_eq!(scan("not json"), Frame::Other);
        // A key that merely ends like "event" is not it.
        assert_eq!(scan(r#"{"subevent":"heartbeat"}"#), Frame::Other);
    }

    #[test]
    fn padding_lengthens_the_message_but_keeps_it_readable() {
        let mut body = String::new();
        alert_json(&mut body, 1, 2, 0, 3, 100);
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        let message = parsed["message"].as_str().expect("a string");
        assert_eq!(message.len(), "bench 1 2 3".len() + 100);
        assert_eq!(parse_message(message), Some((1, 2, 3)));
    }

    #[test]
    fn a_batch_is_an_array_spread_over_the_sites() {
        let body = post_body(1, 10, 3, 10, 5, 0);
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        let sites: Vec<_> = parsed
            .as_array()
            .expect("an array")
            .iter()
            .map(|a| a["site"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(sites, ["site-0", "site-1", "site-2"]);
        assert_eq!(site_of(7, 1), 0);
        assert_eq!(site_of(7, 0), 0, "no sites means one");
    }

    #[test]
    fn rejects_malformed_messages() {
        assert_eq!(parse_message("bench 1 2"), None);
        assert_eq!(parse_message("bench x 2 3"), None);
        assert_eq!(parse_message("alert 1 2 3"), None);
    }
}
