//! The silence endpoints: make one, list them, read one, end one.
//! Handlers stay thin: extract, validate ([`crate::silence`]), store, answer.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use noc_shared::{Silence, SilenceState};

use super::AppState;
use super::extract::{JsonBody, Operator, Viewer};
use crate::change::now;
use crate::error::ApiError;
use crate::silence::{self, SilenceInput};
use crate::silencing;
use crate::store::silences::StoredSilence;

/// The most silences one list answer holds, and the default.
const MAX_LIST: usize = 10_000;
const DEFAULT_LIST: usize = 1000;

/// `POST /api/v1/silences`: 201 with the silence, stored.
pub async fn create(
    Operator(user): Operator,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Silence>), ApiError> {
    let now = now();
    let groups = state.groups.get();
    let input = SilenceInput::from_json(&body, now, &groups).map_err(ApiError::Unprocessable)?;
    let stored = StoredSilence {
        site_groups: silence::groups_named(&input.matchers, &groups),
        silence: Silence {
            id: silence::new_id(),
            matchers: input.matchers,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            created_by: user.email.clone(),
            comment: input.comment,
            state: SilenceState::at(now, input.starts_at, input.ends_at),
        },
    };
    let created = state
        .store
        .create_silence(&stored, now)
        .await?
        .map_err(ApiError::Unprocessable)?;
    tracing::info!(user = %user.email, action = "silence", silence_id = %created.id, "user action");
    if created.state == SilenceState::Active {
        mark_alerts(&state).await;
    }
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/v1/silences?state=active|pending|expired|all&limit=N`.
pub async fn list(
    _: Viewer,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Vec<Silence>>, ApiError> {
    let param = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let wanted = match param("state") {
        None | Some("active") => Some(SilenceState::Active),
        Some("pending") => Some(SilenceState::Pending),
        Some("expired") => Some(SilenceState::Expired),
        Some("all") => None,
        Some(other) => {
            return Err(ApiError::Unprocessable(format!(
                "state {other:?} is not one of active, pending, expired, all"
            )));
        }
    };
    let limit = match param("limit") {
        None => DEFAULT_LIST,
        Some(s) => s.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::Unprocessable(format!("limit {s:?} is not a positive whole number"))
        })?,
    };
    let found = state
        .store
        .silences(wanted, now(), limit.min(MAX_LIST))
        .await?;
    Ok(Json(found))
}

/// `GET /api/v1/silences/{id}`.
pub async fn get_one(
    _: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Silence>, ApiError> {
    state
        .store
        .silence(&id, now())
        .await?
        .map(Json)
        .ok_or_else(|| unknown(&id))
}

/// `DELETE /api/v1/silences/{id}`: ends it now; it stays listed, expired.
/// Ending one that has ended answers 200 and changes nothing.
pub async fn delete(
    Operator(user): Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Silence>, ApiError> {
    let ended = state
        .store
        .delete_silence(&id, now())
        .await?
        .ok_or_else(|| unknown(&id))?;
    tracing::info!(user = %user.email, action = "end silence", silence_id = %id, "user action");
    mark_alerts(&state).await;
    Ok(Json(ended))
}

/// Marks or unmarks the alerts a silence just started or ended on, before
/// answering, so that the answer means the screens have been told. The
/// silence is stored whatever happens here; on failure the clock's next
/// pass does it.
async fn mark_alerts(state: &AppState) {
    if let Err(e) = silencing::reconcile(&*state.store, &state.writer, now()).await {
        tracing::warn!(error = %e, "cannot mark silenced alerts now; the clock will");
    }
}

fn unknown(id: &str) -> ApiError {
    ApiError::NotFound(format!("unknown silence {id:?}"))
}
