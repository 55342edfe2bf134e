//! The site board's rows: one per site with its counts per severity and its
//! worst alert, derived from the visible alerts and the subscription. The
//! model computes them (it pages and clamps the board by them); the view
//! only draws them.

use std::collections::HashMap;

use noc_shared::Alert;

use super::App;

/// One line of the board.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRow<'a> {
    /// The site's name as the first alert (or the subscription) spelled it.
    pub name: String,
    /// Visible alerts per severity, in [`noc_shared::Severity::ALL`] order.
    pub counts: [usize; 5],
    /// The most severe, then newest, alert of the site.
    pub worst: Option<&'a Alert>,
}

impl App {
    /// The board's rows: worst sites first (by their worst alert, then by
    /// how many alerts of each severity), quiet sites last, each group by
    /// name. Sites the screen subscribed to that have no alerts are listed
    /// too, with no worst alert.
    pub fn site_rows(&self) -> Vec<SiteRow<'_>> {
        let mut rows: Vec<SiteRow> = Vec::new();
        // Site names are matched case-insensitively, as the server does.
        let mut index: HashMap<String, usize> = HashMap::new();
        // Visible alerts come in display order, so a site's first is its worst.
        for alert in self.visible_alerts() {
            let key = alert.site.to_lowercase();
            let at = *index.entry(key).or_insert_with(|| {
                rows.push(SiteRow {
                    name: alert.site.clone(),
                    counts: [0; 5],
                    worst: Some(alert),
                });
                rows.len() - 1
            });
            rows[at].counts[alert.severity.rank()] += 1;
        }
        for site in self.filter.sites().unwrap_or_default() {
            if !index.contains_key(&site.to_lowercase()) {
                rows.push(SiteRow {
                    name: site.clone(),
                    counts: [0; 5],
                    worst: None,
                });
            }
        }
        rows.sort_by(|a, b| {
            let rank = |r: &SiteRow| r.worst.map_or(usize::MAX, |w| w.severity.rank());
            rank(a)
                .cmp(&rank(b))
                .then_with(|| b.counts.cmp(&a.counts))
                .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
        });
        rows
    }
}
