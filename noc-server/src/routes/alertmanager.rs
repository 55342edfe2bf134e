//! `POST /internal/alertmanager`: the endpoint of the Alertmanager and
//! Grafana webhooks. The mapping itself is pure, in
//! [`crate::sources::alertmanager`]; this maps, writes and answers.

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

use super::AppState;
use super::alerts::answer;
use super::extract::{Ingest, JsonBody};
use crate::change::{Actor, AlertInput, Outcome};
use crate::error::ApiError;
use crate::sources::alertmanager::{self, Unusable};
use crate::sources::file::DEFAULT_WATCHDOG;

/// The answer header that lists the entries of `alerts` that could not be
/// used, as `alerts[<index>]: <reason>` joined by `; `. Absent when every
/// entry was stored, so the normal answer is exactly the contract's.
pub const UNUSABLE_HEADER: HeaderName = HeaderName::from_static("noc-unusable-entries");

/// `POST /internal/alertmanager`: an Alertmanager (version 4) or Grafana
/// webhook. Answers 200 with the stored alerts, in the order of `alerts`.
///
/// An entry that cannot be used is logged and named in the
/// [`UNUSABLE_HEADER`]; the others are still stored. When no entry at all
/// can be used, nothing is stored and the answer is 422 naming them: a 4xx,
/// because sending the same body again would not help.
pub async fn post_alertmanager(
    sender: Ingest,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let watchdog = sender
        .1
        .as_ref()
        .map_or(DEFAULT_WATCHDOG, |s| s.watchdog.as_str());
    let mut mapped = alertmanager::map_body_watching(&body, watchdog, state.grafana_test_ttl)
        .map_err(|e| refuse(&state, e))?;
    sender.name_inputs(&mut mapped.inputs);
    let receiver = body.get("receiver").and_then(|r| r.as_str()).unwrap_or("");
    for unusable in &mapped.unusable {
        tracing::warn!(
            source = mapped.sender.as_str(),
            receiver,
            index = unusable.index,
            reason = unusable.reason,
            "webhook entry not usable; the others are stored"
        );
    }
    if mapped.inputs.is_empty() && mapped.watchdogs == 0 && !mapped.unusable.is_empty() {
        return Err(refuse(
            &state,
            format!(
                "no entry of \"alerts\" can be used: {}",
                describe(&mapped.unusable)
            ),
        ));
    }
    let stored = store(&state, sender.0.clone(), mapped.inputs).await?;
    // A watchdog alone is a sign of life, as is any accepted write.
    sender.accepted(&state);
    let mut response = answer(&stored, true);
    if !mapped.unusable.is_empty() {
        // The reasons are our own ASCII text, so this cannot fail; if it
        // ever did, the log above still names every entry.
        if let Ok(value) = HeaderValue::from_str(&describe(&mapped.unusable)) {
            response.headers_mut().insert(UNUSABLE_HEADER, value);
        }
    }
    Ok(response)
}

/// Writes `inputs` as one request; nothing to write is not a write.
async fn store(
    state: &AppState,
    by: Actor,
    inputs: Vec<AlertInput>,
) -> Result<Vec<Outcome>, ApiError> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(state.writer.ingest(by, inputs).await?)
}

/// A 422, counted like the webhook's refusals.
fn refuse(state: &AppState, message: String) -> ApiError {
    state.metrics.rejected.inc();
    ApiError::Unprocessable(message)
}

fn describe(unusable: &[Unusable]) -> String {
    unusable
        .iter()
        .map(|u| format!("alerts[{}]: {}", u.index, u.reason))
        .collect::<Vec<_>>()
        .join("; ")
}
