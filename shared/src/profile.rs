//! A wall screen's profile: how the screen named in it looks, set centrally
//! by the server's screens file or its API and pushed to the screen live.
//!
//! Every field is optional: a field the profile gives replaces the screen's
//! own setting (its flags or query parameters); one it leaves out keeps it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Severity;

/// Which picture a screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileView {
    /// Every alert, one per row.
    #[default]
    List,
    /// One tile per site: its counts and its worst alert.
    Board,
    /// List and board in turn, each for `rotate`.
    Rotate,
}

/// When a screen sounds its bell: never, or for new alerts at or above a
/// severity. On the wire and in files: `"off"` or a severity name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Bell {
    #[default]
    Off,
    At(Severity),
}

impl Bell {
    /// The severity that rings, `None` when off.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Bell::Off => None,
            Bell::At(s) => Some(s),
        }
    }
}

impl FromStr for Bell {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("off") {
            return Ok(Bell::Off);
        }
        s.parse::<Severity>()
            .map(Bell::At)
            .map_err(|e| format!("bell: {e}, or off"))
    }
}

impl fmt::Display for Bell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bell::Off => f.write_str("off"),
            Bell::At(s) => f.write_str(s.as_str()),
        }
    }
}

impl Serialize for Bell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Bell {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// A screen's profile. Serialized with every key (`null` where the profile
/// leaves the screen's own setting), as the screens file names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The title the screen shows in place of its own.
    #[serde(default)]
    pub title: Option<String>,
    /// Site or site-group names; replace the screen's own sites.
    #[serde(default)]
    pub sites: Option<Vec<String>>,
    #[serde(default)]
    pub min_severity: Option<Severity>,
    #[serde(default)]
    pub view: Option<ProfileView>,
    /// With `view = "rotate"`: how long each picture stays, e.g. `"30s"`.
    #[serde(default)]
    pub rotate: Option<String>,
    #[serde(default)]
    pub hide_acked: Option<bool>,
    #[serde(default)]
    pub show_silenced: Option<bool>,
    #[serde(default)]
    pub bell: Option<Bell>,
}

impl Profile {
    /// The keys a profile may have, for refusing unknown ones precisely.
    pub const KEYS: [&'static str; 8] = [
        "title",
        "sites",
        "min_severity",
        "view",
        "rotate",
        "hide_acked",
        "show_silenced",
        "bell",
    ];

    /// `rotate` as a duration, when it is given and well formed.
    pub fn rotate_every(&self) -> Option<Duration> {
        self.rotate
            .as_deref()
            .and_then(|r| humantime::parse_duration(r.trim()).ok())
    }
}
