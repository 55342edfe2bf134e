//! The alert endpoints: the webhook, the REST API, and the screens list.
//! Handlers stay thin: extract, validate, write (which stores, then
//! publishes), answer.

use std::collections::HashMap;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use noc_shared::{Alert, parse_site_list};

use crate::AppState;
use crate::auth::{Ingest, Viewer, Writer};
use crate::error::ApiError;
use crate::ingest::{AlertInput, JsonBody, min_severity_param};
use crate::screens::ScreenInfo;
use crate::store::{ListQuery, Outcome, StatusFilter, WriteOp};

/// The most alerts one list answer holds.
const MAX_LIST: usize = 1000;
const DEFAULT_LIST: usize = 100;

/// `POST /internal/alerts`: the webhook.
pub async fn post_webhook(
    _: Ingest,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (inputs, many) = validate(&state, &body)?;
    let stored = ingest(&state, inputs).await?;
    Ok(answer(stored, many))
}

/// `POST /api/v1/alerts`: a person creates alerts; `source` is `api`.
pub async fn post_api(
    Writer(user): Writer,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (mut inputs, many) = validate(&state, &body)?;
    for input in &mut inputs {
        input.source = Some("api".into());
    }
    let stored = ingest(&state, inputs).await?;
    for alert in &stored {
        tracing::info!(user = %user.email, action = "create", alert_id = %alert.id, "user action");
    }
    Ok(answer(stored, many))
}

/// Validates a posted body, counting refusals.
fn validate(
    state: &AppState,
    body: &serde_json::Value,
) -> Result<(Vec<AlertInput>, bool), ApiError> {
    AlertInput::from_body(body).inspect_err(|_| {
        state.metrics.rejected.inc();
    })
}

/// Writes `inputs` as one all-or-nothing request, assigning ids where the
/// sender gave none.
pub async fn ingest(state: &AppState, inputs: Vec<AlertInput>) -> Result<Vec<Alert>, ApiError> {
    let ops = inputs
        .into_iter()
        .map(|mut input| {
            input
                .id
                .get_or_insert_with(|| uuid::Uuid::now_v7().to_string());
            WriteOp::Ingest(input)
        })
        .collect();
    let outcomes = commit(state, ops).await?;
    state.metrics.ingested.inc_by(outcomes.len() as u64);
    Ok(outcomes.into_iter().map(|o| o.alert).collect())
}

/// Sends `ops` to the writer and records how long the durable commit took.
async fn commit(state: &AppState, ops: Vec<WriteOp>) -> Result<Vec<Outcome>, ApiError> {
    let started = Instant::now();
    let result = state.writer.write(ops).await;
    state
        .metrics
        .ingest_seconds
        .observe(started.elapsed().as_secs_f64());
    if result.is_err() {
        state.metrics.rejected.inc();
    }
    result
}

fn answer(mut stored: Vec<Alert>, many: bool) -> Response {
    if many {
        Json(stored).into_response()
    } else {
        Json(stored.pop()).into_response()
    }
}

/// `GET /api/v1/alerts`: newest first, filtered by the query.
pub async fn list(
    _: Viewer,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let param = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let status = match param("status") {
        None | Some("active") => StatusFilter::Active,
        Some("resolved") => StatusFilter::Resolved,
        Some("all") => StatusFilter::All,
        Some(other) => {
            return Err(ApiError::Unprocessable(format!(
                "status {other:?} is not one of active, resolved, all"
            )));
        }
    };
    let min_severity = min_severity_param(param("min_severity"))?;
    let limit = match param("limit") {
        None => DEFAULT_LIST,
        Some(s) => s.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::Unprocessable(format!("limit {s:?} is not a positive whole number"))
        })?,
    };
    let filter = state.filter(param("site").and_then(parse_site_list), min_severity);
    let query = ListQuery {
        filter,
        status,
        limit: limit.min(MAX_LIST),
    };
    Ok(Json(state.store.list(&query).await?))
}

/// `GET /api/v1/alerts/{id}`.
pub async fn get_one(
    _: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    state
        .store
        .get(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("unknown alert {id:?}")))
}

/// `POST /api/v1/alerts/{id}/resolve`.
pub async fn resolve(
    Writer(user): Writer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    let alert = single(commit(&state, vec![WriteOp::Ingest(AlertInput::resolve(&id))]).await?)?;
    tracing::info!(user = %user.email, action = "resolve", alert_id = %id, "user action");
    Ok(Json(alert))
}

/// `POST /api/v1/alerts/{id}/ack`: sets `acked_by` to the user's email.
pub async fn ack(
    Writer(user): Writer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    let op = WriteOp::Ack {
        id: id.clone(),
        by: user.email.clone(),
    };
    let alert = single(commit(&state, vec![op]).await?)?;
    tracing::info!(user = %user.email, action = "ack", alert_id = %id, "user action");
    Ok(Json(alert))
}

fn single(outcomes: Vec<Outcome>) -> Result<Alert, ApiError> {
    outcomes
        .into_iter()
        .next()
        .map(|o| o.alert)
        .ok_or_else(|| ApiError::NotFound("no alert".into()))
}

/// `GET /api/v1/screens`.
pub async fn screens(_: Viewer, State(state): State<AppState>) -> Json<Vec<ScreenInfo>> {
    Json(state.screens.list())
}
