//! What handlers take from a request, refused in the contract's words: who
//! is asking ([`Ingest`], [`Operator`], [`Viewer`] from the bearer token),
//! the JSON body ([`JsonBody`]: 415, 413, 400 in the contract's order), the
//! alerts it holds ([`alert_inputs`]: 422) and the `min_severity` parameter.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use noc_shared::Severity;
use serde_json::Value;

use std::sync::Arc;

use super::AppState;
use crate::auth::{Auth, User};
use crate::change::{Actor, AlertInput};
use crate::error::ApiError;
use crate::metrics::SourceLabels;
use crate::sources::file::SourceConfig;

/// The token of `Authorization: Bearer <token>`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The extractors' common part: `check` decides from the request's bearer
/// token; `None` is 401.
fn authorize<T>(
    parts: &Parts,
    state: &AppState,
    check: impl FnOnce(&Auth, Option<&str>) -> Option<T>,
) -> Result<T, ApiError> {
    check(&state.auth.get(), bearer(&parts.headers)).ok_or(ApiError::Unauthorized)
}

/// The source that `--ingest-token` stands for.
pub const INGEST_SOURCE: &str = "webhook";

/// Extractor: the request carries a source's token; holds that source as
/// the actor of its writes, and its entry of the sources file (`None` for
/// the ingest token, which is the source `webhook`).
pub struct Ingest(pub Actor, pub Option<Arc<SourceConfig>>);

impl FromRequestParts<AppState> for Ingest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers);
        // Both are compared whatever the token, in constant time.
        let (ingest, named) = (state.auth.get().is_ingest(token), state.sources.find(token));
        match (named, ingest) {
            (Some(source), _) => Ok(Ingest(Actor::Source(source.name.clone()), Some(source))),
            (None, true) => Ok(Ingest(Actor::Source(INGEST_SOURCE.to_owned()), None)),
            (None, false) => Err(ApiError::Unauthorized),
        }
    }
}

impl Ingest {
    /// A source of the file names every alert it posts, whatever the body
    /// says; the ingest token's alerts keep the body's `source`.
    pub fn name_inputs(&self, inputs: &mut [AlertInput]) {
        if let Some(source) = &self.1 {
            for input in inputs {
                input.source = Some(source.name.clone());
            }
        }
    }

    /// A sign of life from a source of the file.
    pub fn heard(&self, state: &AppState) {
        if let Some(source) = &self.1 {
            state.sources.heard_from(&source.name);
            let labels = SourceLabels {
                source: source.name.clone(),
            };
            state
                .metrics
                .source_last_seen
                .get_or_create(&labels)
                .set(chrono::Utc::now().timestamp());
        }
    }

    /// The write was accepted: counted, and a sign of life.
    pub fn accepted(&self, state: &AppState) {
        if let Some(source) = &self.1 {
            let labels = SourceLabels {
                source: source.name.clone(),
            };
            state.metrics.source_writes.get_or_create(&labels).inc();
        }
        self.heard(state);
    }
}

/// Extractor: the request carries a user's token, so an operator may
/// create, resolve and acknowledge; holds that user.
pub struct Operator(pub User);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authorize(parts, state, |auth, token| {
            auth.user(token).cloned().map(Operator)
        })
    }
}

/// Extractor: the request may read (viewing open, or viewer or user token).
pub struct Viewer;

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authorize(parts, state, |auth, token| {
            auth.may_view(token).then_some(Viewer)
        })
    }
}

/// Extractor for a JSON body, refusing in the contract's order: 415 when the
/// content type is not `application/json`, 413 over `--max-body`, 400 for
/// malformed JSON. Shape checks (422) are the handler's.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(not_json());
        }
        parse(&read(req, state).await?).map(JsonBody)
    }
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn not_json() -> ApiError {
    ApiError::UnsupportedMediaType(
        "the body must be JSON, sent with Content-Type: application/json".into(),
    )
}

/// The body's bytes, up to `--max-body` (413 beyond).
async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(
                "the body is larger than the server's --max-body limit".into(),
            )
        } else {
            ApiError::BadRequest(format!("cannot read the body: {rejection}"))
        }
    })
}

fn parse(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
}

/// Extractor for an optional JSON body: no bytes (whatever the content type
/// says) is `None`; anything else is refused as [`JsonBody`] refuses it.
pub struct OptionalJsonBody(pub Option<Value>);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Still 415 before 413: a body that is not JSON is refused as such
        // even when it is also too large.
        let json = is_json(&req);
        let bytes = match read(req, state).await {
            Err(_) if !json => return Err(not_json()),
            read => read?,
        };
        match (bytes.is_empty(), json) {
            (true, _) => Ok(OptionalJsonBody(None)),
            (false, false) => Err(not_json()),
            (false, true) => parse(&bytes).map(|v| OptionalJsonBody(Some(v))),
        }
    }
}

/// The alerts of a body posted by `by` (one object or an array), and
/// whether it was an array; 422 naming what to fix, counted as a refused
/// write.
pub fn alert_inputs(
    state: &AppState,
    body: &Value,
    by: &Actor,
) -> Result<(Vec<AlertInput>, bool), ApiError> {
    AlertInput::from_body(body, by).map_err(|message| {
        state.metrics.rejected.inc();
        ApiError::Unprocessable(message)
    })
}

/// The `min_severity` query parameter of the list API and the WebSocket:
/// absent or blank is `info`; an unknown name is 422.
pub fn min_severity_param(value: Option<&str>) -> Result<Severity, ApiError> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Severity::Info),
        Some(s) => s
            .parse()
            .map_err(|e| ApiError::Unprocessable(format!("min_severity: {e}"))),
    }
}
