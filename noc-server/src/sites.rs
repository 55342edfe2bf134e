//! Site groups: names for sets of sites, so a screen can take a country.

use std::collections::HashMap;
use std::path::Path;

use noc_shared::{Severity, SiteFilter};
use serde::Deserialize;

/// Groups from `--sites-file`, looked up case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct SiteGroups {
    /// Lower-cased group name → its sites.
    groups: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SitesFile {
    #[serde(default)]
    groups: HashMap<String, Vec<String>>,
}

/// A problem with the sites file, named precisely enough to fix.
#[derive(Debug, thiserror::Error)]
pub enum SitesFileError {
    #[error("cannot read sites file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("sites file {path} is not valid: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
}

impl SiteGroups {
    pub fn new(groups: HashMap<String, Vec<String>>) -> Self {
        let groups = groups
            .into_iter()
            .map(|(name, sites)| (name.to_lowercase(), sites))
            .collect();
        SiteGroups { groups }
    }

    pub fn load(path: &Path) -> Result<Self, SitesFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SitesFileError::Read {
            path: shown.clone(),
            source,
        })?;
        let file: SitesFile = toml::from_str(&text).map_err(|source| SitesFileError::Parse {
            path: shown,
            source,
        })?;
        Ok(SiteGroups::new(file.groups))
    }

    /// A filter over site or group names (groups expanded); `None` takes
    /// every site.
    pub fn filter(&self, entries: Option<Vec<String>>, min_severity: Severity) -> SiteFilter {
        SiteFilter::new(entries.map(|e| self.expand(&e)), min_severity)
    }

    /// The sites of group `name` (any case), if it is a group.
    pub fn sites_of(&self, name: &str) -> Option<&[String]> {
        self.groups
            .get(&name.trim().to_lowercase())
            .map(Vec::as_slice)
    }

    /// Replaces each group name in `entries` by its sites; other entries are
    /// site names and stay as they are.
    pub fn expand(&self, entries: &[String]) -> Vec<String> {
        entries
            .iter()
            .flat_map(
                |entry| match self.groups.get(&entry.trim().to_lowercase()) {
                    Some(sites) => sites.clone(),
                    None => vec![entry.clone()],
                },
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_groups_case_insensitively() {
        let groups = SiteGroups::new(HashMap::from([(
            "Tanzania".to_owned(),
            vec!["Kilimanjaro".to_owned(), "Serengeti".to_owned()],
        )]));
        assert_eq!(
            groups.expand(&["tanzania".into(), "Kampala".into()]),
            vec!["Kilimanjaro", "Serengeti", "Kampala"]
        );
    }
}
