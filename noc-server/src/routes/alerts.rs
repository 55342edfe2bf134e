//! The alert endpoints: the webhook, the REST API, and the screens list.
//! Handlers stay thin: extract, validate, write (which stores, then
//! publishes), answer.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use noc_shared::{Alert, parse_site_list};

use super::AppState;
use super::extract::{Ingest, JsonBody, Operator, Viewer, alert_inputs, min_severity_param};
use crate::change::{AlertInput, Outcome, WriteOp};
use crate::error::ApiError;
use crate::screen::ScreenInfo;
use crate::store::{ListQuery, StatusFilter};

/// The most alerts one list answer holds.
const MAX_LIST: usize = 1000;
const DEFAULT_LIST: usize = 100;

/// `POST /internal/alerts`: the webhook.
pub async fn post_webhook(
    _: Ingest,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (inputs, many) = alert_inputs(&state, &body)?;
    let stored = state.writer.ingest(inputs).await?;
    Ok(answer(stored, many))
}

/// `POST /api/v1/alerts`: a person creates alerts; `source` is `api`.
pub async fn post_api(
    Operator(user): Operator,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (mut inputs, many) = alert_inputs(&state, &body)?;
    for input in &mut inputs {
        input.source = Some("api".into());
    }
    let stored = state.writer.ingest(inputs).await?;
    for alert in &stored {
        tracing::info!(user = %user.email, action = "create", alert_id = %alert.id, "user action");
    }
    Ok(answer(stored, many))
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
    let filter = state
        .groups
        .filter(param("site").and_then(parse_site_list), min_severity);
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
    Operator(user): Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    let op = WriteOp::Ingest(AlertInput::resolve(&id));
    let alert = single(state.writer.write(vec![op]).await?)?;
    tracing::info!(user = %user.email, action = "resolve", alert_id = %id, "user action");
    Ok(Json(alert))
}

/// `POST /api/v1/alerts/{id}/ack`: sets `acked_by` to the user's email.
pub async fn ack(
    Operator(user): Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    let op = WriteOp::Ack {
        id: id.clone(),
        by: user.email.clone(),
    };
    let alert = single(state.writer.write(vec![op]).await?)?;
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
    Json(state.screen.screens.list())
}
