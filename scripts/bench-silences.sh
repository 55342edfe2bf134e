#!/usr/bin/env bash
# Silences under load: noc-server (release, SQLite) pinned to core 0 with
# 10,000 active alerts. First one silence over all of them starts and ends:
# the server's log says when each change was committed and handed to the
# screens ("alerts marked", `late_ms` after its time). Then noc-load on
# core 1 posts single alerts back to back (32 posters), with no silence,
# then with 1,000 active silences (800 `host =`, 100 `site =` with a
# `message =~`, 100 `host =~`, none matching the posted alerts, so that
# every write tests every silence). Prints noc-load's line for each;
# results (JSON lines) in the results directory.
#
#   scripts/bench-silences.sh                 10 s per run
#   scripts/bench-silences.sh --duration 3s   shorter
#   scripts/bench-silences.sh --out DIR       results directory
#                                             (default target/bench/silences-<time>)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

duration=10s
out=""
while [ $# -gt 0 ]; do
    case $1 in
        --duration) duration=${2:?--duration takes a time such as 10s}; shift ;;
        --out) out=${2:?--out takes a directory}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench-silences.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
for tool in taskset cargo curl; do
    command -v "$tool" >/dev/null || { echo "bench-silences.sh: $tool is needed" >&2; exit 1; }
done

cargo build --release --quiet -p noc-server -p noc-bench --manifest-path "$ROOT/Cargo.toml"
bin=$TARGET_DIR/release
out=${out:-$TARGET_DIR/bench/silences-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
work=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

token=bench-ingest
user=bench-user
printf '[[user]]\nemail = "bench@noc.example"\ntoken = "%s"\n' "$user" >"$work/users.toml"
port=$("$bin/noc-load" free-port)
url=http://127.0.0.1:$port
taskset -c 0 "$bin/noc-server" --listen "127.0.0.1:$port" --database "sqlite://$work/noc.db" \
    --ingest-token "$token" --users-file "$work/users.toml" >"$out/server.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
    curl -fsS "$url/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

post() { # PATH TOKEN BODY
    curl -fsS -o /dev/null -X POST "$url$1" -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' --data-binary @- <<<"$3"
}

# 10,000 active alerts, 500 a request.
for first in $(seq 0 500 9500); do
    body=$(for i in $(seq "$first" $((first + 499))); do
        printf '{"id":"seed-%d","site":"seed-%d","severity":"warning","message":"seeded %d","host":"h-%d"},' \
            "$i" $((i % 10)) "$i" "$i"
    done)
    post /internal/alerts "$token" "[${body%,}]"
done

ingest() { # LABEL
    taskset -c 1 "$bin/noc-load" ingest --url "$url" --token "$token" --server-pid "$pid" \
        --label "$1" --batch 1 --posters 32 --duration "$duration" \
        >>"$out/results.jsonl" 2>>"$out/generator.log"
    tail -n 1 "$out/generator.log"
}

# One silence over the 10,000 seeded alerts, from 2 s ahead for 3 s: the
# server logs each change ("alerts marked", with `late_ms` in builds that
# have it) when committed and handed to the screens.
matcher() { printf '{"name":"%s","op":"%s","value":"%s"}' "$1" "$2" "$3"; }
start=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%S.000Z)
post /api/v1/silences "$user" \
    "{\"matchers\":[$(matcher host '=~' 'h-[0-9]+')],\"starts_at\":\"$start\",\"duration\":\"3s\",\"comment\":\"bench\"}"
sleep 8
echo "silence over 10,000 alerts from $start for 3 s:"
sed 's/\x1b\[[0-9;]*m//g' "$out/server.log" | grep 'alerts marked' || true

ingest "noc-server, 10,000 alerts, no silence"

# 1,000 silences, all starting together (a silence active at once would
# make its POST mark alerts, which scans every active alert each time).
start=$(date -u -d '+30 seconds' +%Y-%m-%dT%H:%M:%S.000Z)
for i in $(seq 0 999); do
    if [ "$i" -lt 800 ]; then
        m=$(matcher host = "h-$((20000 + i))")
    elif [ "$i" -lt 900 ]; then
        m="$(matcher site = "maint-$i"),$(matcher message '=~' ".*works $i.*")"
    else
        m=$(matcher host '=~' "db-$i-.*")
    fi
    post /api/v1/silences "$user" \
        "{\"matchers\":[$m],\"starts_at\":\"$start\",\"duration\":\"2h\",\"comment\":\"bench $i\"}"
done
while [ "$(date -u +%s)" -le "$(date -u -d "$start" +%s)" ]; do sleep 0.2; done
active=$(curl -fsS "$url/api/v1/silences?state=active&limit=10000" | grep -o '"id":"s-' | wc -l)
echo "active silences: $active"

ingest "noc-server, 1,000 silences"
