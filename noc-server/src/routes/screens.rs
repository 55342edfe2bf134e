//! The screens' profiles by name: `PUT` and `DELETE
//! /api/v1/screens/{name}/profile`, `POST /api/v1/screens/{name}/identify`.
//! Each is committed to the store before it answers; every screen of that
//! name, on every instance, hears of it within a second.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use noc_shared::Profile;
use serde_json::{Value, json};

use super::AppState;
use super::extract::{JsonBody, Operator};
use crate::error::ApiError;
use crate::profiles::validate;

/// The name in the path, checked as a screen's `client` name.
fn screen_name(name: &str) -> Result<String, ApiError> {
    validate::screen_name(name).map_err(ApiError::Unprocessable)
}

/// `PUT /api/v1/screens/{name}/profile`: sets the profile; answers it
/// with every key (`null` where it leaves the screen's own setting).
pub async fn put_profile(
    Operator(user): Operator,
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let name = screen_name(&name)?;
    let profile: Profile = validate::profile(&body).map_err(ApiError::Unprocessable)?;
    state
        .screen
        .profiles
        .put(&[(name.clone(), profile.clone())])
        .await?;
    tracing::info!(user = %user.email, action = "profile.put", screen = %name, "user action");
    Ok(Json(json!({ "name": name, "profile": profile })))
}

/// `DELETE /api/v1/screens/{name}/profile`: 204, or 404 when the name
/// has no profile. Its screens follow their own flags again.
pub async fn delete_profile(
    Operator(user): Operator,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let name = screen_name(&name)?;
    if !state.screen.profiles.delete(&name).await? {
        return Err(ApiError::NotFound(format!(
            "screen {name:?} has no profile"
        )));
    }
    tracing::info!(user = %user.email, action = "profile.delete", screen = %name, "user action");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/screens/{name}/identify`: 202; every screen of that name
/// shows its name for 10 s. Whether any is connected, on any instance,
/// `GET /api/v1/screens` tells.
pub async fn identify(
    Operator(user): Operator,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let name = screen_name(&name)?;
    state.screen.profiles.identify(&name).await?;
    tracing::info!(user = %user.email, action = "identify", screen = %name, "user action");
    Ok(StatusCode::ACCEPTED)
}
