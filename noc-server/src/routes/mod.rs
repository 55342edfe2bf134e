//! The HTTP surface: [`app`] builds the router so that tests can drive it
//! with or without a socket.

mod alerts;
mod health;
mod upgrade;
mod ws;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

use crate::AppState;

pub use alerts::ingest;

/// The span of one request: method and path only. Never the query string
/// (it may hold a `token`) nor the headers (`Authorization`).
fn request_span(request: &Request<Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
}

/// Every endpoint of the contract.
pub fn app(state: AppState) -> Router {
    let max_body = state.max_body;
    Router::new()
        .route("/internal/alerts", post(alerts::post_webhook))
        .route(
            "/internal/alertmanager",
            post(crate::sources::post_alertmanager),
        )
        .route("/api/v1/alerts", get(alerts::list).post(alerts::post_api))
        .route("/api/v1/alerts/{id}", get(alerts::get_one))
        .route("/api/v1/alerts/{id}/resolve", post(alerts::resolve))
        .route("/api/v1/alerts/{id}/ack", post(alerts::ack))
        .route("/api/v1/screens", get(alerts::screens))
        .route("/ws/alerts", get(ws::ws_alerts))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/", get(health::index))
        .route("/app.js", get(health::app_js))
        .route("/style.css", get(health::style_css))
        .fallback(health::not_found)
        .method_not_allowed_fallback(health::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}
