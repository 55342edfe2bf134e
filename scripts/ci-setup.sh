#!/usr/bin/env bash
# Installs what the full test run needs beyond Rust, so that no test is
# skipped: Chromium and ChromeDriver (browser screen), tmux (terminal
# client in a real terminal), zabbix_js (Zabbix media type) and
# Alertmanager. Debian packages; run as root. scripts/test.sh never
# installs anything itself: it skips what is missing and says so.
set -euo pipefail

# The real Zabbix stack: its server, its PHP API (run by PHP's own web
# server), and zabbix_sender (shipped in zabbix-agent, which is not started).
packages=(chromium chromium-driver tmux zabbix-server-pgsql zabbix-frontend-php php-cli php-pgsql
    zabbix-agent prometheus-alertmanager)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "ci-setup: installing ${missing[*]}"
    apt-get update -qq
    # Packages that ship services must not try to start them here.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "ci-setup: ready"
