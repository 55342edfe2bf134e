//! The HTTP surface: [`app`] builds the router, over an [`AppState`], so
//! that tests can drive it with or without a socket. Handlers stay thin:
//! extract, validate, call down (the writer, the store, the screen), answer.
//!
//! - `alerts`: the webhook, the REST API and the screens list.
//! - `screens`: screen profiles by name, and identify.
//! - `actions`: the operators' ack (note, expiry), unack, notes, history.
//! - `alertmanager`: the Alertmanager and Grafana webhook.
//! - `silences`: make, list, read and end silences.
//! - `ws`: admission of a WebSocket screen (the connection itself is
//!   [`crate::screen`]); `upgrade`: the WebSocket handshake.
//! - `sources`: a source's heartbeat, the list of sources.
//! - `health`: health, metrics, JSON 404/405; `page`: the browser screen's
//!   files.
//! - `extract`: who is asking (bearer tokens), the JSON body, parameters.

mod actions;
mod alertmanager;
mod alerts;
mod extract;
mod health;
mod page;
mod screens;
mod silences;
mod sources;
mod upgrade;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::{get, post, put};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;
use tower_http::trace::TraceLayer;

use crate::auth::Auth;
use crate::config::Live;
use crate::metrics::Metrics;
use crate::screen::ScreenContext;
use crate::sites::SiteGroups;
use crate::sources::registry::Sources;
use crate::store::Store;
use crate::writer::Writer;

pub use ws::normalize_origin;

/// What every handler shares. Cloning is one reference count: every request
/// holds one, so it stays a pointer.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields behind [`AppState`].
pub struct Shared {
    pub store: Arc<dyn Store>,
    /// The one way to change alerts.
    pub writer: Writer,
    /// What each screen's connection is given once admitted.
    pub screen: Arc<ScreenContext>,
    /// Replaced by a reload of the users file.
    pub auth: Arc<Live<Auth>>,
    /// The sources of `--sources-file` and when each was last heard.
    pub sources: Arc<Sources>,
    /// Replaced by a reload of the sites file.
    pub groups: Arc<Live<SiteGroups>>,
    pub metrics: Metrics,
    pub max_body: usize,
    /// How long a Grafana test notification stays (`--grafana-test-ttl`).
    pub grafana_test_ttl: std::time::Duration,
    /// Lower-cased origins allowed to open the WebSocket; empty allows all.
    pub allowed_origins: Arc<Vec<String>>,
    /// One permit per connected screen, up to `--max-screens`.
    pub screen_slots: Arc<Semaphore>,
    /// The screens' tasks, which axum's graceful shutdown does not wait for.
    pub tasks: TaskTracker,
}

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
            post(alertmanager::post_alertmanager),
        )
        .route("/api/v1/alerts", get(alerts::list).post(alerts::post_api))
        .route("/api/v1/alerts/{id}", get(alerts::get_one))
        .route("/api/v1/alerts/{id}/resolve", post(alerts::resolve))
        .route("/api/v1/alerts/{id}/ack", post(actions::ack))
        .route("/api/v1/alerts/{id}/unack", post(actions::unack))
        .route("/api/v1/alerts/{id}/notes", post(actions::note))
        .route("/api/v1/alerts/{id}/history", get(actions::history))
        .route("/api/v1/screens", get(alerts::screens))
        .route("/internal/heartbeat", post(sources::heartbeat))
        .route("/api/v1/sources", get(sources::list))
        .route(
            "/api/v1/silences",
            get(silences::list).post(silences::create),
        )
        .route(
            "/api/v1/silences/{id}",
            get(silences::get_one).delete(silences::delete),
        )
        .route(
            "/api/v1/screens/{name}/profile",
            put(screens::put_profile).delete(screens::delete_profile),
        )
        .route("/api/v1/screens/{name}/identify", post(screens::identify))
        .route("/ws/alerts", get(ws::ws_alerts))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/", get(page::index))
        .route("/app.js", get(page::app_js))
        .route("/style.css", get(page::style_css))
        .route("/static/{file}", get(page::static_file))
        .fallback(health::not_found)
        .method_not_allowed_fallback(health::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}
