//! SIGHUP: every configured file (users, sites, screens, sources) is read
//! again. Each reloadable file is one entry of a short list
//! ([`Reloader`]); each is parsed whole before it replaces the value in
//! force, and one that does not parse is refused
//! with a log line naming the file and the line, while the old value
//! stays. Screens stay connected throughout.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::config::Live;
use crate::profiles::Profiles;
use crate::sites::SiteGroups;
use crate::sources::registry::Sources;
use crate::store::Store;

/// One kind of file that a reload reads again.
#[async_trait::async_trait]
pub trait Reload: Send + Sync {
    /// Reads the file at `path` whole and, only if it is valid, puts it in
    /// force. The error names the file and, where it can, the line.
    async fn reload(&self, path: &Path) -> Result<(), String>;
}

/// The configured files, in the order they are read again.
#[derive(Default)]
pub struct Reloader {
    files: Vec<(PathBuf, Box<dyn Reload>)>,
}

impl Reloader {
    /// Reads `path` again, as `file` says, on every reload.
    pub fn add(&mut self, path: &Path, file: impl Reload + 'static) {
        self.files.push((path.to_owned(), Box::new(file)));
    }

    /// Reads every file again; one that fails keeps its old value.
    pub async fn reload_all(&self) {
        for (path, file) in &self.files {
            match file.reload(path).await {
                Ok(()) => tracing::info!(file = %path.display(), "file read again"),
                Err(e) => tracing::error!(
                    file = %path.display(),
                    "file refused; the old one stays in force: {e}"
                ),
            }
        }
    }

    /// Reloads on every SIGHUP until `shutdown`.
    pub async fn on_sighup(self, shutdown: CancellationToken) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut hangups = match signal(SignalKind::hangup()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot watch SIGHUP; files are read at start only");
                    return;
                }
            };
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = hangups.recv() => {
                        tracing::info!("SIGHUP: reading the configured files again");
                        self.reload_all().await;
                    }
                }
            }
        }
        #[cfg(not(unix))]
        shutdown.cancelled().await;
    }
}

/// `--users-file`: the users; the ingest and viewer tokens stay.
pub struct UsersFile(pub Arc<Live<Auth>>);

#[async_trait::async_trait]
impl Reload for UsersFile {
    async fn reload(&self, path: &Path) -> Result<(), String> {
        let users = Auth::load_users(path).map_err(|e| e.to_string())?;
        self.0.set(self.0.get().with_users(users));
        Ok(())
    }
}

/// `--sites-file`: the site groups, for every filter made from now on.
pub struct SitesFile(pub Arc<Live<SiteGroups>>);

#[async_trait::async_trait]
impl Reload for SitesFile {
    async fn reload(&self, path: &Path) -> Result<(), String> {
        self.0
            .set(SiteGroups::load(path).map_err(|e| e.to_string())?);
        Ok(())
    }
}

/// `--screens-file`: sets the profiles it names; the others stay.
pub struct ScreensFile(pub Arc<Profiles>);

#[async_trait::async_trait]
impl Reload for ScreensFile {
    async fn reload(&self, path: &Path) -> Result<(), String> {
        self.0.load_file(path).await.map(|_| ())
    }
}

/// `--sources-file`: the sources and their tokens; when each was last
/// heard stays. The store learns which sources are written back.
pub struct SourcesFile(pub Arc<Sources>, pub Arc<dyn Store>);

#[async_trait::async_trait]
impl Reload for SourcesFile {
    async fn reload(&self, path: &Path) -> Result<(), String> {
        self.0.replace(crate::sources::file::load(path)?);
        let written_back = crate::writeback::worker::written_back(&self.0);
        self.1
            .set_writeback_sources(&written_back)
            .await
            .map_err(|e| format!("cannot store the written-back sources: {e}"))
    }
}
