#!/usr/bin/env bash
# Before and after: the same noc-load cases against two or more noc-server
# binaries in turn, round after round (before, after, before, after), each
# case on a fresh database, the server pinned to core 0 and noc-load to
# core 1. Prints noc-load's line for each; JSON lines in the results file.
#
#   scripts/bench-ab.sh [--store sqlite|postgres] [--rounds N] [--pg URL] \
#       LABEL=BINARY ... -- 'CASE' ...
#
#   # a checkout of the old commit, built, beside this one:
#   git worktree add ../before a8aa640 && (cd ../before && cargo build --release -p noc-server)
#   cargo build --release --workspace
#   scripts/bench-ab.sh --rounds 2 before=../before/target/release/noc-server \
#       after=target/release/noc-server -- \
#       'ingest --batch 1 --posters 32 --duration 10s' \
#       'ingest --batch 100 --posters 32 --duration 10s' \
#       'fanout --screens 1000 --sites 1 --alerts 50 --rate 10'
#
# --store postgres uses a database noc_ab at --pg (default
# postgres://postgres@127.0.0.1:5432), dropped and created for each case.
# noc-load is this checkout's (target/release/noc-load): it speaks only the
# contract, so it measures every binary alike.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOAD=${CARGO_TARGET_DIR:-$ROOT/target}/release/noc-load
store=sqlite
rounds=1
pg=postgres://postgres@127.0.0.1:5432
binaries=()
cases=()

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

while [ $# -gt 0 ]; do
    case $1 in
        --store) store=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --pg) pg=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; cases=("$@"); break ;;
        *=*) binaries+=("$1"); shift ;;
        *) echo "bench-ab.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ ${#binaries[@]} -eq 0 ] || [ ${#cases[@]} -eq 0 ]; then
    echo "bench-ab.sh: give LABEL=BINARY ... -- 'CASE' ... (see --help)" >&2
    exit 2
fi
[ -x "$LOAD" ] || { echo "bench-ab.sh: build noc-load first: cargo build --release -p noc-bench" >&2; exit 2; }

work=$(mktemp -d)
results=$ROOT/target/bench/ab-$(date -u +%Y%m%dT%H%M%SZ).jsonl
mkdir -p "$(dirname "$results")"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

fresh_database() {
    if [ "$store" = postgres ]; then
        psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS noc_ab" -c "CREATE DATABASE noc_ab" >/dev/null
        echo "$pg/noc_ab"
    else
        rm -rf "$work/db" && mkdir -p "$work/db"
        echo "sqlite://$work/db/noc.db"
    fi
}

for round in $(seq "$rounds"); do
    for entry in "${binaries[@]}"; do
        label=${entry%%=*}
        binary=${entry#*=}
        for case in "${cases[@]}"; do
            port=$("$LOAD" free-port)
            database=$(fresh_database)
            taskset -c 0 "$binary" --listen "127.0.0.1:$port" --ingest-token t0ken \
                --database "$database" >"$work/server.log" 2>&1 &
            server=$!
            for _ in $(seq 100); do
                curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
                sleep 0.1
            done
            # shellcheck disable=SC2086 # a case is words
            set -- $case
            scenario=$1
            shift
            taskset -c 1 "$LOAD" "$scenario" --url "http://127.0.0.1:$port" --token t0ken \
                --server-pid "$server" --label "$label round $round $store" "$@" \
                >>"$results" 2>"$work/load.log" || true
            tail -n 1 "$work/load.log"
            kill "$server" && wait "$server" 2>/dev/null || true
            server=""
            sleep 1
        done
    done
done
echo "bench-ab.sh: results in $results" >&2
