#!/usr/bin/env bash
# Runs every test: formatting, lints, and the whole workspace's unit and
# integration tests against a real server, real WebSocket clients, SQLite,
# PostgreSQL (when NOC_TEST_DATABASE_URL is set), Chromium, zabbix_js,
# Alertmanager and tmux (each where installed).
#
# It installs nothing: a test whose program is missing says it is skipped
# and why. scripts/ci-setup.sh installs them all (Debian, as root).
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
for program in chromium chromedriver zabbix_js prometheus-alertmanager tmux; do
    command -v "$program" >/dev/null 2>&1 ||
        echo "note: $program is not installed, so its tests are skipped (scripts/ci-setup.sh installs it)"
done

echo "== cargo test"
cargo test --workspace

# Each PostgreSQL test makes its own database (noc_test_*); drop those that
# earlier runs left, so that they never pile up on a shared server.
drop_test_databases() {
    command -v psql >/dev/null 2>&1 || return 0
    psql "$NOC_TEST_DATABASE_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'noc\_test\_%'" |
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
