//! `GET /ws/alerts`: admission of a wall screen. The token, the browser
//! origin, the filter and its site count, and a free slot are checked here;
//! then the upgrade is answered and [`crate::screen::serve`] runs the
//! connection on the server's task tracker until it closes.

use std::collections::HashMap;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::Response;
use noc_shared::parse_site_list;

use super::AppState;
use super::extract::{bearer, min_severity_param};
use super::upgrade::Upgrade;
use crate::error::ApiError;
use crate::screen::{self, Admitted, check_site_count};
use crate::socket::Peer;

/// An origin as browsers send it: scheme, host and port, lower-cased,
/// without a trailing slash.
pub fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_lowercase()
}

/// `GET /ws/alerts`: admits a screen, or refuses it with the contract's
/// status (401, 403, 400, 422, 503).
pub async fn ws_alerts(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Query(params): Query<HashMap<String, String>>,
    mut request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let token = params
        .get("token")
        .map(String::as_str)
        .or_else(|| bearer(headers));
    if !state.auth.get().may_view(token) {
        return Err(ApiError::Unauthorized);
    }
    check_origin(&state, headers)?;
    let upgrade = Upgrade::from_request(&mut request).map_err(|e| {
        ApiError::BadRequest(format!("{e}: /ws/alerts takes a WebSocket connection"))
    })?;
    let min_severity = min_severity_param(params.get("min_severity").map(String::as_str))?;
    let filter = state.groups.get().filter(
        params.get("sites").and_then(|s| parse_site_list(s)),
        min_severity,
    );
    let limits = &state.screen.limits;
    check_site_count(limits, &filter).map_err(ApiError::Unprocessable)?;
    let name = params
        .get("client")
        .map(|s| s.trim().chars().take(100).collect::<String>())
        .filter(|s| !s.is_empty());
    // Held by the connection for its whole life.
    let slot = state.screen_slots.clone().try_acquire_owned().map_err(|_| {
        tracing::warn!(addr = %peer.addr, limit = limits.max_screens, "screen refused: --max-screens reached");
        ApiError::Busy(format!(
            "too many screens connected (the limit is {}); try again later or raise --max-screens",
            limits.max_screens
        ))
    })?;
    let response = upgrade.response();
    let admitted = Admitted {
        name,
        addr: peer.addr,
        filter,
        socket: peer.socket,
    };
    let ctx = state.screen.clone();
    state
        .tasks
        .spawn(screen::serve(ctx, upgrade.on_upgrade, admitted, slot));
    Ok(response)
}

/// Refuses a browser page from an origin that `--allowed-origins` does not
/// name (cross-site WebSocket hijacking). The server's own origin and
/// requests without `Origin` (not from a browser page) pass.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    if state.allowed_origins.is_empty() {
        return Ok(());
    }
    let origin = origin.to_str().map(normalize_origin).unwrap_or_default();
    // The server's own page is always welcome: its origin's host is the
    // `Host` the request came to.
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_lowercase);
    let same_origin =
        host.is_some_and(|host| origin.split_once("://").is_some_and(|(_, h)| h == host));
    if same_origin || state.allowed_origins.contains(&origin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "origin {origin:?} is not in --allowed-origins"
        )))
    }
}
