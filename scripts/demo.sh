#!/usr/bin/env bash
# The whole product in one command: builds the workspace, starts
# `noc-server --demo` (made-up alerts from a few sites) on a throw-away
# SQLite database in the background, waits until it answers /healthz, and
# opens the terminal client in the foreground. Quitting the client (q)
# stops the server and removes the database.
#
#   scripts/demo.sh                      # all sites
#   scripts/demo.sh --sites Kilimanjaro  # any noc-tui flag is passed on
#   scripts/demo.sh --sites Tanzania     # the demo's groups: Tanzania, Uganda, Kenya
#   scripts/demo.sh --name wall-1        # follows the demo profile wall-1
#   NOC_DEMO_LISTEN=127.0.0.1:9090 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

listen="${NOC_DEMO_LISTEN:-127.0.0.1:8080}"
target="${CARGO_TARGET_DIR:-target}"

echo "demo: building (cargo build -p noc-server -p noc-tui)..."
cargo build --quiet -p noc-server -p noc-tui

data="$(mktemp -d "${TMPDIR:-/tmp}/noc-demo.XXXXXX")"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$data"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$target/debug/noc-server" --demo --listen "$listen" \
    --database "sqlite://$data/noc.db" --ingest-token demo-token \
    >"$data/server.log" 2>&1 &
server_pid=$!

# /healthz over bash's own /dev/tcp, so that curl is not needed.
healthy() {
    local host="${listen%:*}" port="${listen##*:}" status=""
    exec 3<>"/dev/tcp/$host/$port" || return 1
    printf 'GET /healthz HTTP/1.0\r\nHost: %s\r\n\r\n' "$listen" >&3
    read -r _ status _ <&3 || true
    exec 3>&-
    [ "$status" = "200" ]
}

echo "demo: starting noc-server on $listen..."
for _ in $(seq 1 100); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "demo: noc-server did not start (is $listen in use? set NOC_DEMO_LISTEN):" >&2
        cat "$data/server.log" >&2
        exit 1
    fi
    healthy 2>/dev/null && break
    sleep 0.1
done
if ! healthy 2>/dev/null; then
    echo "demo: noc-server does not answer on $listen:" >&2
    cat "$data/server.log" >&2
    exit 1
fi
echo "demo: the browser screen is at http://$listen/ ; ingest token: demo-token"

# Not exec: the trap must still stop the server when the client quits.
status=0
"$target/debug/noc-tui" --url "http://$listen" "$@" || status=$?
exit "$status"
