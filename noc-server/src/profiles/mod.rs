//! Screen profiles: one set, kept in the store, written by the screens
//! file and the API alike, and pushed to the screens of each name.
//!
//! - [`Profiles`]: the set as this instance knows it (a cache of the
//!   store), the one way to change it, and the notices screens watch.
//! - `validate`: what a profile may hold (the API's 422s, the file's
//!   errors); `file`: the screens file, read whole, errors by line.
//!
//! A change is committed to the store first; then news of it (a screen
//! name, never the profile) is announced: by this instance itself, or, on
//! a store shared by several instances, by the store's news follower on
//! every instance. One task per instance turns news into [`Notice`]s in
//! order, reading each named profile back from the store, so that every
//! instance ends with what was committed last.

mod file;
pub mod validate;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use noc_shared::Profile;
use tokio::sync::{broadcast, mpsc};

use crate::event::{Announce, ScreenNews};
use crate::store::{Store, StoreError};

/// Notices waiting for a slow screen before it must re-read its profile.
const NOTICES: usize = 64;

/// What the screens of one name are told.
#[derive(Debug, Clone)]
pub enum Notice {
    /// `name`'s profile is now `profile` (`None`: removed).
    Profile {
        name: Arc<str>,
        profile: Option<Profile>,
    },
    /// The screens named `name` show their name.
    Identify { name: Arc<str> },
}

type Cache = Arc<RwLock<HashMap<String, Profile>>>;

/// The profile set of this instance.
pub struct Profiles {
    store: Arc<dyn Store>,
    cache: Cache,
    /// To the task that turns news into notices; it ends with this set.
    news: mpsc::UnboundedSender<ScreenNews>,
    notices: broadcast::Sender<Notice>,
    /// True when no store follower announces changes: this set does.
    local: bool,
}

impl Profiles {
    /// The set as the store holds it, with its news task started. `local`:
    /// this instance announces its own changes (the store has no news
    /// follower).
    pub async fn start(store: Arc<dyn Store>, local: bool) -> Result<Arc<Self>, StoreError> {
        let cache: Cache = Arc::new(RwLock::new(store.profiles().await?.into_iter().collect()));
        let (news, rx) = mpsc::unbounded_channel();
        let (notices, _) = broadcast::channel(NOTICES);
        tokio::spawn(tell(store.clone(), cache.clone(), rx, notices.clone()));
        Ok(Arc::new(Profiles {
            store,
            cache,
            news,
            notices,
            local,
        }))
    }

    /// The profile of the screens named `name`, if any.
    pub fn get(&self, name: &str) -> Option<Profile> {
        read(&self.cache).get(name).cloned()
    }

    /// Notices from now on. Watch before [`Profiles::get`], so that no
    /// change falls between.
    pub fn watch(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// Sets `profiles` (committed before this returns) and tells their
    /// screens.
    pub async fn put(&self, profiles: &[(String, Profile)]) -> Result<(), StoreError> {
        self.store.put_profiles(profiles).await?;
        for (name, _) in profiles {
            self.local_news(ScreenNews::Profile(name.clone()));
        }
        Ok(())
    }

    /// Removes `name`'s profile; false when there was none.
    pub async fn delete(&self, name: &str) -> Result<bool, StoreError> {
        let removed = self.store.delete_profile(name).await?;
        self.local_news(ScreenNews::Profile(name.to_owned()));
        Ok(removed)
    }

    /// Every screen named `name`, on every instance, shows its name.
    pub async fn identify(&self, name: &str) -> Result<(), StoreError> {
        self.store.identify(name).await?;
        self.local_news(ScreenNews::Identify(name.to_owned()));
        Ok(())
    }

    /// Reads the screens file at `path` whole and sets the profiles it
    /// names; the others stay. Returns how many it holds; on an error
    /// (naming the file and line) nothing changes.
    pub async fn load_file(&self, path: &Path) -> Result<usize, String> {
        let profiles = put_file(&*self.store, path).await?;
        for (name, _) in &profiles {
            self.local_news(ScreenNews::Profile(name.clone()));
        }
        Ok(profiles.len())
    }

    fn local_news(&self, news: ScreenNews) {
        if self.local {
            self.announce(news);
        }
    }
}

/// Reads the screens file at `path` whole and sets the profiles it names
/// in `store` (at start, before the set is read); the others stay. On an
/// error (naming the file and line) nothing changes.
pub async fn put_file(store: &dyn Store, path: &Path) -> Result<Vec<(String, Profile)>, String> {
    let profiles = file::read(path)?;
    store
        .put_profiles(&profiles)
        .await
        .map_err(|e| format!("screens file {}: {e}", path.display()))?;
    Ok(profiles)
}

impl Announce for Profiles {
    fn announce(&self, news: ScreenNews) {
        // Fails only when the task is gone, at the runtime's end.
        let _ = self.news.send(news);
    }
}

fn read(
    cache: &RwLock<HashMap<String, Profile>>,
) -> std::sync::RwLockReadGuard<'_, HashMap<String, Profile>> {
    // Entries are replaced whole, so a poisoned map is still consistent.
    cache.read().unwrap_or_else(|p| p.into_inner())
}

/// The news task: reads each named profile back from the store and, when
/// it changed, updates the cache and tells the screens. One at a time, in
/// order, so a later change never loses to an earlier one.
async fn tell(
    store: Arc<dyn Store>,
    cache: Cache,
    mut news: mpsc::UnboundedReceiver<ScreenNews>,
    notices: broadcast::Sender<Notice>,
) {
    while let Some(item) = news.recv().await {
        let names: Vec<String> = match item {
            ScreenNews::Identify(name) => {
                let _ = notices.send(Notice::Identify { name: name.into() });
                continue;
            }
            ScreenNews::Profile(name) => vec![name],
            ScreenNews::Resync => match store.profiles().await {
                Ok(all) => {
                    let known = read(&cache);
                    known.keys().chain(all.keys()).cloned().collect()
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the profiles again");
                    continue;
                }
            },
        };
        for name in names {
            let profile = match store.profile(&name).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, screen = %name, "cannot read a changed profile");
                    continue;
                }
            };
            let changed = {
                let mut known = cache.write().unwrap_or_else(|p| p.into_inner());
                let old = match &profile {
                    Some(p) => known.insert(name.clone(), p.clone()),
                    None => known.remove(&name),
                };
                old != profile
            };
            if changed {
                tracing::info!(screen = %name, removed = profile.is_none(), "screen profile changed");
                let _ = notices.send(Notice::Profile {
                    name: name.into(),
                    profile,
                });
            }
        }
    }
}
