//! Who may do what: the ingest token, the viewer token and the users file.
//! (How a request presents its token is the HTTP layer's:
//! `routes/extract.rs`.)
//!
//! Every token is kept only as its SHA-256 digest and compared in constant
//! time, so neither the comparison's timing nor a memory dump gives it away.

use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Secret;

pub(crate) type TokenDigest = [u8; 32];

pub(crate) fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// The digest of a file's `token` or `token_sha256` (64 hex digits):
/// `None` unless exactly one is given and valid.
pub(crate) fn token_digest(token: Option<&str>, sha256: Option<&str>) -> Option<TokenDigest> {
    match (token, sha256) {
        (Some(t), None) if !t.is_empty() => Some(digest(t)),
        (None, Some(h)) => hex::decode(h.trim()).ok().and_then(|b| b.try_into().ok()),
        _ => None,
    }
}

/// A person allowed to write through the REST API.
#[derive(Debug, Clone)]
pub struct User {
    pub email: String,
    token: TokenDigest,
}

/// The tokens the server accepts.
#[derive(Debug, Clone)]
pub struct Auth {
    ingest: TokenDigest,
    viewer: Option<TokenDigest>,
    users: Vec<User>,
}

/// A problem with the users file, named precisely enough to fix.
#[derive(Debug, thiserror::Error)]
pub enum UsersFileError {
    #[error("cannot read users file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("users file {path} is not valid: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error(
        "users file {path}: user {email:?} needs exactly one of `token` or `token_sha256` (64 hex digits)"
    )]
    Token { path: String, email: String },
}

#[derive(Deserialize)]
struct UsersFile {
    #[serde(default)]
    user: Vec<UserEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    email: String,
    token: Option<String>,
    token_sha256: Option<String>,
}

impl Auth {
    pub fn new(ingest: &Secret, viewer: Option<&Secret>, users: Vec<User>) -> Self {
        Auth {
            ingest: digest(ingest.expose()),
            viewer: viewer.map(|v| digest(v.expose())),
            users,
        }
    }

    /// The same tokens with `users` in place of the old ones (a reload of
    /// the users file).
    pub fn with_users(&self, users: Vec<User>) -> Self {
        Auth {
            users,
            ..self.clone()
        }
    }

    /// Reads `[[user]]` entries with `email` and `token` or `token_sha256`.
    pub fn load_users(path: &Path) -> Result<Vec<User>, UsersFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| UsersFileError::Read {
            path: shown.clone(),
            source,
        })?;
        let file: UsersFile = toml::from_str(&text).map_err(|source| UsersFileError::Parse {
            path: shown.clone(),
            source,
        })?;
        file.user
            .into_iter()
            .map(|u| {
                let token = token_digest(u.token.as_deref(), u.token_sha256.as_deref());
                let token = token.ok_or_else(|| UsersFileError::Token {
                    path: shown.clone(),
                    email: u.email.clone(),
                })?;
                Ok(User {
                    email: u.email,
                    token,
                })
            })
            .collect()
    }

    pub fn viewing_is_open(&self) -> bool {
        self.viewer.is_none()
    }

    /// Is `presented` the ingest token?
    pub fn is_ingest(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|t| bool::from(digest(t).ct_eq(&self.ingest)))
    }

    /// The user whose token is `presented`. Every user is compared, so the
    /// time taken does not depend on which one matched.
    pub fn user(&self, presented: Option<&str>) -> Option<&User> {
        let presented = digest(presented?);
        self.users.iter().fold(None, |found, u| {
            if bool::from(u.token.ct_eq(&presented)) {
                Some(u)
            } else {
                found
            }
        })
    }

    /// May `presented` read alerts and open the WebSocket?
    pub fn may_view(&self, presented: Option<&str>) -> bool {
        match &self.viewer {
            None => true,
            Some(viewer) => {
                let is_viewer = presented.is_some_and(|t| bool::from(digest(t).ct_eq(viewer)));
                is_viewer | self.user(presented).is_some()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        s.parse().expect("non-empty")
    }

    #[test]
    fn users_file_takes_tokens_and_hashes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("users.toml");
        let hash = hex::encode(digest("hashed"));
        std::fs::write(
            &path,
            format!("[[user]]\nemail = \"a@x\"\ntoken = \"plain\"\n[[user]]\nemail = \"b@x\"\ntoken_sha256 = \"{hash}\"\n"),
        )
        .expect("write");
        let auth = Auth::new(
            &secret("ing"),
            Some(&secret("view")),
            Auth::load_users(&path).expect("loads"),
        );
        assert_eq!(
            auth.user(Some("plain")).map(|u| u.email.as_str()),
            Some("a@x")
        );
        assert_eq!(
            auth.user(Some("hashed")).map(|u| u.email.as_str()),
            Some("b@x")
        );
        assert!(auth.user(Some("nope")).is_none());
        assert!(
            auth.may_view(Some("view")) && auth.may_view(Some("plain")) && !auth.may_view(None)
        );
        assert!(auth.is_ingest(Some("ing")) && !auth.is_ingest(Some("view")));
    }

    #[test]
    fn users_file_errors_name_the_user() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("users.toml");
        std::fs::write(&path, "[[user]]\nemail = \"a@x\"\n").expect("write");
        let err = Auth::load_users(&path).expect_err("no token");
        assert!(err.to_string().contains("a@x"), "{err}");
    }
}
