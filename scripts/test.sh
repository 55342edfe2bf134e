#!/usr/bin/env bash
# Runs every test: formatting, lints, and the whole workspace's unit and
# integration tests against a real server, real WebSocket clients, SQLite,
# PostgreSQL (when NOC_TEST_DATABASE_URL is set), Chromium, zabbix_js,
# Alertmanager and tmux (each where installed).
#
# It installs nothing: a test whose program is missing says it is skipped
# and why, or fails when its NOC_REQUIRE_<X>=1 is set (BROWSER, ZABBIX_JS,
# ALERTMANAGER, TMUX; .ci/run sets them all). scripts/ci-setup.sh installs
# them all (Debian, as root).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

if [ -z "${NOC_TEST_DATABASE_URL:-}" ]; then
    echo "note: NOC_TEST_DATABASE_URL is not set, so the PostgreSQL tests are skipped"
    echo "      (set it to e.g. postgres://postgres@127.0.0.1:5432/test to run them)"
fi
# Each program (or its other names) and the variable that makes its tests
# required: missing then is an error here, before anything is built.
check_program() {
    local require=NOC_REQUIRE_$1 name
    shift
    for name in "$@"; do
        command -v "$name" >/dev/null 2>&1 && return 0
    done
    if [ "${!require:-}" = 1 ]; then
        echo "error: $1 is not installed but $require=1 (scripts/ci-setup.sh installs it)" >&2
        exit 1
    fi
    echo "note: $1 is not installed, so its tests are skipped (scripts/ci-setup.sh installs it)"
}
check_program BROWSER chromium chromium-browser google-chrome google-chrome-stable
check_program BROWSER chromedriver
check_program ZABBIX_JS zabbix_js
check_program ALERTMANAGER prometheus-alertmanager alertmanager
check_program TMUX tmux

echo "== cargo test"
cargo test --workspace

# Each PostgreSQL test makes its own database (noc_test_*, and noc_zabbix_*
# for a real Zabbix); drop those that earlier runs left, so that they never
# pile up on a shared server. noc_zabbix_template, Zabbix's schema imported
# once, stays: it makes each Zabbix start take seconds.
drop_test_databases() {
    command -v psql >/dev/null 2>&1 || return 0
    psql "$NOC_TEST_DATABASE_URL" -Atc "SELECT datname FROM pg_database WHERE (datname LIKE 'noc\_test\_%' OR datname LIKE 'noc\_zabbix\_%') AND datname <> 'noc_zabbix_template'" |
        while read -r name; do
            psql "$NOC_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
        done
}

if [ -n "${NOC_TEST_DATABASE_URL:-}" ]; then
    echo "== cargo test: the server's suite again, on PostgreSQL"
    drop_test_databases
    # The whole workspace, as above: `-p noc-server` alone would resolve
    # dependencies' features differently and build everything a second time.
    NOC_TEST_STORE=postgres cargo test --workspace --tests
    drop_test_databases
fi
