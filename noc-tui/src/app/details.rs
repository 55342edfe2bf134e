//! [`Details`]: one alert opened with Enter. Its fields come from the live
//! stream (every event for its id replaces them, resolved included, so the
//! pane shows what happened rather than vanishing); its notes and history
//! come from the API and are fetched again after each such event. One
//! fetch at a time: an event during a fetch asks for one more after it.

use noc_shared::{Alert, HistoryEntry};

use crate::api::Request;

/// Something fetched from the API.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetch<T> {
    Loading,
    Loaded(T),
    Failed(String),
}

/// The alert shown in the details pane.
#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    /// The alert as the last event (or the list) had it.
    pub alert: Alert,
    /// Its history, notes included, oldest first.
    pub history: Fetch<Vec<HistoryEntry>>,
    /// A fetch is on its way.
    in_flight: bool,
    /// An event came during the fetch: fetch again when it answers.
    again: bool,
    /// The first line shown, for scrolling a long pane.
    pub scroll: u16,
}

impl Details {
    /// Opens `alert`; the history request to send goes with it.
    pub fn open(alert: Alert) -> (Details, Request) {
        let request = Request::History {
            id: alert.id.clone(),
        };
        let details = Details {
            alert,
            history: Fetch::Loading,
            in_flight: true,
            again: false,
            scroll: 0,
        };
        (details, request)
    }

    /// An event for this alert: its new fields, and a history request when
    /// none is on its way.
    pub fn on_event(&mut self, alert: Alert) -> Option<Request> {
        self.alert = alert;
        if self.in_flight {
            self.again = true;
            return None;
        }
        self.in_flight = true;
        Some(self.request())
    }

    /// The history arrived (or failed); the next fetch, if one is owed.
    pub fn on_history(&mut self, result: Result<Vec<HistoryEntry>, String>) -> Option<Request> {
        self.history = match result {
            Ok(entries) => Fetch::Loaded(entries),
            Err(why) => Fetch::Failed(why),
        };
        self.in_flight = std::mem::take(&mut self.again);
        self.in_flight.then(|| self.request())
    }

    fn request(&self) -> Request {
        Request::History {
            id: self.alert.id.clone(),
        }
    }
}
