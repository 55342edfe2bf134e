//! The server's REST API, for the operator's actions and an alert's
//! history. [`Request`] and [`Reply`] are plain data: the model asks for a
//! request in its [`crate::app::Effects`] and later takes the reply as a
//! message, so it never waits on the network. [`ApiClient`] does the HTTP,
//! on a task of its own, with the same TLS roots (`--ca-file` included) as
//! the WebSocket.

use std::sync::Arc;
use std::time::Duration;

use noc_shared::HistoryEntry;
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

use crate::cli::{Config, WS_PATH};
use crate::net::describe_tls_error;

/// How long one request may take before it is reported as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a silence made from the screen matches on: the alert's host or its
/// site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SilenceScope {
    Host,
    Site,
}

impl SilenceScope {
    /// The matcher's `name`.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceScope::Host => "host",
            SilenceScope::Site => "site",
        }
    }
}

/// One call to the server's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `GET /api/v1/alerts/{id}/history`.
    History { id: String },
    /// `POST /api/v1/alerts/{id}/ack`.
    Ack {
        id: String,
        note: Option<String>,
        expires_in: Option<String>,
    },
    /// `POST /api/v1/alerts/{id}/unack`.
    Unack { id: String },
    /// `POST /api/v1/alerts/{id}/notes`.
    Note { id: String, text: String },
    /// `POST /api/v1/silences` with one `=` matcher.
    Silence {
        /// The alert it was made from, for the words on screen.
        id: String,
        scope: SilenceScope,
        value: String,
        duration: String,
        comment: String,
    },
}

impl Request {
    /// The action in a few words, for the screen: "ack of zbx-1".
    pub fn describe(&self) -> String {
        match self {
            Request::History { id } => format!("history of {id}"),
            Request::Ack { id, .. } => format!("ack of {id}"),
            Request::Unack { id } => format!("unack of {id}"),
            Request::Note { id, .. } => format!("note on {id}"),
            Request::Silence { scope, value, .. } => {
                format!("silence of {} {value}", scope.as_str())
            }
        }
    }

    /// True for the requests that change something (they need a user
    /// token).
    pub fn is_action(&self) -> bool {
        !matches!(self, Request::History { .. })
    }

    fn method_path_body(&self) -> (reqwest::Method, String, Option<Value>) {
        use reqwest::Method;
        let alert = |id: &str, tail: &str| {
            // An id is the source's own: it may hold anything a URL path
            // cannot, so it is one percent-encoded segment.
            let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
            format!("api/v1/alerts/{}{tail}", id.replace('+', "%20"))
        };
        match self {
            Request::History { id } => (Method::GET, alert(id, "/history"), None),
            Request::Ack {
                id,
                note,
                expires_in,
            } => {
                let mut body = serde_json::Map::new();
                if let Some(note) = note {
                    body.insert("note".into(), json!(note));
                }
                if let Some(expires_in) = expires_in {
                    body.insert("expires_in".into(), json!(expires_in));
                }
                (Method::POST, alert(id, "/ack"), Some(Value::Object(body)))
            }
            Request::Unack { id } => (Method::POST, alert(id, "/unack"), None),
            Request::Note { id, text } => (
                Method::POST,
                alert(id, "/notes"),
                Some(json!({"text": text})),
            ),
            Request::Silence {
                scope,
                value,
                duration,
                comment,
                ..
            } => (
                Method::POST,
                "api/v1/silences".to_owned(),
                Some(json!({
                    "matchers": [{"name": scope.as_str(), "op": "=", "value": value}],
                    "duration": duration,
                    "comment": comment,
                })),
            ),
        }
    }
}

/// What came of a [`Request`].
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The history of alert `id`, or why it could not be had.
    History {
        id: String,
        result: Result<Vec<HistoryEntry>, String>,
    },
    /// An action: done, or why not, in words.
    Done {
        request: Request,
        result: Result<(), String>,
    },
}

/// Sends [`Request`]s to the server. Cheap to clone: each request runs on a
/// task of its own.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    /// `--user-token`: what actions are sent with.
    user_token: Option<Arc<str>>,
    /// What reads are sent with: the user token, else `--token`.
    read_token: Option<Arc<str>>,
}

impl ApiClient {
    /// A client trusting what the WebSocket trusts (the system's CAs and
    /// `--ca-file` for `https://`).
    pub fn new(config: &Config) -> Result<ApiClient, reqwest::Error> {
        let mut builder = reqwest::Client::builder().timeout(REQUEST_TIMEOUT);
        if let Some(tls) = &config.tls {
            builder = builder.use_preconfigured_tls(rustls::ClientConfig::clone(tls));
        }
        let user_token: Option<Arc<str>> = config.user_token.as_deref().map(Arc::from);
        let read_token = user_token
            .clone()
            .or_else(|| config.token.as_deref().map(Arc::from));
        Ok(ApiClient {
            http: builder.build()?,
            user_token,
            read_token,
        })
    }

    /// Sends `request` to the server whose WebSocket is at `ws_url`.
    pub async fn send(&self, ws_url: &str, request: Request) -> Reply {
        let result = self.call(ws_url, &request).await;
        match request {
            Request::History { id } => Reply::History {
                id,
                result: result.and_then(|body| {
                    serde_json::from_value(body)
                        .map_err(|e| format!("the server's history is not readable: {e}"))
                }),
            },
            request => Reply::Done {
                request,
                result: result.map(|_| ()),
            },
        }
    }

    async fn call(&self, ws_url: &str, request: &Request) -> Result<Value, String> {
        let token = if request.is_action() {
            self.user_token
                .as_deref()
                .ok_or("a user token is needed: start noc-tui with --user-token (NOC_USER_TOKEN)")?
        } else {
            self.read_token.as_deref().unwrap_or("")
        };
        let base = http_base(ws_url).ok_or_else(|| format!("no HTTP base for {ws_url}"))?;
        let (method, path, body) = request.method_path_body();
        let url = base
            .join(&path)
            .map_err(|e| format!("cannot make a URL of {path}: {e}"))?;
        let mut call = self.http.request(method, url);
        if !token.is_empty() {
            call = call.bearer_auth(token);
        }
        if let Some(body) = body {
            call = call.json(&body);
        }
        let response = call
            .send()
            .await
            .map_err(|e| format!("cannot reach the server: {}", reqwest_words(&e)))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let said = body
            .get("error")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| text.chars().take(200).collect());
        Err(status_words(status, &said))
    }
}

/// An HTTP status and the server's own error, in words.
fn status_words(status: StatusCode, said: &str) -> String {
    let code = status.as_u16();
    let what = match code {
        401 => "the server does not accept this token (401); check --user-token",
        403 => "this token may only view, not act (403); a user token is needed",
        404 => "the server has no such alert (404)",
        409 => "not possible in the alert's state (409)",
        422 => "the server refused the input (422)",
        500..=599 => "the server failed (5xx); try again",
        _ => "the server refused",
    };
    if said.is_empty() {
        format!("{what}: HTTP {code}")
    } else {
        format!("{what}: {said}")
    }
}

/// A transport error in words: a TLS failure as the WebSocket says it
/// (with the fix, e.g. `--ca-file`), anything else as its chain of causes.
fn reqwest_words(e: &reqwest::Error) -> String {
    let mut words = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if let Some(tls) = rustls_in(inner) {
            return describe_tls_error(tls);
        }
        words.push_str(": ");
        words.push_str(&inner.to_string());
        source = inner.source();
    }
    words
}

/// The rustls error in `error`, which the connector wraps in an io::Error
/// or two (whose `source` skips what they wrap).
fn rustls_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_in(inner)
}

/// The HTTP base of a WebSocket URL: `ws://h/noc/ws/alerts?…` →
/// `http://h/noc/`, so that API paths join under the same prefix.
pub fn http_base(ws_url: &str) -> Option<Url> {
    let mut url = Url::parse(ws_url).ok()?;
    let scheme = match url.scheme() {
        "ws" => "http",
        "wss" => "https",
        _ => return None,
    };
    url.set_scheme(scheme).ok()?;
    let path = url.path().to_owned();
    let prefix = path.strip_suffix(WS_PATH).unwrap_or(path.as_str());
    url.set_path(&format!("{}/", prefix.trim_end_matches('/')));
    url.set_query(None);
    url.set_fragment(None);
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_base_keeps_the_prefix_and_the_scheme_follows_tls() {
        let base = |u: &str| http_base(u).map(|b| b.to_string());
        assert_eq!(
            base("ws://h:8080/ws/alerts").as_deref(),
            Some("http://h:8080/")
        );
        assert_eq!(
            base("wss://h/noc/ws/alerts?client=x").as_deref(),
            Some("https://h/noc/")
        );
        assert_eq!(base("http://h/ws/alerts"), None);
        let joined = http_base("ws://h/noc/ws/alerts")
            .and_then(|b| b.join("api/v1/silences").ok())
            .map(|u| u.to_string());
        assert_eq!(joined.as_deref(), Some("http://h/noc/api/v1/silences"));
    }

    #[test]
    fn an_odd_id_stays_one_path_segment() {
        let (_, path, _) = Request::Unack {
            id: "a b/c?d".into(),
        }
        .method_path_body();
        assert_eq!(path, "api/v1/alerts/a%20b%2Fc%3Fd/unack");
    }

    #[test]
    fn bodies_carry_only_what_was_given() {
        let (_, _, body) = Request::Ack {
            id: "x".into(),
            note: None,
            expires_in: Some("2h".into()),
        }
        .method_path_body();
        assert_eq!(body, Some(json!({"expires_in": "2h"})));
        let (_, path, body) = Request::Silence {
            id: "x".into(),
            scope: SilenceScope::Site,
            value: "Kilimanjaro".into(),
            duration: "2h".into(),
            comment: "works".into(),
        }
        .method_path_body();
        assert_eq!(path, "api/v1/silences");
        assert_eq!(
            body,
            Some(json!({
                "matchers": [{"name": "site", "op": "=", "value": "Kilimanjaro"}],
                "duration": "2h",
                "comment": "works",
            }))
        );
    }

    #[test]
    fn statuses_are_put_in_words() {
        assert!(status_words(StatusCode::FORBIDDEN, "viewer").contains("may only view"));
        assert!(status_words(StatusCode::UNAUTHORIZED, "").contains("HTTP 401"));
    }
}
