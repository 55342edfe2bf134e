#!/usr/bin/env bash
# Benchmarks noc-server and the peer servers side by side, each pinned to
# core 0 with the load generator (noc-load, scripts/bench/) on core 1, and
# prints one table.
#
#   scripts/bench.sh                     full run: noc-server and the three peers
#   scripts/bench.sh --quick             1,000-screen smoke run, short durations
#   scripts/bench.sh --only noc-server   one server (repeat for more)
#   scripts/bench.sh --peers             the three peers only
#   scripts/bench.sh --scenarios fanout,storm
#                                        a subset of idle,fanout,storm,ingest,stuck,tui,soak,silenced
#   scripts/bench.sh --scenarios tui     the terminal client alone (no server):
#                                        noc-tui-storm, 1,000 events/s for 30 s
#   scripts/bench.sh --scenarios soak    a week of a busy NOC compressed (noc-soak):
#                                        7 days of 60 s on noc-server alone with
#                                        --keep-resolved 60s, one row per day
#   scripts/bench.sh --scenarios soak --soak-day 90s --soak-days 5
#   scripts/bench.sh --scenarios silenced
#                                        noc-server alone: ingest (batch 1 and 100) with
#                                        1,000 active silences, 10,000 active alerts and
#                                        1,000 write-backs pending to an unreachable
#                                        Alertmanager
#   scripts/bench.sh --scenarios soak --soak-postgres postgres://postgres@127.0.0.1:5432
#                                        the soak on PostgreSQL instead (its database
#                                        noc_soak is dropped and created)
#   scripts/bench.sh --out DIR           results directory (default target/bench/<time>)
#   scripts/bench.sh --max-load 1.5      wait (at most 10 min) for the 1-minute
#                                        load average to drop below 1.5 first
#
# Every server is started fresh for every case (a new SQLite database for
# noc-server) on a free port on 127.0.0.1, and stopped after it. The peers
# come from ../shared/bench/peers (NOC_BENCH_PEERS overrides), copied to a
# temporary directory to install and run; seed-axum's build is cached in
# target/bench-peers. Results: results.jsonl (one JSON line per case),
# generator.log (the human lines), table.md, the servers' logs. The tui
# scenario runs once, not per server, pinned to core 1: its JSON line goes
# to results.jsonl too, its human line to tui.log and after the table.
#
# A case with any failure (screens that did not connect, POSTs refused,
# deliveries lost, repeated or misrouted, screens resynced or dropped; for
# tui, events not applied) is marked FAILED: in its log line and ✗ in the
# table, and the script then exits with status 3 after the table.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PEERS_SRC=${NOC_BENCH_PEERS:-$ROOT/../shared/bench/peers}
ALL_SERVERS=(noc-server node-ws python-aiohttp seed-axum)
PEER_SERVERS=(node-ws python-aiohttp seed-axum)

# The comment at the top, up to the first line of code.
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

quick=0
servers=()
scenarios=idle,fanout,storm,ingest,stuck,tui
out=""
max_load=""
soak_day=60s
soak_days=7
soak_postgres=""
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --only) servers+=("${2:?--only takes a server name}"); shift ;;
        --peers) servers+=("${PEER_SERVERS[@]}") ;;
        --scenarios) scenarios=${2:?--scenarios takes a list}; shift ;;
        --out) out=${2:?--out takes a directory}; shift ;;
        --max-load) max_load=${2:?--max-load takes a number}; shift ;;
        --soak-day) soak_day=${2:?--soak-day takes a duration}; shift ;;
        --soak-days) soak_days=${2:?--soak-days takes a number}; shift ;;
        --soak-postgres) soak_postgres=${2:?--soak-postgres takes a postgres:// URL}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[ ${#servers[@]} -gt 0 ] || servers=("${ALL_SERVERS[@]}")
for s in "${servers[@]}"; do
    case " ${ALL_SERVERS[*]} " in
        *" $s "*) ;;
        *) echo "bench.sh: unknown server $s (one of: ${ALL_SERVERS[*]})" >&2; exit 2 ;;
    esac
done
wants() { case ",$scenarios," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
# Whether any scenario needs a server (all but tui do).
servers_wanted=0
for s in idle fanout storm ingest stuck; do if wants "$s"; then servers_wanted=1; fi; done
[ "$servers_wanted" = 1 ] || servers=()

for tool in taskset cargo; do
    command -v "$tool" >/dev/null || { echo "bench.sh: $tool is needed" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
    echo "bench.sh: needs 2 cores (server on core 0, generator on core 1); this machine has $(nproc)" >&2
    exit 1
fi

# --- processes this script started, stopped on exit and on Ctrl-C -----------
started=()
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    # noc-server closes its screens and exits within 5 s of SIGTERM.
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${started[@]}"; do
        stop_pid "$pid"
    done
    started=()
    if [ -n "${work:-}" ] && [ -d "$work" ]; then rm -rf "$work"; fi
}
forget() {
    local pid=$1 kept=() p
    for p in "${started[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
    started=("${kept[@]}")
}
trap cleanup EXIT
trap 'echo "bench.sh: interrupted" >&2; exit 130' INT TERM

# --- limits --------------------------------------------------------------------
# 10,000 screens need some 10,100 open files in the server and as many in
# the generator (separate processes, so each has its own limit).
big=10000
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 20000 ]; then
    ulimit -n 20000
else
    ulimit -n "$hard"
    if [ "$hard" -lt $((big + 200)) ] && [ "$quick" = 0 ]; then
        echo "bench.sh: the hard limit of open files is $hard per process;" \
            "10,000 screens need about $((big + 200)): running the 1,000-screen cases only" >&2
        big=0
    fi
fi

# --- the run's directory and what the machine is --------------------------------
stamp=$(date +%Y%m%d-%H%M%S)
out=${out:-$TARGET_DIR/bench/$stamp}
mkdir -p "$out"
results=$out/results.jsonl
: >"$results"
work=$(mktemp -d /tmp/noc-bench.XXXXXX)
token=bench-$RANDOM$RANDOM

wait_quiet() {
    [ -n "$max_load" ] || return 0
    local i load
    for i in $(seq 60); do
        load=$(cut -d' ' -f1 /proc/loadavg)
        if awk -v l="$load" -v m="$max_load" 'BEGIN { exit !(l < m) }'; then return 0; fi
        [ "$i" = 1 ] && echo "bench.sh: load average $load, waiting for it to drop below $max_load" >&2
        sleep 10
    done
    echo "bench.sh: load average still $(cut -d' ' -f1 /proc/loadavg); going on" >&2
}

machine() {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cores: $(nproc); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "kernel: $(uname -sr)"
    echo "open files: $(ulimit -n) (hard $(ulimit -Hn))"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
}
wait_quiet
machine >"$out/machine.txt"
cat "$out/machine.txt" >&2
echo "noc-server: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' (with local changes)'), $(rustc --version)" >>"$out/machine.txt"

# --- build ---------------------------------------------------------------------
# The server, and the benchmarks of the noc-bench package (scripts/bench/).
echo "bench.sh: building release binaries" >&2
build=()
if [ "$servers_wanted" = 1 ]; then build+=(--bin noc-server --bin noc-load); fi
if wants tui; then build+=(--bin noc-tui-storm); fi
if wants soak; then build+=(--bin noc-server --bin noc-load --bin noc-soak); fi
if wants silenced; then build+=(--bin noc-server --bin noc-load); fi
(cd "$ROOT" && cargo build --release --quiet "${build[@]}")
bin=$TARGET_DIR/release

prepare() {
    local name=$1 dir=$work/peers/$1
    case $name in
        noc-server) return 0 ;;
    esac
    [ -d "$PEERS_SRC/$name" ] || { echo "bench.sh: no peer at $PEERS_SRC/$name" >&2; return 1; }
    mkdir -p "$work/peers"
    cp -r "$PEERS_SRC/$name" "$dir" && chmod -R u+w "$dir" || return 1
    echo "bench.sh: preparing $name" >&2
    case $name in
        node-ws)
            command -v node >/dev/null || { echo "bench.sh: node is needed for node-ws" >&2; return 1; }
            (cd "$dir" && npm install --no-audit --no-fund --silent) >"$out/$name.install.log" 2>&1 || return 1
            echo "node-ws: node $(node --version), ws $(node -p "require('$dir/node_modules/ws/package.json').version")" >>"$out/machine.txt"
            ;;
        python-aiohttp)
            python3 -m venv "$dir/venv" >"$out/$name.install.log" 2>&1 || return 1
            "$dir/venv/bin/pip" install -q -r "$dir/requirements.txt" >>"$out/$name.install.log" 2>&1 || return 1
            echo "python-aiohttp: $("$dir/venv/bin/python" --version), aiohttp $("$dir/venv/bin/python" -c 'import aiohttp; print(aiohttp.__version__)')" >>"$out/machine.txt"
            ;;
        seed-axum)
            # Its own target dir, kept between runs (git-ignored); its
            # Cargo.lock is kept beside it so that later runs build the same
            # versions.
            local cache=$TARGET_DIR/bench-peers/seed-axum
            mkdir -p "$cache"
            [ -f "$cache/Cargo.lock" ] && cp "$cache/Cargo.lock" "$dir/Cargo.lock"
            CARGO_TARGET_DIR=$cache/target cargo build --release --quiet \
                --manifest-path "$dir/Cargo.toml" >"$out/$name.install.log" 2>&1 || return 1
            cp "$dir/Cargo.lock" "$cache/Cargo.lock"
            echo "seed-axum: $(rustc --version), $(grep -A1 '^name = "axum"$' "$dir/Cargo.lock" | tail -1 | tr -d ' "' | sed 's/version=/axum /')" >>"$out/machine.txt"
            ;;
    esac
}

# Starts server $1 pinned to core 0 on a free port: sets $pid and $url.
start_server() {
    local name=$1 port dir=$work/peers/$1 log=$out/$1.log i
    port=$("$bin/noc-load" free-port)
    url=http://127.0.0.1:$port
    case $name in
        noc-server)
            rm -rf "$work/db" && mkdir -p "$work/db"
            taskset -c 0 "$bin/noc-server" --listen "127.0.0.1:$port" \
                --database "sqlite://$work/db/noc.db" --ingest-token "$token" >>"$log" 2>&1 &
            ;;
        node-ws)
            taskset -c 0 node "$dir/server.js" --port "$port" --token "$token" >>"$log" 2>&1 &
            ;;
        python-aiohttp)
            taskset -c 0 "$dir/venv/bin/python" "$dir/server.py" --port "$port" --token "$token" >>"$log" 2>&1 &
            ;;
        seed-axum)
            taskset -c 0 "$TARGET_DIR/bench-peers/seed-axum/target/release/seed-axum" \
                --port "$port" --token "$token" >>"$log" 2>&1 &
            ;;
    esac
    pid=$!
    started+=("$pid")
    # Ready when the port accepts a connection: at most 30 s.
    for i in $(seq 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { echo "bench.sh: $name exited at start; see $log" >&2; return 1; }
        sleep 0.1
    done
    echo "bench.sh: $name did not listen within 30 s; see $log" >&2
    return 1
}

# Runs one case on a fresh server: case NAME SCENARIO ARGS...
run_case() {
    local name=$1 scenario=$2
    shift 2
    if ! start_server "$name"; then
        stop_pid "$pid"; forget "$pid"
        return 0
    fi
    taskset -c 1 "$bin/noc-load" "$scenario" --url "$url" --token "$token" \
        --server-pid "$pid" --label "$name" "$@" >>"$results" 2>>"$out/generator.log" &
    local gen=$! rc=0
    started+=("$gen")
    wait "$gen" || rc=$?
    case $rc in
        0) ;;
        # Measured, with failures: its lines are marked.
        3) failed_cases=$((failed_cases + 1)) ;;
        *) echo "bench.sh: $name $scenario $* did not run (exit $rc); see $out/generator.log" >&2 ;;
    esac
    forget "$gen"
    tail -n 1 "$out/generator.log" >&2
    stop_pid "$pid"
    forget "$pid"
    sleep 1
}

if [ "$quick" = 1 ]; then
    ns=(1000); storm_for=2s; ingest_for=3s; stuck_for=3s; after=2s
else
    ns=(1000); [ "$big" -gt 0 ] && ns+=("$big")
    storm_for=10s; ingest_for=10s; stuck_for=10s; after=5s
fi

# The terminal client under a storm: its own screen loop, a synthetic feed,
# no server (noc-tui-storm --help).
tui_line=""
failed_cases=0
if wants tui; then
    if [ "$quick" = 1 ]; then tui_for=10s; else tui_for=30s; fi
    wait_quiet
    echo "bench.sh: measuring the terminal client (noc-tui-storm, $tui_for)" >&2
    rc=0
    taskset -c 1 "$bin/noc-tui-storm" --rate 1000 --duration "$tui_for" \
        >>"$results" 2>>"$out/tui.log" </dev/null || rc=$?
    case $rc in
        0 | 3)
            tui_line=$(tail -n 1 "$out/tui.log")
            echo "$tui_line" >&2
            if [ "$rc" = 3 ]; then failed_cases=$((failed_cases + 1)); fi
            ;;
        *) echo "bench.sh: noc-tui-storm did not run (exit $rc); see $out/tui.log" >&2 ;;
    esac
    sleep 1
fi

# The soak: noc-server alone, resolved alerts kept one simulated day. The
# probe prints the database's bytes on disk (SQLite: the file, its WAL and
# shared memory; PostgreSQL: pg_database_size) and the alerts in it.
run_soak() {
    local store=$1 db port probe log=$out/soak-$1.log rc=0
    port=$("$bin/noc-load" free-port)
    url=http://127.0.0.1:$port
    printf '[[user]]\nemail = "soak@noc.example"\ntoken = "%s"\n' "$token-user" >"$work/users.toml"
    case $store in
        sqlite)
            rm -rf "$work/db" && mkdir -p "$work/db"
            db=sqlite://$work/db/noc.db
            probe="cat $work/db/noc.db* | wc -c; sqlite3 -readonly $work/db/noc.db 'select count(*) from alerts'"
            ;;
        postgres)
            psql -q "$soak_postgres/postgres" -c 'DROP DATABASE IF EXISTS noc_soak' -c 'CREATE DATABASE noc_soak'
            db=$soak_postgres/noc_soak
            probe="psql -tA '$db' -c \"select pg_database_size('noc_soak'), (select count(*) from alerts)\" | tr '|' ' '"
            ;;
    esac
    taskset -c 0 "$bin/noc-server" --listen "127.0.0.1:$port" --database "$db" \
        --ingest-token "$token" --users-file "$work/users.toml" \
        --keep-resolved "$soak_day" >>"$log" 2>&1 &
    pid=$!
    started+=("$pid")
    for i in $(seq 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "bench.sh: soak on $store: $soak_days days of $soak_day (--keep-resolved $soak_day)" >&2
    taskset -c 1 "$bin/noc-soak" --url "$url" --token "$token" --user-token "$token-user" \
        --server-pid "$pid" --probe "$probe" --days "$soak_days" --day "$soak_day" \
        >"$out/soak-$store.md" || rc=$?
    if [ "$rc" != 0 ]; then
        echo "bench.sh: soak on $store exited $rc; see $out/soak-$store.md and $log" >&2
        failed_cases=$((failed_cases + 1))
    fi
    stop_pid "$pid"
    forget "$pid"
}
# Ingest into a server that has work besides: 1,000 active silences (host
# matchers that the generated alerts, which have no host, never match, so
# every one is tried), 10,000 active alerts (with labels, so that an ack
# has a silence to write) of an Alertmanager source whose
# api_url nothing listens on, and 1,000 of them acked, so 1,000 write-backs
# are pending and retried throughout.
run_silenced() {
    local port log=$out/silenced.log batch i rc user=$token-user am=$token-am
    port=$("$bin/noc-load" free-port)
    url=http://127.0.0.1:$port
    printf '[[user]]\nemail = "bench@noc.example"\ntoken = "%s"\n' "$user" >"$work/users.toml"
    printf '[[source]]\nname = "am-down"\nkind = "alertmanager"\ntoken = "%s"\napi_url = "http://127.0.0.1:9"\n' \
        "$am" >"$work/sources.toml"
    rm -rf "$work/db" && mkdir -p "$work/db"
    taskset -c 0 "$bin/noc-server" --listen "127.0.0.1:$port" --database "sqlite://$work/db/noc.db" \
        --ingest-token "$token" --users-file "$work/users.toml" --sources-file "$work/sources.toml" >>"$log" 2>&1 &
    pid=$!
    started+=("$pid")
    for i in $(seq 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "bench.sh: silenced: 1,000 silences, 10,000 alerts, 1,000 acks to write back" >&2
    seq 1000 | xargs -P 8 -I{} curl -sf --retry 5 --retry-delay 1 -o /dev/null -H "Authorization: Bearer $user" \
        -H 'Content-Type: application/json' "$url/api/v1/silences" \
        -d '{"matchers":[{"name":"host","op":"=~","value":"sw-{}\\..*"}],"duration":"2h","comment":"bench"}' ||
        { echo "bench.sh: silenced: a silence was refused; see $log" >&2; return 0; }
    for i in $(seq 0 99); do
        seq $((i * 100)) $((i * 100 + 99)) |
            awk '{ printf "%s{\"id\":\"am-%d\",\"site\":\"site-%d\",\"severity\":\"high\",\"message\":\"am %d\",\"labels\":{\"alertname\":\"am-%d\"}}", (NR > 1 ? "," : "["), $1, $1 % 10, $1, $1 } END { print "]" }' |
            curl -sf -o /dev/null -H "Authorization: Bearer $am" -H 'Content-Type: application/json' \
                "$url/internal/alerts" --data-binary @- ||
            { echo "bench.sh: silenced: the alerts were refused; see $log" >&2; return 0; }
    done
    seq 0 999 | xargs -P 8 -I{} curl -sf --retry 5 --retry-delay 1 -o /dev/null -X POST -H "Authorization: Bearer $user" "$url/api/v1/alerts/am-{}/ack" ||
        { echo "bench.sh: silenced: an ack was refused; see $log" >&2; return 0; }
    curl -s -H "Authorization: Bearer $user" "$url/api/v1/sources" >"$out/silenced-sources.json"
    for batch in 1 100; do
        rc=0
        taskset -c 1 "$bin/noc-load" ingest --url "$url" --token "$token" --server-pid "$pid" \
            --label noc-server-silenced --batch "$batch" --posters 32 --duration "$ingest_for" \
            >>"$results" 2>>"$out/generator.log" || rc=$?
        [ "$rc" = 3 ] && failed_cases=$((failed_cases + 1))
        tail -n 1 "$out/generator.log" >&2
    done
    curl -s -H "Authorization: Bearer $user" "$url/api/v1/sources" >>"$out/silenced-sources.json"
    stop_pid "$pid"
    forget "$pid"
}
if wants silenced; then
    wait_quiet
    run_silenced
fi
if wants soak; then
    wait_quiet
    if [ -n "$soak_postgres" ]; then run_soak postgres; else run_soak sqlite; fi
fi

for name in "${servers[@]}"; do
    if ! prepare "$name"; then
        echo "bench.sh: skipping $name" >&2
        continue
    fi
    wait_quiet
    echo "bench.sh: measuring $name" >&2
    if wants idle; then
        for n in "${ns[@]}"; do run_case "$name" idle --screens "$n"; done
    fi
    if wants fanout; then
        for n in "${ns[@]}"; do
            for k in 1 10; do
                run_case "$name" fanout --screens "$n" --sites "$k" --alerts 50 --rate 10
            done
        done
    fi
    if wants storm; then
        run_case "$name" storm --screens 1000 --rate 500 --duration "$storm_for" --posters 64
    fi
    if wants ingest; then
        for batch in 1 100; do
            run_case "$name" ingest --batch "$batch" --posters 32 --duration "$ingest_for"
        done
    fi
    if wants stuck; then
        run_case "$name" stuck --screens 100 --rate 500 --duration "$stuck_for" --posters 64 \
            --pad 1024 --after "$after"
    fi
done

echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
if [ "$servers_wanted" = 1 ] || wants silenced; then
    "$bin/noc-load" table "$results" --baseline node-ws | tee "$out/table.md"
fi
for f in "$out"/soak-*.md; do
    [ -f "$f" ] || continue
    echo
    echo "$(basename "$f" .md):"
    cat "$f"
done
if [ -n "$tui_line" ]; then
    echo
    echo "$tui_line"
fi
echo "bench.sh: results in $out" >&2
if [ "$failed_cases" -gt 0 ]; then
    echo "bench.sh: $failed_cases case(s) had failures: the ✗ rows of the table, the FAILED: lines of generator.log and tui.log" >&2
    exit 3
fi
