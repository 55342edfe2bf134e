//! Alertmanager: an ack becomes a silence (`POST /api/v2/silences`, one
//! equality matcher per label of the alert), and an unack or a resolve
//! deletes it (`DELETE /api/v2/silence/{id}`). The source's `api_url` is
//! Alertmanager's base address, e.g. `http://alertmanager:9093`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{SendError, read_token, transport};

/// How long a silence for an ack without expiry lasts.
pub const DEFAULT_SILENCE: Duration = Duration::hours(24);

/// The comment of a silence for an ack without a note.
pub const DEFAULT_COMMENT: &str = "Acknowledged in NOC";

/// One Alertmanager's API.
#[derive(Debug, Clone)]
pub struct Alertmanager {
    http: reqwest::Client,
    base: String,
    /// Optional: a bearer token for an Alertmanager behind a proxy that
    /// asks for one.
    token_file: Option<PathBuf>,
}

/// The silence for an ack of an alert with `labels`, as Alertmanager's
/// API takes it.
pub fn silence_body(
    labels: &BTreeMap<String, String>,
    by: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Value {
    let matchers: Vec<Value> = labels
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value, "isRegex": false, "isEqual": true}))
        .collect();
    let ends_at = expires_at.unwrap_or(now + DEFAULT_SILENCE);
    json!({
        "matchers": matchers,
        "startsAt": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "endsAt": ends_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "createdBy": by,
        "comment": note.unwrap_or(DEFAULT_COMMENT),
    })
}

impl Alertmanager {
    /// The API of the Alertmanager at `api_url` (a trailing `/` or
    /// `/api/v2` is allowed).
    pub fn new(http: reqwest::Client, api_url: &str, token_file: Option<PathBuf>) -> Alertmanager {
        let base = api_url.trim_end_matches('/');
        let base = base.strip_suffix("/api/v2").unwrap_or(base);
        Alertmanager {
            http,
            base: base.to_owned(),
            token_file,
        }
    }

    /// Creates the silence for an ack; answers its id.
    pub async fn silence(
        &self,
        labels: &BTreeMap<String, String>,
        by: &str,
        note: Option<&str>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<String, SendError> {
        if labels.is_empty() {
            return Err(SendError::Fail(
                "the alert has no labels to silence it by".into(),
            ));
        }
        let url = format!("{}/api/v2/silences", self.base);
        let body = silence_body(labels, by, note, Utc::now(), expires_at);
        let response = self
            .authorized(self.http.post(&url).json(&body))?
            .send()
            .await
            .map_err(|e| transport("Alertmanager", &url, &e))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(SendError::Retry(format!(
                "Alertmanager refused the silence: HTTP {status}: {}",
                text.trim()
            )));
        }
        let answer: Value = response
            .json()
            .await
            .map_err(|e| SendError::Retry(format!("Alertmanager's answer to the silence: {e}")))?;
        answer
            .get("silenceID")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| SendError::Retry(format!("Alertmanager gave no silenceID: {answer}")))
    }

    /// Deletes (expires) the silence `id`. One that Alertmanager no longer
    /// knows, or that has already ended, is as good as deleted.
    pub async fn unsilence(&self, id: &str) -> Result<(), SendError> {
        let url = format!("{}/api/v2/silence/{id}", self.base);
        let response = self
            .authorized(self.http.delete(&url))?
            .send()
            .await
            .map_err(|e| transport("Alertmanager", &url, &e))?;
        let status = response.status();
        if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        // Alertmanager answers 500 "silence … already expired" for one
        // that has ended by itself.
        if text.contains("already expired") {
            return Ok(());
        }
        Err(SendError::Retry(format!(
            "Alertmanager refused to delete silence {id}: HTTP {status}: {}",
            text.trim()
        )))
    }

    fn authorized(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, SendError> {
        Ok(match &self.token_file {
            Some(path) => request.bearer_auth(read_token(path)?),
            None => request,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_equality_matcher_per_label_and_24_hours_by_default() {
        let labels = BTreeMap::from([
            ("alertname".to_owned(), "LinkDown".to_owned()),
            ("instance".to_owned(), "sw-01:9100".to_owned()),
        ]);
        let now = DateTime::parse_from_rfc3339("2026-11-28T19:40:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(
            silence_body(&labels, "irene@sprinttz.example", None, now, None),
            json!({
                "matchers": [
                    {"name": "alertname", "value": "LinkDown", "isRegex": false, "isEqual": true},
                    {"name": "instance", "value": "sw-01:9100", "isRegex": false, "isEqual": true}
                ],
                "startsAt": "2026-11-28T19:40:00.000Z",
                "endsAt": "2026-11-29T19:40:00.000Z",
                "createdBy": "irene@sprinttz.example",
                "comment": "Acknowledged in NOC"
            })
        );
        let body = silence_body(
            &labels,
            "irene@sprinttz.example",
            Some("fibre cut"),
            now,
            Some(now + Duration::hours(2)),
        );
        assert_eq!(
            (&body["endsAt"], &body["comment"]),
            (&json!("2026-11-28T21:40:00.000Z"), &json!("fibre cut"))
        );
    }
}
