//! Sends the traffic's operations to the server: alerts to `POST
//! /internal/alerts` with the ingest token (timed: the ingest latency),
//! acks and notes to the user API with a user's token.

use std::time::Duration;

use tokio::time::Instant;

use crate::traffic::Op;

const TIMEOUT: Duration = Duration::from_secs(10);

/// What became of one operation.
pub enum Sent {
    /// A webhook post answered 2xx, after this long.
    Ingested(Duration),
    /// A person's action answered 2xx.
    Acted,
    /// An action on an alert resolved meanwhile (409) or pruned (404):
    /// the NOC's ordinary races, not failures.
    Raced,
    /// Anything else: a failure, with what the server said.
    Failed(String),
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    url: String,
    ingest: String,
    user: String,
}

impl Sender {
    pub fn new(url: &str, ingest_token: &str, user_token: &str) -> anyhow::Result<Self> {
        Ok(Sender {
            client: reqwest::Client::builder().timeout(TIMEOUT).build()?,
            url: url.trim_end_matches('/').to_owned(),
            ingest: format!("Bearer {ingest_token}"),
            user: format!("Bearer {user_token}"),
        })
    }

    pub async fn send(&self, op: Op, n: u64) -> Sent {
        let started = Instant::now();
        let request = match &op {
            Op::Open { id, severity } => self.ingest_post(serde_json::json!({
                "id": id, "site": site_of(id), "severity": severity,
                "message": format!("soak {id} #{n}"), "source": "soak",
                "host": format!("host-{}", n % 50),
            })),
            Op::Resolve { id } => self.ingest_post(serde_json::json!({
                "id": id, "site": site_of(id), "severity": "info",
                "message": format!("soak {id} resolved"), "event": "alert.resolved",
            })),
            Op::Ack { id } => self
                .user_post(&format!("alerts/{id}/ack"))
                .json(&serde_json::json!({"note": format!("on it #{n}"), "expires_in": "30s"})),
            Op::Note { id } => self
                .user_post(&format!("alerts/{id}/notes"))
                .json(&serde_json::json!({"text": format!("looked at it #{n}")})),
        };
        match request.send().await {
            Ok(r) if r.status().is_success() && op.is_ingest() => Sent::Ingested(started.elapsed()),
            Ok(r) if r.status().is_success() => Sent::Acted,
            Ok(r) if !op.is_ingest() && matches!(r.status().as_u16(), 404 | 409) => Sent::Raced,
            Ok(r) => {
                let status = r.status();
                Sent::Failed(format!(
                    "{op:?}: {status} {}",
                    r.text().await.unwrap_or_default()
                ))
            }
            Err(e) => Sent::Failed(format!("{op:?}: {e}")),
        }
    }

    fn ingest_post(&self, body: serde_json::Value) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}/internal/alerts", self.url))
            .header("Authorization", &self.ingest)
            .json(&body)
    }

    fn user_post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}/api/v1/{path}", self.url))
            .header("Authorization", &self.user)
    }
}

/// Twelve sites, an id always on the same one.
fn site_of(id: &str) -> String {
    let sum: u32 = id.bytes().map(u32::from).sum();
    format!("site-{}", sum % 12)
}
