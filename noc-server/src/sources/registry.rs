//! The sources in force ([`Sources`]): who a token belongs to, and when
//! each source was last heard from. SIGHUP replaces the set whole; what was
//! heard stays.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use tokio::sync::Notify;

use super::file::SourceConfig;
use crate::auth::digest;

/// The sources of `--sources-file` and their signs of life.
pub struct Sources {
    configs: RwLock<Arc<Vec<Arc<SourceConfig>>>>,
    seen: Mutex<Seen>,
    /// Woken on every sign of life, so that a silent alert is resolved at
    /// once.
    pub heard: Notify,
}

#[derive(Default)]
struct Seen {
    at: HashMap<String, DateTime<Utc>>,
    /// Heard since the store was last told.
    unsaved: HashSet<String>,
}

impl Sources {
    pub fn new(configs: Vec<SourceConfig>) -> Self {
        Sources {
            configs: RwLock::new(Arc::new(configs.into_iter().map(Arc::new).collect())),
            seen: Mutex::new(Seen::default()),
            heard: Notify::new(),
        }
    }

    /// Puts a new set in force (a file read again).
    pub fn replace(&self, configs: Vec<SourceConfig>) {
        let configs = Arc::new(configs.into_iter().map(Arc::new).collect());
        // Replaced whole under the lock, so a poisoned one is consistent.
        *self.configs.write().unwrap_or_else(|p| p.into_inner()) = configs;
        self.heard.notify_one();
    }

    /// The sources in force, in the file's order.
    pub fn all(&self) -> Arc<Vec<Arc<SourceConfig>>> {
        self.configs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The source whose token is `presented`. Every source is compared, in
    /// constant time, so the time taken does not tell which one matched.
    pub fn find(&self, presented: Option<&str>) -> Option<Arc<SourceConfig>> {
        let presented = digest(presented?);
        self.all().iter().fold(None, |found, source| {
            if bool::from(source.token.ct_eq(&presented)) {
                Some(source.clone())
            } else {
                found
            }
        })
    }

    /// A sign of life from `name`, now.
    pub fn heard_from(&self, name: &str) {
        self.remember(name, Utc::now());
        self.heard.notify_one();
    }

    /// Records `at` for `name` unless a later time is known.
    pub fn remember(&self, name: &str, at: DateTime<Utc>) {
        let mut seen = self.lock();
        let known = seen.at.get(name).is_some_and(|known| *known >= at);
        if !known {
            seen.at.insert(name.to_owned(), at);
            seen.unsaved.insert(name.to_owned());
        }
    }

    /// When `name` was last heard from, if ever.
    pub fn last_seen(&self, name: &str) -> Option<DateTime<Utc>> {
        self.lock().at.get(name).copied()
    }

    /// What was heard since the last call, for the store.
    pub fn take_unsaved(&self) -> Vec<(String, DateTime<Utc>)> {
        let mut seen = self.lock();
        let names = std::mem::take(&mut seen.unsaved);
        names
            .into_iter()
            .filter_map(|n| seen.at.get(&n).map(|at| (n, *at)))
            .collect()
    }

    /// Marks times read from the store as saved already.
    pub fn mark_saved(&self, names: &[String]) {
        let mut seen = self.lock();
        for name in names {
            seen.unsaved.remove(name);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::file::parse;

    fn sources() -> Sources {
        Sources::new(
            parse(
                "[[source]]\nname = \"a\"\nkind = \"zabbix\"\ntoken = \"ta\"\n\
                 [[source]]\nname = \"b\"\nkind = \"grafana\"\ntoken = \"tb\"\n",
            )
            .expect("parses"),
        )
    }

    #[test]
    fn a_token_finds_its_source_only() {
        let sources = sources();
        assert_eq!(
            sources.find(Some("tb")).map(|s| s.name.clone()).as_deref(),
            Some("b")
        );
        assert!(sources.find(Some("tc")).is_none() && sources.find(None).is_none());
    }

    #[test]
    fn the_latest_sign_of_life_counts_and_is_saved_once() {
        let sources = sources();
        let early = Utc::now() - chrono::Duration::minutes(5);
        sources.heard_from("a");
        sources.remember("a", early);
        assert!(sources.last_seen("a").is_some_and(|t| t > early));
        assert_eq!(sources.take_unsaved().len(), 1);
        assert!(sources.take_unsaved().is_empty());
    }
}
