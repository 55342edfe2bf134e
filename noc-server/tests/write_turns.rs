//! On SQLite every write of the process takes its turn: the writer's
//! batches, four posters hammering them, run beside signs of life (a
//! heartbeat every few milliseconds, saved each second) and silences
//! created and ended, and nobody is answered 503 (`database is locked`).

mod common;

use std::time::{Duration, Instant};

use common::silences::{USER, files, flags};
use common::{TestServer, alert};
use serde_json::json;

const SOURCES: &str = r#"
[[source]]
name = "zabbix-dc1"
kind = "zabbix"
token = "dc1-token"
heartbeat = "1h"
"#;

const FOR: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_beside_the_writer_never_lock_it_out() {
    let sources = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(sources.path(), SOURCES).expect("write sources");
    let files = files();
    let mut extra = flags(&files).to_vec();
    extra.extend(["--sources-file", sources.path().to_str().expect("utf-8")]);
    let server = std::sync::Arc::new(TestServer::start(&extra).await);
    let start = Instant::now();

    let mut tasks = Vec::new();
    for poster in 0..4 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while start.elapsed() < FOR {
                let id = format!("p{poster}-{}", n % 50);
                let status = server
                    .post(&alert(&id, "Kilimanjaro", "high"))
                    .await
                    .status();
                assert_eq!(status, 200, "poster {poster}, post {n}");
                n += 1;
            }
            format!("poster {poster}: {n} posts")
        }));
    }
    let s = server.clone();
    tasks.push(tokio::spawn(async move {
        let mut n = 0;
        while start.elapsed() < FOR {
            let status = s
                .http
                .post(s.url("/internal/heartbeat"))
                .bearer_auth("dc1-token")
                .send()
                .await
                .expect("heartbeat")
                .status();
            assert_eq!(status, 204, "heartbeat {n}");
            n += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        format!("{n} heartbeats")
    }));
    let s = server.clone();
    tasks.push(tokio::spawn(async move {
        let mut n = 0;
        while start.elapsed() < FOR {
            let body = json!({"matchers": [{"name": "host", "op": "=", "value": format!("h{n}")}],
                "duration": "1h", "comment": "turns"});
            let created = s
                .http
                .post(s.url("/api/v1/silences"))
                .bearer_auth(USER)
                .json(&body)
                .send()
                .await
                .expect("POST silence");
            assert_eq!(created.status(), 201, "silence {n}");
            let id = created.json::<serde_json::Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
                .to_owned();
            let ended = s
                .http
                .delete(s.url(&format!("/api/v1/silences/{id}")))
                .bearer_auth(USER)
                .send()
                .await
                .expect("DELETE silence")
                .status();
            assert_eq!(ended, 200, "ending silence {n}");
            n += 1;
        }
        format!("{n} silences")
    }));
    for task in tasks {
        let done = task.await.expect("no 503 anywhere");
        eprintln!("{done}");
    }
}
