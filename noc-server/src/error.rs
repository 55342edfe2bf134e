//! The one error type of the HTTP boundary: every refusal is JSON,
//! `{"error": "…"}`, with the status the contract gives it.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::change::WriteError;
use crate::store::StoreError;
use crate::writer::WriterError;

/// Everything a handler can refuse with. 4xx messages say what to fix; 5xx
/// are logged in full and answered with a short message.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or wrong token")]
    Unauthorized,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Busy(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("the alert store is unavailable, try again")]
    Unavailable(#[source] Arc<StoreError>),
    #[error("the server is shutting down, try again")]
    ShuttingDown,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) | ApiError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Unavailable(Arc::new(e))
    }
}

impl From<WriterError> for ApiError {
    fn from(e: WriterError) -> Self {
        match e {
            WriterError::Refused(WriteError::NotFound(message)) => ApiError::NotFound(message),
            WriterError::Refused(WriteError::Conflict(message)) => ApiError::Conflict(message),
            WriterError::Unavailable(e) => ApiError::Unavailable(e),
            WriterError::ShuttingDown => ApiError::ShuttingDown,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Unavailable(e) = &self {
            tracing::error!(error = %e, "store failure");
        }
        (self.status(), Json(json!({ "error": self.to_string() }))).into_response()
    }
}
