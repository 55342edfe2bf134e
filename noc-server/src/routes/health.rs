//! Health, metrics, the browser screen, and the JSON answers for unknown
//! routes and methods.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::error::ApiError;

/// `GET /healthz`: 200 when the store answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({ "status": "unavailable", "error": "the alert store does not answer" }),
                ),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        state.metrics.render(),
    )
        .into_response()
}

/// The browser NOC screen's files, embedded in the binary so that the
/// server is one file to deploy. They are edited in `web/` (no build step).
const INDEX_HTML: &str = include_str!("../../web/index.html");
const APP_JS: &str = include_str!("../../web/app.js");
const STYLE_CSS: &str = include_str!("../../web/style.css");

/// The screen's files change with the binary: a browser must ask again
/// rather than keep a page from before an upgrade.
const NO_CACHE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "no-cache");

/// `GET /`: the browser NOC screen.
pub async fn index() -> impl IntoResponse {
    ([NO_CACHE], Html(INDEX_HTML))
}

/// `GET /app.js`: the screen's script.
pub async fn app_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            NO_CACHE,
        ],
        APP_JS,
    )
}

/// `GET /style.css`: the screen's style sheet.
pub async fn style_css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), NO_CACHE],
        STYLE_CSS,
    )
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint; see the API in docs/protocol.md".into())
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
