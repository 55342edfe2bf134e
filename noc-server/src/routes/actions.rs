//! The operators' actions on one alert: acknowledge (with a note and an
//! expiry), unacknowledge, add a note, and read its history. Each write is
//! logged with the user's email; what it does is [`crate::change::apply`]'s.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use noc_shared::{Alert, HistoryEntry, Note};
use serde_json::{Map, Value};

use super::AppState;
use super::extract::{JsonBody, Operator, OptionalJsonBody, Viewer};
use crate::change::input::{MAX_TTL, parse_duration};
use crate::change::{Action, Actor, Outcome, WriteOp};
use crate::error::ApiError;

/// The longest note, in characters after trimming.
pub const MAX_NOTE: usize = 4096;

/// `POST /api/v1/alerts/{id}/ack`, body optional:
/// `{"note"?: "…", "expires_in"?: "2h"}`.
pub async fn ack(
    Operator(user): Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<Json<Alert>, ApiError> {
    let empty = Map::new();
    let body = match &body {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(_) => return Err(unprocessable("the body must be a JSON object")),
    };
    let note = text(body, "note")?;
    let expires_in = expires_in(body)?;
    let action = Action::Ack {
        id: id.clone(),
        note,
        expires_in,
    };
    let alert = act(&state, &user.email, action).await?.alert;
    tracing::info!(user = %user.email, action = "ack", alert_id = %id, "user action");
    Ok(Json(alert))
}

/// `POST /api/v1/alerts/{id}/unack`.
pub async fn unack(
    Operator(user): Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    let alert = act(&state, &user.email, Action::Unack { id: id.clone() })
        .await?
        .alert;
    tracing::info!(user = %user.email, action = "unack", alert_id = %id, "user action");
    Ok(Json(alert))
}

/// `POST /api/v1/alerts/{id}/notes` `{"text": "…"}`: 201 with the note.
pub async fn note(
    Operator(user): Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    let Value::Object(body) = &body else {
        return Err(unprocessable(
            "the body must be a JSON object with \"text\"",
        ));
    };
    let text = text(body, "text")?.ok_or_else(|| unprocessable("text is required"))?;
    let action = Action::Note {
        id: id.clone(),
        text,
    };
    let note = act(&state, &user.email, action)
        .await?
        .note
        .ok_or_else(|| ApiError::NotFound(format!("unknown alert {id:?}")))?;
    tracing::info!(user = %user.email, action = "note", alert_id = %id, "user action");
    Ok((StatusCode::CREATED, Json(note)))
}

/// `GET /api/v1/alerts/{id}/history`: oldest first.
pub async fn history(
    _: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    if state.store.get(&id).await?.is_none() {
        return Err(ApiError::NotFound(format!("unknown alert {id:?}")));
    }
    Ok(Json(state.store.history(&id).await?))
}

/// Writes one action by `email` and returns its outcome.
async fn act(state: &AppState, email: &str, action: Action) -> Result<Outcome, ApiError> {
    let op = WriteOp::new(Actor::User(email.to_owned()), action);
    state
        .writer
        .write(vec![op])
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound("no alert".into()))
}

fn unprocessable(message: &str) -> ApiError {
    ApiError::Unprocessable(message.to_owned())
}

/// An optional text of at most [`MAX_NOTE`] characters; blank is none.
fn text(body: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            let chars = s.chars().count();
            if chars > MAX_NOTE {
                return Err(ApiError::Unprocessable(format!(
                    "{name} is {chars} characters long; at most {MAX_NOTE} are allowed"
                )));
            }
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
        Some(_) => Err(ApiError::Unprocessable(format!("{name} must be a string"))),
    }
}

/// `expires_in`: a duration such as `"2h"`, or seconds as a number.
fn expires_in(body: &Map<String, Value>) -> Result<Option<Duration>, ApiError> {
    let bad = |what: String| ApiError::Unprocessable(format!("expires_in: {what}"));
    let duration = match body.get("expires_in") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => parse_duration(s).map_err(bad)?,
        Some(Value::Number(n)) => n
            .as_f64()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(|| bad(format!("{n} is not a number of seconds")))?,
        Some(_) => return Err(bad("must be a duration such as \"2h\"".into())),
    };
    if duration.is_zero() || duration > MAX_TTL {
        return Err(bad(format!(
            "must be more than 0 and at most {}",
            humantime::format_duration(MAX_TTL)
        )));
    }
    Ok(Some(duration))
}
