//! The alert endpoints: the webhook, the REST API, and the screens list.
//! Handlers stay thin: extract, validate, write (which stores, then
//! publishes), answer.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use noc_shared::{Alert, parse_site_list};
use serde_json::Value;

use super::AppState;
use super::extract::{Ingest, JsonBody, Operator, Viewer, alert_inputs, min_severity_param};
use crate::change::{Action, Actor, AlertInput, Outcome, WriteOp};
use crate::error::ApiError;
use crate::screen::ScreenInfo;
use crate::store::{ListQuery, StatusFilter};

/// The most alerts one list answer holds.
const MAX_LIST: usize = 1000;
const DEFAULT_LIST: usize = 100;

/// `POST /internal/alerts`: the webhook.
pub async fn post_webhook(
    sender: Ingest,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (mut inputs, many) = alert_inputs(&state, &body, &sender.0)?;
    sender.name_inputs(&mut inputs);
    let outcomes = state.writer.ingest(sender.0.clone(), inputs).await?;
    sender.accepted(&state);
    Ok(answer(&outcomes, many))
}

/// `POST /api/v1/alerts`: a person creates alerts; `source` is `api`.
pub async fn post_api(
    Operator(user): Operator,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let by = Actor::User(user.email.clone());
    let (mut inputs, many) = alert_inputs(&state, &body, &by)?;
    for input in &mut inputs {
        input.source = Some("api".into());
    }
    let outcomes = state.writer.ingest(by, inputs).await?;
    for outcome in &outcomes {
        tracing::info!(user = %user.email, action = "create", alert_id = %outcome.alert.id, "user action");
    }
    Ok(answer(&outcomes, many))
}

/// The stored alerts, in order; a stale write's alert (as it was) carries
/// `"stale": true`.
pub fn answer(outcomes: &[Outcome], many: bool) -> Response {
    let mut alerts: Vec<Value> = outcomes.iter().map(stored_json).collect();
    if many {
        Json(alerts).into_response()
    } else {
        Json(alerts.pop()).into_response()
    }
}

fn stored_json(outcome: &Outcome) -> Value {
    let mut value = serde_json::to_value(&outcome.alert).unwrap_or(Value::Null);
    if let (true, Value::Object(map)) = (outcome.stale, &mut value) {
        map.insert("stale".into(), Value::Bool(true));
    }
    value
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
    let before = match param("before") {
        None => None,
        Some(_) if status != StatusFilter::Resolved => {
            return Err(ApiError::Unprocessable(
                "before pages back through resolved alerts: use it with status=resolved".into(),
            ));
        }
        Some(s) => Some(
            DateTime::parse_from_rfc3339(s)
                .map_err(|e| {
                    ApiError::Unprocessable(format!(
                        "before {s:?} is not an RFC 3339 time ({e}); write e.g. 2026-11-28T19:40:00.123Z"
                    ))
                })?
                .with_timezone(&Utc),
        ),
    };
    let filter = state
        .groups
        .get()
        .filter(param("site").and_then(parse_site_list), min_severity);
    let query = ListQuery {
        filter,
        status,
        limit: limit.min(MAX_LIST),
        before,
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
    let by = Actor::User(user.email.clone());
    let op = WriteOp::new(by, Action::Ingest(AlertInput::resolve(&id)));
    let alert = single(state.writer.write(vec![op]).await?)?;
    tracing::info!(user = %user.email, action = "resolve", alert_id = %id, "user action");
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
