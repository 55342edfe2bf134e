//! A real Zabbix 6.0 for the tests: Debian's `zabbix_server` on its own
//! database (copied from a template database imported once, so a start
//! takes seconds), its PHP JSON-RPC API served by PHP's built-in web
//! server, and the project's media type imported and wired to a server.
//! Nothing is written outside a temporary directory and the database,
//! both removed when the stack is dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// The schema and data Debian ships, imported once into this database.
const TEMPLATE_DB: &str = "noc_zabbix_template";
const SQL_DIR: &str = "/usr/share/zabbix-server-pgsql";
const FRONTEND: &str = "/usr/share/zabbix";
/// The host, item and trigger the tests raise problems on.
pub const HOST: &str = "sw-01.kili";
pub const KEY: &str = "noc.test";
/// The Zabbix user whose API token the write-back uses; not the user whose
/// media posts to the server, or Zabbix would never send the echo.
pub const WRITEBACK_USER: &str = "noc-writeback";

mod provision;

/// Why the stack cannot run here, or `None` when everything is installed.
pub fn missing() -> Option<String> {
    let php_pgsql = std::process::Command::new("php")
        .args(["-r", "exit(function_exists('pg_connect') ? 0 : 1);"])
        .status()
        .is_ok_and(|s| s.success());
    let checks = [
        (
            Path::new("/usr/sbin/zabbix_server").is_file(),
            "zabbix-server-pgsql",
        ),
        (
            Path::new(FRONTEND).join("api_jsonrpc.php").is_file(),
            "zabbix-frontend-php",
        ),
        (php_pgsql, "php-cli and php-pgsql"),
        (
            Path::new("/usr/bin/zabbix_sender").is_file(),
            "zabbix-agent (zabbix_sender)",
        ),
        (super::postgres_url().is_some(), "NOC_TEST_DATABASE_URL"),
    ];
    let absent: Vec<&str> = checks
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, what)| *what)
        .collect();
    (!absent.is_empty()).then(|| absent.join(", "))
}

/// A running Zabbix server and API.
pub struct ZabbixStack {
    pub home: TempDir,
    pub api_url: String,
    /// The write-back user's API token, in a file as a source's
    /// `api_token_file` holds it.
    pub token_file: PathBuf,
    pub triggerid: String,
    admin: String,
    server_port: u16,
    conf: PathBuf,
    database: String,
    admin_url: String,
    php: Child,
    http: reqwest::Client,
}

/// A free port that zabbix_server takes: its `ListenPort` must be at most
/// 32767, below the ephemeral range the system hands out for port 0.
fn free_listen_port() -> u16 {
    (0..200)
        .map(|_| rand::random_range(20000..32000))
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free port below 32768")
}

/// A free port, e.g. for the API.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The PostgreSQL URL of database `name` on the tests' server.
fn database_url(name: &str) -> String {
    let base = super::postgres_url().expect("NOC_TEST_DATABASE_URL");
    let (server, _) = base.rsplit_once('/').expect("a database URL ends in /NAME");
    format!("{server}/{name}")
}

async fn psql(database: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-qAtX",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &database_url(database),
            "-c",
            sql,
        ])
        .output()
        .await
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Imports Debian's schema, images and data once (16–30 s), under a
/// temporary name renamed at the end, so that an interrupted import is
/// never taken for a finished one.
async fn ensure_template() {
    let exists = format!("SELECT 1 FROM pg_database WHERE datname = '{TEMPLATE_DB}'");
    if psql("postgres", &exists).await == "1" {
        return;
    }
    let tmp = format!("{TEMPLATE_DB}_{}", std::process::id());
    psql("postgres", &format!("CREATE DATABASE {tmp}")).await;
    let script = format!(
        "zcat {SQL_DIR}/schema.sql.gz {SQL_DIR}/images.sql.gz {SQL_DIR}/data.sql.gz \
         | PGOPTIONS='-c synchronous_commit=off' psql -qX -v ON_ERROR_STOP=1 -d '{}' >/dev/null",
        database_url(&tmp)
    );
    let status = Command::new("sh")
        .args(["-c", &script])
        .status()
        .await
        .expect("import runs");
    assert!(status.success(), "importing Zabbix's schema failed");
    // Another test run may have finished first: then drop ours.
    let renamed = Command::new("psql")
        .args(["-qAtX", "-d", &database_url("postgres"), "-c"])
        .arg(format!("ALTER DATABASE {tmp} RENAME TO {TEMPLATE_DB}"))
        .status()
        .await
        .is_ok_and(|s| s.success());
    if !renamed {
        psql("postgres", &format!("DROP DATABASE IF EXISTS {tmp}")).await;
    }
}

/// Polls `probe` every 200 ms until it is true, for at most `limit`.
async fn wait_until<F, Fut>(what: &str, limit: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !probe().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

impl ZabbixStack {
    /// Starts Zabbix with the media type posting to `noc_url` with
    /// `noc_token`, a host `sw-01.kili` (tag `site: Kilimanjaro`) whose
    /// item `noc.test` above 0 is a problem, and an action that sends every
    /// problem, update and recovery through the media type. The API
    /// listens on `api_port` (see [`free_port`]) and the write-back user's
    /// token is written to `token_file`, so that a server's sources file
    /// can name both before Zabbix starts.
    pub async fn start(
        noc_url: &str,
        noc_token: &str,
        api_port: u16,
        token_file: PathBuf,
    ) -> ZabbixStack {
        ensure_template().await;
        let home = tempfile::tempdir().expect("tempdir");
        let database = format!("noc_zabbix_{}_{}", std::process::id(), free_port());
        psql(
            "postgres",
            &format!("CREATE DATABASE {database} TEMPLATE {TEMPLATE_DB}"),
        )
        .await;
        // The shipped host would fill the log with failed agent checks.
        psql(
            &database,
            "UPDATE hosts SET status = 1 WHERE host = 'Zabbix server'",
        )
        .await;

        let server_port = free_listen_port();
        let conf = home.path().join("zabbix_server.conf");
        let url = reqwest::Url::parse(&database_url(&database)).expect("database URL");
        let h = home.path().display();
        std::fs::write(
            &conf,
            format!(
                "ListenIP=127.0.0.1\nListenPort={server_port}\nLogFile={h}/server.log\nLogFileSize=0\n\
                 PidFile={h}/server.pid\nSocketDir={h}\nDBHost={}\nDBPort={}\nDBName={database}\n\
                 DBUser={}\nAllowRoot=1\nCacheUpdateFrequency=10\nCacheSize=16M\nStartPollers=1\n\
                 StartPollersUnreachable=1\nStartPreprocessors=1\nStartTrappers=2\nStartPingers=0\n\
                 StartDiscoverers=0\nStartHTTPPollers=0\nStartEscalators=1\nStartAlerters=1\n\
                 StartDBSyncers=1\nTimeout=10\n",
                url.host_str().unwrap_or("127.0.0.1"),
                url.port().unwrap_or(5432),
                url.username(),
            ),
        )
        .expect("write server conf");
        let status = Command::new("zabbix_server")
            .arg("-c")
            .arg(&conf)
            .status()
            .await
            .expect("zabbix_server runs");
        assert!(status.success(), "zabbix_server did not start");
        let log = home.path().join("server.log");
        wait_until(
            "zabbix_server to start",
            Duration::from_secs(30),
            || async {
                std::fs::read_to_string(&log).is_ok_and(|l| l.contains("server #0 started"))
            },
        )
        .await;

        // The API: a private copy of the frontend, pointed at its own
        // configuration (Debian's names /etc/zabbix in the code).
        let web = home.path().join("web");
        let copied = Command::new("cp")
            .args(["-a", FRONTEND])
            .arg(&web)
            .status()
            .await
            .is_ok_and(|s| s.success());
        assert!(copied, "copy the Zabbix frontend");
        let config_file = web.join("include/classes/core/CConfigFile.php");
        let code = std::fs::read_to_string(&config_file).expect("CConfigFile.php");
        let own = home.path().join("zabbix.conf.php");
        let patched = code.replace(
            "'/etc/zabbix/zabbix.conf.php'",
            &format!("'{}'", own.display()),
        );
        assert_ne!(
            code, patched,
            "CConfigFile.php names /etc/zabbix/zabbix.conf.php"
        );
        std::fs::write(&config_file, patched).expect("patch CConfigFile.php");
        std::fs::write(
            &own,
            format!(
                "<?php\n$DB['TYPE'] = 'POSTGRESQL'; $DB['SERVER'] = '{}'; $DB['PORT'] = '{}';\n\
                 $DB['DATABASE'] = '{database}'; $DB['USER'] = '{}'; $DB['PASSWORD'] = '';\n\
                 $DB['SCHEMA'] = ''; $DB['ENCRYPTION'] = false; $DB['DOUBLE_IEEE754'] = true;\n\
                 $ZBX_SERVER = '127.0.0.1'; $ZBX_SERVER_PORT = '{server_port}';\n\
                 $ZBX_SERVER_NAME = 'noc-test'; $IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;\n",
                url.host_str().unwrap_or("127.0.0.1"),
                url.port().unwrap_or(5432),
                url.username(),
            ),
        )
        .expect("write zabbix.conf.php");
        let web_port = api_port;
        let php_log = std::fs::File::create(home.path().join("php.log")).expect("php log");
        let php = Command::new("php")
            .arg("-S")
            .arg(format!("127.0.0.1:{web_port}"))
            .arg("-t")
            .arg(&web)
            // One request at a time otherwise.
            .env("PHP_CLI_SERVER_WORKERS", "4")
            .stdin(Stdio::null())
            .stdout(php_log.try_clone().expect("php log"))
            .stderr(php_log)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("php -S");
        let mut stack = ZabbixStack {
            api_url: format!("http://127.0.0.1:{web_port}/api_jsonrpc.php"),
            token_file,
            triggerid: String::new(),
            admin: String::new(),
            server_port,
            conf,
            database,
            admin_url: String::new(),
            php,
            http: reqwest::Client::new(),
            home,
        };
        wait_until("the Zabbix API", Duration::from_secs(30), || async {
            stack.call("apiinfo.version", json!({}), None).await.is_ok()
        })
        .await;
        stack.admin_url = format!("http://127.0.0.1:{web_port}/");
        stack.provision(noc_url, noc_token).await;
        stack
    }

    /// One JSON-RPC call; its result or Zabbix's error.
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        auth: Option<&str>,
    ) -> Result<Value, String> {
        let mut body = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
        if let Some(auth) = auth {
            body["auth"] = Value::String(auth.to_owned());
        }
        let answer: Value = self
            .http
            .post(&self.api_url)
            .header("Content-Type", "application/json-rpc")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match answer.get("error") {
            Some(error) => Err(format!("{method}: {error}")),
            None => Ok(answer["result"].clone()),
        }
    }

    /// A call as Admin that must succeed.
    pub async fn admin(&self, method: &str, params: Value) -> Value {
        self.call(method, params, Some(&self.admin))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn try_send(&self, value: i64) -> bool {
        Command::new("zabbix_sender")
            .args([
                "-z",
                "127.0.0.1",
                "-p",
                &self.server_port.to_string(),
                "-s",
                HOST,
                "-k",
                KEY,
                "-o",
            ])
            .arg(value.to_string())
            .output()
            .await
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("processed: 1"))
    }

    /// Sends `value` for the test item: above 0 raises the problem, 0
    /// recovers it.
    pub async fn send(&self, value: i64) {
        assert!(self.try_send(value).await, "zabbix_sender {value}");
    }

    /// The server's log, for a failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("server.log")).unwrap_or_default()
    }
}

/// Sends `signal` to process `pid`, or to its whole group for a negative
/// `pid`; whether it was delivered.
fn signal(signal: &str, pid: i64) -> bool {
    std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Drop for ZabbixStack {
    fn drop(&mut self) {
        // zabbix_server stops its children on SIGTERM to its main process,
        // if its database is still there: wait for it before dropping the
        // database, then kill whatever of its group is left (its HA manager
        // otherwise waits for the database for ever). It daemonizes into a
        // group of its own, led by the main process.
        let pid = std::fs::read_to_string(self.home.path().join("server.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<i64>().ok());
        if let Some(pid) = pid {
            signal("TERM", pid);
            for _ in 0..100 {
                if !signal("0", pid) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            signal("KILL", -pid);
        }
        // PHP's workers are children of the process started here, in its
        // own group.
        if let Some(php) = self.php.id() {
            signal("KILL", -i64::from(php));
        }
        let _ = self.php.start_kill();
        let _ = std::process::Command::new("psql")
            .args(["-qAtX", "-d", &database_url("postgres"), "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.database
            ))
            .stderr(Stdio::null())
            .status();
    }
}
