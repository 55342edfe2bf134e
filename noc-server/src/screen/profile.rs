//! What a screen's profile does to its filter: the profile's `sites` and
//! `min_severity`, where given, replace the screen's own; without a
//! profile the screen's own filter applies again.

use noc_shared::{Profile, SiteFilter};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use crate::profiles::Notice;
use crate::sites::SiteGroups;

/// The filter a screen with `own` filter and `profile` gets.
pub fn effective(groups: &SiteGroups, own: &SiteFilter, profile: Option<&Profile>) -> SiteFilter {
    let Some(profile) = profile else {
        return own.clone();
    };
    let min = profile.min_severity.unwrap_or(own.min_severity());
    match &profile.sites {
        Some(sites) => groups.filter(Some(sites.clone()), min),
        None => SiteFilter::new(own.sites().map(<[String]>::to_vec), min),
    }
}

/// The next notice for a screen that watches them; never, for one that
/// does not (a screen without a name has no profile).
pub async fn next_notice(notices: &mut Option<Receiver<Notice>>) -> Result<Notice, RecvError> {
    match notices {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use noc_shared::Severity;
    use std::collections::HashMap;

    #[test]
    fn a_profile_replaces_only_what_it_gives() {
        let groups = SiteGroups::new(HashMap::from([(
            "Uganda".to_owned(),
            vec!["Kampala".to_owned(), "Entebbe".to_owned()],
        )]));
        let own = SiteFilter::new(Some(vec!["Kilimanjaro".into()]), Severity::High);
        assert_eq!(effective(&groups, &own, None), own);
        let sites = Profile {
            sites: Some(vec!["uganda".into()]),
            ..Profile::default()
        };
        let f = effective(&groups, &own, Some(&sites));
        assert_eq!(
            f.sites(),
            Some(&["Kampala".to_owned(), "Entebbe".to_owned()][..])
        );
        assert_eq!(f.min_severity(), Severity::High);
        let min = Profile {
            min_severity: Some(Severity::Warning),
            ..Profile::default()
        };
        let f = effective(&groups, &own, Some(&min));
        assert_eq!(f.sites(), own.sites());
        assert_eq!(f.min_severity(), Severity::Warning);
    }
}
