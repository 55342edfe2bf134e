//! Zabbix: `event.acknowledge` on the alert's event (its label
//! `zabbix.eventid`), through the JSON-RPC API at the source's `api_url`.
//! Zabbix 6.4 and later take the API token as `Authorization: Bearer`;
//! 6.0–6.2 take it in the request's `auth` field (and 7.2 no longer does),
//! so `apiinfo.version`, which needs no token, tells which.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{Notice, SendError, read_token, transport};

/// Zabbix's `event.acknowledge` action flags.
const CLOSE_NONE: u32 = 0;
const ACKNOWLEDGE: u32 = 2;
const ADD_MESSAGE: u32 = 4;
const UNACKNOWLEDGE: u32 = 16;

/// One Zabbix server's API.
#[derive(Debug, Clone)]
pub struct Zabbix {
    http: reqwest::Client,
    api_url: String,
    token_file: PathBuf,
}

/// How a Zabbix version takes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// 6.4 and later: `Authorization: Bearer`.
    Bearer,
    /// 6.0–6.2: the request's `auth` field.
    Field,
}

impl Auth {
    /// From `apiinfo.version`'s answer, e.g. `"6.0.14"`.
    pub fn for_version(version: &str) -> Result<Auth, SendError> {
        let mut parts = version.split('.').map(str::parse::<u32>);
        match (parts.next(), parts.next()) {
            (Some(Ok(major)), Some(Ok(minor))) if (major, minor) >= (6, 4) => Ok(Auth::Bearer),
            (Some(Ok(_)), Some(Ok(_))) => Ok(Auth::Field),
            _ => Err(SendError::Retry(format!(
                "Zabbix answered apiinfo.version with {version:?}, not a version"
            ))),
        }
    }
}

/// The `event.acknowledge` parameters for `action` on `eventid`, or
/// `None` when Zabbix has nothing to hear (a resolve on the wall does not
/// close the problem in Zabbix: only its trigger does).
pub fn acknowledge_params(eventid: &str, action: &Notice) -> Option<Value> {
    let signed = |text: &str, by: &str| format!("{text} — {by} via NOC");
    let (flags, message) = match action {
        Notice::Ack {
            by,
            note: Some(note),
            ..
        } => (ACKNOWLEDGE | ADD_MESSAGE, Some(signed(note, by))),
        Notice::Ack { note: None, .. } => (ACKNOWLEDGE, None),
        Notice::Unack { .. } => (UNACKNOWLEDGE, None),
        Notice::Note { by, text } => (ADD_MESSAGE, Some(signed(text, by))),
        Notice::Resolve => return None,
    };
    let mut params = json!({"eventids": [eventid], "action": flags | CLOSE_NONE});
    if let Some(message) = message {
        params["message"] = Value::String(message);
    }
    Some(params)
}

impl Zabbix {
    /// The API at `api_url` (`…/api_jsonrpc.php`), its token in `token_file`.
    pub fn new(http: reqwest::Client, api_url: &str, token_file: PathBuf) -> Zabbix {
        Zabbix {
            http,
            api_url: api_url.to_owned(),
            token_file,
        }
    }

    /// Tells Zabbix of `action` on the event `eventid`.
    pub async fn send(&self, eventid: Option<&str>, action: &Notice) -> Result<(), SendError> {
        let eventid = eventid.ok_or_else(|| {
            SendError::Fail(
                "the alert has no zabbix.eventid label (it did not come through the NOC media type)"
                    .into(),
            )
        })?;
        let Some(params) = acknowledge_params(eventid, action) else {
            return Ok(());
        };
        let token = read_token(&self.token_file)?;
        let version = self.call("apiinfo.version", json!({}), None).await?;
        let auth = Auth::for_version(version.as_str().unwrap_or_default())?;
        self.call("event.acknowledge", params, Some((auth, &token)))
            .await
            .map(drop)
    }

    /// One JSON-RPC call; its `result`, or Zabbix's error in its words.
    async fn call(
        &self,
        method: &str,
        params: Value,
        auth: Option<(Auth, &str)>,
    ) -> Result<Value, SendError> {
        let mut body = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
        let mut request = self
            .http
            .post(&self.api_url)
            .header("Content-Type", "application/json-rpc");
        match auth {
            Some((Auth::Bearer, token)) => request = request.bearer_auth(token),
            Some((Auth::Field, token)) => body["auth"] = Value::String(token.to_owned()),
            None => {}
        }
        let response = request
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| transport("Zabbix", &self.api_url, &e))?;
        let status = response.status();
        let answer: Value = response.json().await.map_err(|e| {
            SendError::Retry(format!("Zabbix {method}: HTTP {status}, not JSON-RPC: {e}"))
        })?;
        if let Some(error) = answer.get("error") {
            let words = [error.get("message"), error.get("data")]
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ");
            return Err(SendError::Retry(format!("Zabbix {method}: {words}")));
        }
        answer
            .get("result")
            .cloned()
            .ok_or_else(|| SendError::Retry(format!("Zabbix {method}: HTTP {status}, no result")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_in_the_header_from_6_4() {
        assert_eq!(Auth::for_version("6.0.14"), Ok(Auth::Field));
        assert_eq!(Auth::for_version("6.2.9"), Ok(Auth::Field));
        assert_eq!(Auth::for_version("6.4.0"), Ok(Auth::Bearer));
        assert_eq!(Auth::for_version("7.2.1"), Ok(Auth::Bearer));
        assert!(Auth::for_version("garbage").is_err());
    }

    #[test]
    fn actions_become_flags_and_signed_messages() {
        let by = "irene@sprinttz.example".to_owned();
        let ack = |note: Option<&str>| Notice::Ack {
            by: by.clone(),
            note: note.map(str::to_owned),
            expires_at: None,
        };
        assert_eq!(
            acknowledge_params("48213", &ack(Some("on it"))),
            Some(json!({"eventids": ["48213"], "action": 6,
                "message": "on it — irene@sprinttz.example via NOC"}))
        );
        assert_eq!(
            acknowledge_params("48213", &ack(None)),
            Some(json!({"eventids": ["48213"], "action": 2}))
        );
        assert_eq!(
            acknowledge_params("48213", &Notice::Unack { by: by.clone() }),
            Some(json!({"eventids": ["48213"], "action": 16}))
        );
        assert_eq!(
            acknowledge_params(
                "48213",
                &Notice::Note {
                    by,
                    text: "fibre cut".into()
                }
            ),
            Some(json!({"eventids": ["48213"], "action": 4,
                "message": "fibre cut — irene@sprinttz.example via NOC"}))
        );
        assert_eq!(acknowledge_params("48213", &Notice::Resolve), None);
    }
}
