#!/bin/sh
# The browser screen under load: 1,000 alerts on screen, then a storm of
# updates (NOC_STORM_RATE events/s, default 500, for NOC_STORM_SECS s,
# default 60). Prints Chromium's frame times and JS heap; see
# docs/benchmarks.md ("The browser screen under a storm").
#
# Needs chromium and chromedriver (scripts/ci-setup.sh).
set -eu
cd "$(dirname "$0")/.."
exec cargo test -p noc-server --test browser -- --ignored storm --nocapture --test-threads 1
