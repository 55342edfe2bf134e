//! The read-only questions the view asks of the model: which alerts the
//! list shows (acknowledged and silenced ones only on request, the `/`
//! filter), their counts, the selected row, the first row of the page and
//! the source-silent banner. With no filter typed the counts come from the
//! book's tallies, so a storm costs nothing extra per frame.

use noc_shared::Alert;

use super::{App, Selected, View};
use crate::alerts::is_source_silent;
use crate::layout;

impl App {
    /// True when `alert` passes the hide/show switches and the filter.
    pub fn shows(&self, alert: &Alert) -> bool {
        (self.show_acked || !alert.is_acked())
            && (self.show_silenced || !alert.is_silenced())
            && self.matches_query(alert)
    }

    /// The `/` filter: the site, host or message holds the typed text,
    /// whatever the case.
    fn matches_query(&self, alert: &Alert) -> bool {
        if self.query.is_empty() {
            return true;
        }
        let holds = |text: &str| text.to_lowercase().contains(&self.query);
        holds(&alert.site) || alert.host.as_deref().is_some_and(holds) || holds(&alert.message)
    }

    /// The alerts the list shows, in display order.
    pub fn visible_alerts(&self) -> impl Iterator<Item = &Alert> + '_ {
        self.alerts.iter().filter(move |a| self.shows(a))
    }

    /// How many acknowledged alerts `h` is hiding (those not hidden anyway
    /// as silenced).
    pub fn hidden_acked(&self) -> usize {
        if self.show_acked {
            return 0;
        }
        let acked: usize = self.alerts.acked_counts().iter().sum();
        if self.show_silenced {
            acked
        } else {
            acked - self.alerts.acked_silenced_counts().iter().sum::<usize>()
        }
    }

    /// How many active alerts are silenced, shown or not.
    pub fn silenced_count(&self) -> usize {
        self.alerts.silenced_counts().iter().sum()
    }

    /// Visible alerts per severity, in [`noc_shared::Severity::ALL`] order.
    pub fn counts(&self) -> [usize; 5] {
        if !self.query.is_empty() {
            let mut counts = [0; 5];
            for alert in self.visible_alerts() {
                counts[alert.severity.rank()] += 1;
            }
            return counts;
        }
        let mut counts = self.alerts.counts();
        let (acked, silenced, both) = (
            self.alerts.acked_counts(),
            self.alerts.silenced_counts(),
            self.alerts.acked_silenced_counts(),
        );
        for (rank, count) in counts.iter_mut().enumerate() {
            let mut hidden = 0;
            if !self.show_acked {
                hidden += acked[rank];
            }
            if !self.show_silenced {
                hidden += silenced[rank];
            }
            if !self.show_acked && !self.show_silenced {
                hidden -= both[rank];
            }
            *count -= hidden;
        }
        counts
    }

    /// How many alerts the list shows.
    pub fn visible_count(&self) -> usize {
        self.counts().iter().sum()
    }

    /// The active alerts raised for silent sources, for the banner.
    pub fn silent_sources(&self) -> impl Iterator<Item = &Alert> + '_ {
        self.alerts.iter().filter(|a| is_source_silent(a))
    }

    /// Rows the banner takes: one when any source is silent.
    pub fn banner_rows(&self) -> u16 {
        u16::from(self.alerts.source_silent_count() > 0)
    }

    /// The selected row of the list: the selected alert's or, when it has
    /// left the list, the row of the alert that came after it (the last
    /// row if none did); `None` for an empty list.
    pub fn selected_index(&self) -> Option<usize> {
        let rows = self.visible_count();
        if rows == 0 {
            return None;
        }
        let Some(selected) = &self.selected else {
            return Some(0);
        };
        // `a` is the selected alert or comes after it in the display order
        // (the order of `Alert::display_order`).
        let after = |a: &Alert| {
            a.severity
                .cmp(&selected.severity)
                .then(a.created_at.cmp(&selected.created_at))
                .then(selected.id.cmp(&a.id))
                .is_le()
        };
        // By id first: the alert may have moved (a new severity).
        let at = self
            .visible_alerts()
            .position(|a| a.id == selected.id)
            .or_else(|| self.visible_alerts().position(after));
        Some(at.unwrap_or(rows - 1))
    }

    /// The selected alert, if the list has any.
    pub fn selected_alert(&self) -> Option<&Alert> {
        let at = self.selected_index()?;
        self.visible_alerts().nth(at)
    }

    /// The first row to draw when `rows` rows exist: the scroll, pulled back
    /// if the list has shrunk since (network events do not clamp it, so
    /// that a storm of resolutions costs nothing extra), and moved so that
    /// the selected alert is on the page wherever events moved it.
    pub fn first_row(&self, rows: usize) -> usize {
        let selected = match self.view {
            View::Alerts => self.selected_index(),
            View::Sites => None,
        };
        self.first_row_for(rows, selected)
    }

    /// [`App::first_row`] with the selected row already known (finding it
    /// is a walk of the list, which a frame makes once).
    pub fn first_row_for(&self, rows: usize, selected: Option<usize>) -> usize {
        let page = self.page_rows();
        let first = self.scroll.min(rows.saturating_sub(page));
        match selected {
            Some(at) if at < first => at,
            Some(at) if at >= first + page => at + 1 - page,
            _ => first,
        }
    }

    /// True while `id` should stand out.
    pub fn is_highlighted(&self, id: &str) -> bool {
        self.highlights
            .get(id)
            .is_some_and(|until| *until > self.now.instant)
    }

    /// Rows in the current view, for clamping the scroll.
    pub(super) fn row_count(&self) -> usize {
        match self.view {
            View::Alerts => self.visible_count(),
            View::Sites => self.site_rows().len(),
        }
    }

    /// Rows that fit on one page of the list: the terminal's height less
    /// the rows around the list ([`layout`]) and the banner.
    pub fn page_rows(&self) -> usize {
        layout::page_rows(self.size.1.saturating_sub(self.banner_rows()))
    }

    /// Pulls the scroll back inside the current view's rows.
    pub(super) fn clamp_scroll(&mut self) {
        let max = self.row_count().saturating_sub(self.page_rows());
        self.scroll = self.scroll.min(max);
    }

    /// Selects row `at` of the list (clamped) and scrolls it into view.
    pub(super) fn select_row(&mut self, at: usize) {
        let rows = self.visible_count();
        if rows == 0 {
            self.selected = None;
            return;
        }
        let at = at.min(rows - 1);
        let selected = self.visible_alerts().nth(at).map(|a| Selected {
            id: a.id.clone(),
            severity: a.severity,
            created_at: a.created_at,
        });
        self.selected = selected;
        let page = self.page_rows();
        if at < self.scroll {
            self.scroll = at;
        } else if at >= self.scroll + page {
            self.scroll = at + 1 - page;
        }
    }
}
