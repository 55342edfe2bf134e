//! The documentation's screenshots, redrawn on request.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common::TestServer;
use crate::common::WAIT;
use crate::harness::{Browser, Tools, ack, row, users_file};
use serde_json::{Value, json};

/// The alerts of the screenshot, a plausible evening on a regional network:
/// id | site | severity | host | began this many minutes ago | message.
const SCREENSHOT_ALERTS: &str = "
zbx-48213   | Kilimanjaro   | critical | sw-01.kili          |   3 | Core switch sw-01 unreachable (ICMP loss 100%)
am-1f3c9a2e | Dar es Salaam | critical | bb-r2.dar           |  11 | BGP session to AS33765 down: 41,000 prefixes withdrawn
zbx-48190   | Kampala       | high     | olt-03.kla          |   7 | OLT PON port 1/4 loss of signal: 212 subscribers offline
zbx-48177   | Serengeti     | high     | mw-link-serengeti-b |  26 | Microwave link Serengeti B: RSL -78 dBm below threshold
am-77b0c1d4 | Entebbe       | high     | dns-02.ebb          |  42 | DNS resolver answer time 1.8 s (p95) over 500 ms for 10 min
zbx-48102   | Dar es Salaam | average  | ups-b.dar           |  18 | UPS B on battery: 64% left, about 38 min
zbx-48099   | Kilimanjaro   | average  | gen-01.kili         |  55 | Generator fuel level 22%
am-0c4e5f61 | Kampala       | average  | core-fw.kla         |  74 | Firewall session table 87% full
zbx-48051   | Arusha        | warning  | ap-lobby.aru        |   9 | Wi-Fi AP ap-lobby rebooted 3 times in the last hour
zbx-48033   | Serengeti     | warning  | srv-cam-02          |  95 | Disk /var 91% used on srv-cam-02
am-9a8b7c6d | Entebbe       | warning  | ntp-01.ebb          | 131 | NTP offset 420 ms from pool
zbx-47988   | Mwanza        | warning  | sw-acc-12.mwz       | 168 | Interface Gi0/12 flapping (14 changes in 10 min)
zbx-47950   | Arusha        | info     | rtr-edge.aru        |  35 | Configuration changed by netops (commit 8f2c1e)
am-4d3c2b1a | Dodoma        | info     | lic-srv.dod         | 240 | TLS certificate for portal.dodoma expires in 21 days
";

/// One line of [`SCREENSHOT_ALERTS`].
struct ShotAlert<'a> {
    id: &'a str,
    site: &'a str,
    severity: &'a str,
    host: &'a str,
    minutes_ago: i64,
    message: &'a str,
}

fn screenshot_alerts() -> Vec<ShotAlert<'static>> {
    SCREENSHOT_ALERTS
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.splitn(6, '|').map(str::trim).collect();
            ShotAlert {
                id: f[0],
                site: f[1],
                severity: f[2],
                host: f[3],
                minutes_ago: f[4].parse().expect("minutes"),
                message: f[5],
            }
        })
        .collect()
}

/// Draws the documentation's screenshot of the screen. Ignored by plain
/// `cargo test`; see the top of this file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "redraws docs/browser-*.png; run with -- --ignored screenshot"]
async fn screenshot() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let out = std::env::var_os("NOC_SCREENSHOT_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs"),
        PathBuf::from,
    );
    let users_dir = tempfile::tempdir().expect("tempdir");
    let users = users_file(users_dir.path());
    let users = users.to_str().expect("utf-8 path");
    let flags = ["--users-file", users];
    let server = TestServer::start(&flags).await;
    let alerts = screenshot_alerts();
    let body: Vec<Value> = alerts
        .iter()
        .map(|a| {
            let mut alert = json!({
                "id": a.id, "site": a.site, "severity": a.severity,
                "host": a.host, "message": a.message, "source": "zabbix",
            });
            if a.id == "zbx-48213" {
                // The one the drawer shows: with everything part two adds.
                alert["description"] = json!("Interface Gi0/1 down since 19:39; 120 customers behind it. ICMP and SNMP both silent; last config change 2 days ago.");
                alert["url"] = json!("https://zabbix.dc1.example/tr_events.php?triggerid=1771&eventid=48213");
                alert["labels"] = json!({ "team": "core", "zabbix.eventid": "48213", "zabbix.triggerid": "1771", "class": "network" });
            }
            alert
        })
        .collect();
    server.post_ok(&Value::Array(body)).await;
    ack(&server, "zbx-48177").await;
    ack(&server, "zbx-48102").await;

    // The server stamps alerts with the time it took them; to show a
    // realistic spread of ages, move them into the past in the store while
    // the server is down.
    let (dir, database, addr) = (
        Arc::clone(&server.dir),
        server.database.clone(),
        server.addr,
    );
    server.stop().await;
    backdate(&database, &alerts).await;
    let server = TestServer::start_on(dir, database, &addr.to_string(), &flags).await;

    let browser = Browser::start(&tools).await;
    browser.open(&server, "/?client=wall-1").await;
    let mut ids: Vec<&str> = alerts.iter().map(|a| a.id).collect();
    browser.wait_for_ids("the screenshot's alerts", &ids).await;
    // One critical arriving live, to show how a new one stands out.
    server
        .post_ok(&json!({
            "id": "zbx-48230", "site": "Mwanza", "severity": "critical", "host": "pe-01.mwz",
            "message": "PE router pe-01 CPU 98% for 5 min, control plane drops", "source": "zabbix",
        }))
        .await;
    ids.push("zbx-48230");
    browser.wait_for_ids("the live critical", &ids).await;
    // Catch the pulse on its bright phase.
    browser
        .wait_for(
            "the pulse",
            WAIT,
            "return document.getElementById('alerts').classList.contains('pulse');",
        )
        .await;
    shoot(&browser, &out.join("browser-screen.png")).await;

    // The details of the first critical, opened by a click.
    browser.click(&row("zbx-48213")).await;
    browser
        .wait_for(
            "the drawer's history",
            WAIT,
            "return document.querySelector('#drawer-history > :not(.loading)') !== null;",
        )
        .await;
    shoot(&browser, &out.join("browser-drawer.png")).await;
    browser
        .js("document.getElementById('drawer-close').click(); return null;")
        .await;

    // A 720p monitor: the same layout, smaller.
    browser.size_viewport(1280, 720).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    shoot(&browser, &out.join("browser-screen-720p.png")).await;
    browser.close().await;
    server.stop().await;
}

/// Moves each screenshot alert's times back by its age in minutes.
async fn backdate(database: &str, alerts: &[ShotAlert<'_>]) {
    let pool = sqlx::SqlitePool::connect(database)
        .await
        .expect("open the store");
    let now = chrono::Utc::now().timestamp_millis();
    for alert in alerts {
        let at = now - alert.minutes_ago * 60_000;
        sqlx::query(
            "UPDATE alerts SET created_at = ?, updated_at = ?,
                 acked_at = CASE WHEN acked_at IS NULL THEN NULL ELSE ? END
             WHERE id = ?",
        )
        .bind(at)
        .bind(at)
        .bind(at + 60_000)
        .bind(alert.id)
        .execute(&pool)
        .await
        .expect("backdate an alert");
    }
    pool.close().await;
}

async fn shoot(browser: &Browser, path: &Path) {
    let png = browser.client.screenshot().await.expect("screenshot");
    std::fs::write(path, &png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("wrote {}", path.display());
}
