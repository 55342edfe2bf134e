//! The sources' own endpoints: `POST /internal/heartbeat` (a sign of life)
//! and `GET /api/v1/sources` (each source, its state and counts).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use noc_shared::{SourceInfo, SourceState};

use super::AppState;
use super::extract::{Ingest, Viewer};
use crate::error::ApiError;

/// `POST /internal/heartbeat`: a source says it is alive; the body, if
/// any, is ignored. 204.
pub async fn heartbeat(sender: Ingest, State(state): State<AppState>) -> StatusCode {
    sender.heard(&state);
    StatusCode::NO_CONTENT
}

/// `GET /api/v1/sources`: every source of the file, in its order. Tokens
/// never appear.
pub async fn list(
    _: Viewer,
    State(state): State<AppState>,
) -> Result<Json<Vec<SourceInfo>>, ApiError> {
    let active = state.store.active_by_source().await?;
    let writeback = state.store.writeback_counts().await?;
    let now = Utc::now();
    let infos = state
        .sources
        .all()
        .iter()
        .map(|source| {
            let last_seen_at = state
                .sources
                .last_seen(&source.name)
                .and_then(|at| DateTime::from_timestamp_millis(at.timestamp_millis()));
            let silent = |at: DateTime<Utc>| {
                source
                    .heartbeat
                    .is_some_and(|h| (now - at).to_std().is_ok_and(|quiet| quiet > h))
            };
            let state = match last_seen_at {
                None => SourceState::Never,
                Some(at) if silent(at) => SourceState::Silent,
                Some(_) => SourceState::Ok,
            };
            SourceInfo {
                name: source.name.clone(),
                kind: source.kind.as_str().to_owned(),
                last_seen_at,
                heartbeat: source
                    .heartbeat
                    .map(|h| humantime::format_duration(h).to_string()),
                state,
                active_alerts: active.get(&source.name).copied().unwrap_or_default(),
                writeback: writeback.get(&source.name).cloned().unwrap_or_default(),
            }
        })
        .collect();
    Ok(Json(infos))
}
