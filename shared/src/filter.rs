//! Which alerts a screen wants: a set of sites (or all) and a minimum
//! severity. The server's hub, its snapshots and the terminal client all ask
//! the same [`SiteFilter::matches`].

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{Alert, EVERY_SITE, Severity};

/// A screen's subscription. Sites are matched case-insensitively; `None`
/// takes every site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteFilter {
    /// The site names as given (already expanded from groups), or `None` for
    /// all sites. This is what snapshots and `/api/v1/screens` show.
    sites: Option<Vec<String>>,
    /// Lower-cased `sites`, for matching.
    #[serde(skip)]
    keys: Option<HashSet<String>>,
    min_severity: Severity,
}

impl SiteFilter {
    /// A filter over `sites` (`None` or an empty list: all sites; a `"*"`
    /// entry also means all) at or above `min_severity`. Duplicate names,
    /// compared case-insensitively, are kept once.
    pub fn new(sites: Option<Vec<String>>, min_severity: Severity) -> Self {
        let sites = sites.and_then(|list| {
            let mut seen = HashSet::new();
            let names: Vec<String> = list
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .filter(|s| seen.insert(site_key(s)))
                .collect();
            some_sites(names)
        });
        let keys = sites
            .as_ref()
            .map(|names| names.iter().map(|s| site_key(s)).collect());
        SiteFilter {
            sites,
            keys,
            min_severity,
        }
    }

    /// Every site, every severity.
    pub fn all() -> Self {
        SiteFilter::default()
    }

    /// The expanded site names, `None` for all sites.
    pub fn sites(&self) -> Option<&[String]> {
        self.sites.as_deref()
    }

    /// The lower-cased site names used for matching, `None` for all sites.
    pub fn site_keys(&self) -> Option<&HashSet<String>> {
        self.keys.as_ref()
    }

    pub fn min_severity(&self) -> Severity {
        self.min_severity
    }

    /// Does an alert at `site` with `severity` belong on this screen?
    pub fn matches(&self, site: &str, severity: Severity) -> bool {
        severity >= self.min_severity && self.takes_site(site)
    }

    /// Does this screen take `site` at all, whatever the severity? Every
    /// screen takes [`EVERY_SITE`].
    pub fn takes_site(&self, site: &str) -> bool {
        site == EVERY_SITE
            || self
                .keys
                .as_ref()
                .is_none_or(|keys| keys.contains(&site_key(site)))
    }

    /// [`SiteFilter::matches`] for a site already lower-cased (as
    /// [`site_key`] makes it): no allocation, for the fan-out's hot path.
    pub fn matches_key(&self, site_key: &str, severity: Severity) -> bool {
        severity >= self.min_severity
            && (site_key == EVERY_SITE
                || self
                    .keys
                    .as_ref()
                    .is_none_or(|keys| keys.contains(site_key)))
    }

    /// [`SiteFilter::matches`] for a whole alert.
    pub fn matches_alert(&self, alert: &Alert) -> bool {
        self.matches(&alert.site, alert.severity)
    }
}

/// A site name as filters compare it: lower-cased (Unicode-aware).
pub fn site_key(site: &str) -> String {
    site.to_lowercase()
}

/// Splits a comma list such as `"Kilimanjaro, Serengeti"` into trimmed,
/// non-empty names. Returns `None` (all sites) for an empty list or one
/// holding `*`.
pub fn parse_site_list(list: &str) -> Option<Vec<String>> {
    let names: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    some_sites(names)
}

/// The contract's rule for a site list: empty, or holding `*`, takes all
/// sites (`None`).
fn some_sites(names: Vec<String>) -> Option<Vec<String>> {
    (!names.is_empty() && !names.iter().any(|s| s == "*")).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_sites_case_insensitively_and_by_severity() {
        let f = SiteFilter::new(Some(vec!["Kilimanjaro".into()]), Severity::Warning);
        assert!(f.matches("kilimanjaro", Severity::Critical));
        assert!(f.matches("KILIMANJARO", Severity::Warning));
        assert!(!f.matches("Kilimanjaro", Severity::Info));
        assert!(!f.matches("Serengeti", Severity::Critical));
    }

    #[test]
    fn an_alert_for_every_site_reaches_every_filter() {
        let f = SiteFilter::new(Some(vec!["Kilimanjaro".into()]), Severity::Warning);
        assert!(f.matches(EVERY_SITE, Severity::Critical));
        assert!(f.matches_key(EVERY_SITE, Severity::Warning));
        assert!(
            !f.matches(EVERY_SITE, Severity::Info),
            "min severity applies"
        );
    }

    #[test]
    fn empty_or_star_takes_all_sites() {
        assert_eq!(SiteFilter::new(Some(vec![]), Severity::Info).sites(), None);
        assert_eq!(
            SiteFilter::new(Some(vec!["*".into()]), Severity::Info).sites(),
            None
        );
        assert_eq!(
            SiteFilter::new(Some(vec![" ".into()]), Severity::Info).sites(),
            None
        );
        assert!(SiteFilter::all().matches("anything", Severity::Info));
    }

    #[test]
    fn duplicate_sites_are_kept_once() {
        let f = SiteFilter::new(
            Some(vec!["A".into(), "a".into(), "B".into()]),
            Severity::Info,
        );
        assert_eq!(f.sites(), Some(&["A".to_owned(), "B".to_owned()][..]));
    }

    #[test]
    fn parses_comma_lists() {
        assert_eq!(
            parse_site_list(" A, B ,,"),
            Some(vec!["A".into(), "B".into()])
        );
        assert_eq!(parse_site_list(""), None);
        assert_eq!(parse_site_list("A,*"), None);
    }
}
