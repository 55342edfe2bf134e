//! The screen's profile, as the server sends it (in the snapshot and in a
//! `profile` event): the server applies `sites` and `min_severity` itself;
//! the screen applies the rest. A profile is applied when it changes, not
//! on every snapshot, so that an operator's `h` or `z` at the keyboard
//! holds until the profile itself changes. With no profile the screen's own
//! settings (its flags) come back.

use std::time::Duration;

use noc_shared::{Profile, ProfileView};

use super::{App, Now, View};

/// How long `identify` shows the screen's name.
pub const IDENTIFY_FOR: Duration = Duration::from_secs(10);

/// How long each view stays with `view = "rotate"` and no `rotate` given.
pub const DEFAULT_ROTATE: Duration = Duration::from_secs(30);

impl App {
    /// Takes `profile` as the screen's profile, if it differs from the one
    /// in force.
    pub(super) fn set_profile(&mut self, profile: Option<Profile>, now: Now) {
        if self.profile == profile {
            return;
        }
        let p = profile.clone().unwrap_or_default();
        self.view = match p.view {
            Some(ProfileView::Board) => View::Sites,
            _ => View::Alerts,
        };
        self.rotate_at = (p.view == Some(ProfileView::Rotate))
            .then(|| now.instant + p.rotate_every().unwrap_or(DEFAULT_ROTATE));
        self.show_acked = !p.hide_acked.unwrap_or(false);
        self.show_silenced = p.show_silenced.unwrap_or(false);
        self.bell = match p.bell {
            Some(bell) => bell.severity(),
            None => self.own_bell,
        };
        self.scroll = 0;
        self.profile = profile;
    }

    /// The title the header shows: the profile's, else none.
    pub fn title(&self) -> Option<&str> {
        self.profile
            .as_ref()
            .and_then(|p| p.title.as_deref())
            .filter(|t| !t.trim().is_empty())
    }

    /// The clock moved: switch views when the rotation says so.
    pub(super) fn rotate(&mut self, now: Now) {
        let Some(at) = self.rotate_at else { return };
        if now.instant < at {
            return;
        }
        self.view = match self.view {
            View::Alerts => View::Sites,
            View::Sites => View::Alerts,
        };
        self.scroll = 0;
        let every = self
            .profile
            .as_ref()
            .and_then(Profile::rotate_every)
            .unwrap_or(DEFAULT_ROTATE);
        self.rotate_at = Some(now.instant + every);
    }

    /// True while the screen's name fills the screen.
    pub fn identifying(&self) -> bool {
        self.identify_until
            .is_some_and(|until| until > self.now.instant)
    }
}
