//! The connected screens, as `/api/v1/screens` lists them. Each connection
//! holds a [`ScreenHandle`] that updates its entry and removes it on drop.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::metrics::Metrics;

/// One screen as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ScreenInfo {
    pub name: String,
    pub addr: String,
    /// Expanded site names, `None` for all sites.
    pub sites: Option<Vec<String>>,
    pub connected_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Last Ping→Pong or heartbeat→pong time, `None` until measured.
    pub rtt_ms: Option<u64>,
    /// Times this screen fell behind and was resynced.
    pub lagged: u64,
    /// The name of the profile the screen follows (its own name), `None`
    /// when it has none.
    pub profile: Option<String>,
}

/// Every connected screen, by connection id.
#[derive(Clone, Default)]
pub struct Screens {
    inner: Arc<Mutex<BTreeMap<u64, ScreenInfo>>>,
    next_id: Arc<std::sync::atomic::AtomicU64>,
    metrics: Option<Metrics>,
}

impl Screens {
    pub fn new(metrics: Metrics) -> Self {
        Screens {
            metrics: Some(metrics),
            ..Screens::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, ScreenInfo>> {
        // Entries are replaced whole, so a poisoned map is still consistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a screen; it stays listed while the handle lives.
    pub fn connect(
        &self,
        name: Option<String>,
        addr: SocketAddr,
        sites: Option<Vec<String>>,
        profile: Option<String>,
    ) -> ScreenHandle {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = Utc::now();
        let info = ScreenInfo {
            name: name.unwrap_or_else(|| addr.to_string()),
            addr: addr.to_string(),
            sites,
            connected_at: now,
            last_seen_at: now,
            rtt_ms: None,
            lagged: 0,
            profile,
        };
        self.lock().insert(id, info);
        if let Some(m) = &self.metrics {
            m.screens.inc();
        }
        ScreenHandle {
            id,
            screens: self.clone(),
        }
    }

    /// Every connected screen, oldest connection first.
    pub fn list(&self) -> Vec<ScreenInfo> {
        self.lock().values().cloned().collect()
    }
}

/// One connection's entry in [`Screens`].
pub struct ScreenHandle {
    id: u64,
    screens: Screens,
}

impl ScreenHandle {
    fn update(&self, change: impl FnOnce(&mut ScreenInfo)) {
        if let Some(info) = self.screens.lock().get_mut(&self.id) {
            change(info);
        }
    }

    /// A frame arrived: the screen is alive.
    pub fn seen(&self) {
        self.update(|i| i.last_seen_at = Utc::now());
    }

    pub fn set_rtt(&self, rtt: std::time::Duration) {
        let ms = u64::try_from(rtt.as_millis()).unwrap_or(u64::MAX);
        self.update(|i| i.rtt_ms = Some(ms));
    }

    pub fn set_sites(&self, sites: Option<Vec<String>>) {
        self.update(|i| i.sites = sites);
    }

    pub fn set_profile(&self, profile: Option<String>) {
        self.update(|i| i.profile = profile);
    }

    pub fn lagged(&self) {
        self.update(|i| i.lagged += 1);
    }

    /// Removes the screen from the list (a closing screen is no longer
    /// connected); dropping the handle does the same if this was not done.
    pub fn leave(&self) {
        if self.screens.lock().remove(&self.id).is_some() {
            if let Some(m) = &self.screens.metrics {
                m.screens.dec();
            }
        }
    }
}

impl Drop for ScreenHandle {
    fn drop(&mut self) {
        self.leave();
    }
}
