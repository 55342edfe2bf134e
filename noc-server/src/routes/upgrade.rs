//! The WebSocket opening handshake (RFC 6455, section 4.2), done here
//! rather than by axum's `WebSocketUpgrade` because a screen needs the raw
//! connection afterwards: the hub writes event frames straight to its
//! socket (see `outlet`).

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use axum::response::Response;
use hyper::upgrade::OnUpgrade;
use tungstenite::handshake::derive_accept_key;

/// A valid upgrade request, ready to be answered.
pub struct Upgrade {
    pub on_upgrade: OnUpgrade,
    accept: HeaderValue,
}

impl Upgrade {
    /// Checks that `request` asks for a WebSocket (HTTP/1.1 GET with the
    /// upgrade headers, version 13); the error says what is missing.
    pub fn from_request(request: &mut Request) -> Result<Self, String> {
        if request.version() != Version::HTTP_11 || request.method() != Method::GET {
            return Err("a WebSocket opens with an HTTP/1.1 GET".into());
        }
        let headers = request.headers();
        if !has_token(headers, CONNECTION, "upgrade") {
            return Err("the Connection header must include \"upgrade\"".into());
        }
        if !has_token(headers, UPGRADE, "websocket") {
            return Err("the Upgrade header must be \"websocket\"".into());
        }
        if !has_token(headers, SEC_WEBSOCKET_VERSION, "13") {
            return Err("the Sec-WebSocket-Version header must be 13".into());
        }
        let key = headers
            .get(SEC_WEBSOCKET_KEY)
            .ok_or("the Sec-WebSocket-Key header is missing")?;
        let accept = HeaderValue::try_from(derive_accept_key(key.as_bytes()))
            .map_err(|e| format!("cannot answer the Sec-WebSocket-Key: {e}"))?;
        let on_upgrade = request
            .extensions_mut()
            .remove::<OnUpgrade>()
            .ok_or("this connection cannot be upgraded")?;
        Ok(Upgrade { on_upgrade, accept })
    }

    /// The `101 Switching Protocols` answer.
    pub fn response(&self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(SEC_WEBSOCKET_ACCEPT, self.accept.clone());
        response
    }
}

/// Does the comma-separated header `name` include `token` (any case)?
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(version: &str) -> Request {
        Request::builder()
            .uri("/ws/alerts")
            .header(CONNECTION, "keep-alive, Upgrade")
            .header(UPGRADE, "WebSocket")
            .header(SEC_WEBSOCKET_VERSION, version)
            .header(SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
            .body(Body::empty())
            .expect("request")
    }

    #[test]
    fn accepts_the_rfc_example_and_answers_its_key() {
        // A request built by hand has no connection to upgrade: the header
        // checks all passed to get there.
        assert_eq!(
            Upgrade::from_request(&mut request("13")).err().as_deref(),
            Some("this connection cannot be upgraded")
        );
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn says_which_header_is_wrong() {
        assert_eq!(
            Upgrade::from_request(&mut request("8")).err().as_deref(),
            Some("the Sec-WebSocket-Version header must be 13")
        );
    }
}
