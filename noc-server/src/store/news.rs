//! Screen news between instances on one PostgreSQL: a profile set or
//! removed, a screen name to identify. Sent as a NOTIFY in the transaction
//! that makes the change (so it is heard only if the change committed),
//! heard by every instance's [`follow`] and announced to its profile set.
//!
//! Unlike events, news needs no table: it names a screen, and the profile
//! itself is read from the store; after a lost listener the set re-reads
//! every profile ([`ScreenNews::Resync`]).

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::{PgPool, Postgres, Transaction};
use tokio_util::sync::CancellationToken;

use super::StoreError;
use crate::event::{Announce, ScreenNews};

/// The NOTIFY channel of screen news; the payload is `profile:<name>` or
/// `identify:<name>`.
const CHANNEL: &str = "noc_screens";
/// The longest wait between two attempts to get the listener back.
const MAX_RETRY: Duration = Duration::from_secs(2);
/// The longest one attempt to open the listening connection may take.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(5);

/// What a notice says about its screen name.
#[derive(Debug, Clone, Copy)]
pub enum NewsNotice {
    Profile,
    Identify,
}

/// Sends `notice` for `name` when `tx` commits.
pub async fn notify(
    tx: &mut Transaction<'_, Postgres>,
    notice: NewsNotice,
    name: &str,
) -> Result<(), StoreError> {
    let kind = match notice {
        NewsNotice::Profile => "profile",
        NewsNotice::Identify => "identify",
    };
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(format!("{kind}:{name}"))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The news a payload carries, `None` for one this version does not know.
fn parse(payload: &str) -> Option<ScreenNews> {
    match payload.split_once(':')? {
        ("profile", name) => Some(ScreenNews::Profile(name.to_owned())),
        ("identify", name) => Some(ScreenNews::Identify(name.to_owned())),
        _ => None,
    }
}

/// Announces every instance's news to `to` until `shutdown`. Whenever the
/// listener is opened (at start, and again after it was lost) every profile
/// is read again, since news may have passed before it listened.
pub async fn follow(pool: PgPool, to: Arc<dyn Announce>, shutdown: CancellationToken) {
    let mut retry = Duration::from_millis(250);
    let mut reconnecting = false;
    loop {
        let listener = tokio::select! {
            () = shutdown.cancelled() => return,
            l = tokio::time::timeout(LISTEN_TIMEOUT, listen(&pool)) => {
                l.unwrap_or_else(|_| Err(sqlx::Error::PoolTimedOut))
            }
        };
        let mut listener = match listener {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?retry, "cannot listen for screen news; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(retry) => {}
                }
                retry = (retry * 2).min(MAX_RETRY);
                continue;
            }
        };
        retry = Duration::from_millis(250);
        if reconnecting {
            tracing::warn!("screen news listener reconnected; reading every profile again");
        }
        // Also the first time: news sent between this instance reading the
        // profiles at start and this LISTEN would otherwise be lost. Only
        // profiles that differ reach a screen.
        to.announce(ScreenNews::Resync);
        reconnecting = true;
        loop {
            let notification = tokio::select! {
                () = shutdown.cancelled() => return,
                n = listener.try_recv() => n,
            };
            match notification {
                Ok(Some(n)) => match parse(n.payload()) {
                    Some(news) => to.announce(news),
                    None => tracing::debug!(payload = n.payload(), "unknown screen news"),
                },
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "screen news listener lost its connection");
                    break;
                }
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Without this, `recv` would reconnect silently and hide the gap.
    listener.ignore_pool_close_event(true);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_the_screen_whole() {
        assert_eq!(
            parse("profile:wall:3"),
            Some(ScreenNews::Profile("wall:3".into()))
        );
        assert_eq!(
            parse("identify:wall-3"),
            Some(ScreenNews::Identify("wall-3".into()))
        );
        assert_eq!(parse("later:wall-3"), None);
    }
}
