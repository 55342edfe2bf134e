//! The operator's actions on an alert (the selected row, or the one whose
//! details are open): Enter opens it, `a`, `n` and `s` ask their questions
//! ([`Prompt`]) and end in a [`Request`], `u` sends at once. Without a user
//! token they say so and ask nothing. Also the `/` filter's typing, and the
//! API's replies, which end as a status line in words.

use std::time::Duration;

use noc_shared::Alert;

use super::prompt::Answered;
use super::{Action, App, Details, Effects, Mode, Prompt, PromptKind, Status};
use crate::api::{Reply, Request};

/// How long an action's outcome stays at the bottom.
pub const STATUS_FOR: Duration = Duration::from_secs(10);

/// How long a failure stays: longer, so that it is not missed.
pub const ERROR_FOR: Duration = Duration::from_secs(30);

/// What the action keys say without a user token.
pub const NEED_USER_TOKEN: &str =
    "a user token is needed to act: start noc-tui with --user-token (or NOC_USER_TOKEN)";

impl App {
    /// The alert an action applies to: the open one, else the selected row.
    fn target(&self) -> Option<Alert> {
        match &self.details {
            Some(details) if self.mode != Mode::Browse => Some(details.alert.clone()),
            _ => self.selected_alert().cloned(),
        }
    }

    /// Shows `text` at the bottom for a while.
    pub(super) fn say(&mut self, text: impl Into<String>, error: bool) {
        let lasts = if error { ERROR_FOR } else { STATUS_FOR };
        self.status = Some(Status {
            text: text.into(),
            error,
            until: self.now.instant + lasts,
        });
    }

    /// Where the keyboard goes back to when a prompt ends.
    fn back_from_prompt(&mut self) {
        self.prompt = None;
        self.mode = if self.details.is_some() {
            Mode::Details
        } else {
            Mode::Browse
        };
    }

    /// Enter: the selected alert's details, and its history fetched.
    pub(super) fn open_details(&mut self, effects: &mut Effects) {
        let Some(alert) = self.selected_alert().cloned() else {
            return;
        };
        let (details, request) = Details::open(alert);
        self.details = Some(details);
        self.mode = Mode::Details;
        effects.requests.push(request);
    }

    /// `a`, `n`, `s`: the first question; `u`: the request itself.
    pub(super) fn start_action(&mut self, action: Action, effects: &mut Effects) {
        if !self.can_act {
            self.say(NEED_USER_TOKEN, true);
            return;
        }
        let Some(alert) = self.target() else {
            self.say("no alert selected", true);
            return;
        };
        let kind = match action {
            Action::Ack => PromptKind::Ack,
            Action::Note => PromptKind::Note,
            Action::Silence => PromptKind::Silence,
            _ => {
                self.send(Request::Unack { id: alert.id }, effects);
                return;
            }
        };
        self.prompt = Some(Prompt::new(kind, &alert));
        self.mode = Mode::Prompt;
    }

    /// A key while a prompt has the keyboard.
    pub(super) fn prompt_key(&mut self, action: Action, effects: &mut Effects) {
        let Some(prompt) = self.prompt.as_mut() else {
            self.back_from_prompt();
            return;
        };
        match action {
            Action::Type(c) => prompt.input.push(c),
            Action::Erase => {
                prompt.input.pop();
            }
            Action::Submit => match prompt.submit() {
                Answered::Next | Answered::Again => {}
                Answered::Send(request) => {
                    self.back_from_prompt();
                    self.send(request, effects);
                }
            },
            Action::Close => {
                self.back_from_prompt();
                self.say("cancelled", false);
            }
            _ => {}
        }
    }

    /// A key while the `/` filter has the keyboard: the list narrows as
    /// the text is typed.
    pub(super) fn filter_key(&mut self, action: Action) {
        match action {
            Action::Type(c) => self.query.extend(c.to_lowercase()),
            Action::Erase => {
                self.query.pop();
            }
            Action::Submit => self.mode = Mode::Browse,
            Action::Close => {
                self.query.clear();
                self.mode = Mode::Browse;
            }
            _ => {}
        }
        self.scroll = 0;
        self.selected = None;
    }

    /// Queues `request` and says it is on its way.
    fn send(&mut self, request: Request, effects: &mut Effects) {
        self.say(format!("sending the {}…", request.describe()), false);
        effects.requests.push(request);
    }

    /// An answer from the API.
    pub(super) fn on_reply(&mut self, reply: Reply, effects: &mut Effects) {
        match reply {
            Reply::History { id, result } => {
                let Some(details) = self.details.as_mut().filter(|d| d.alert.id == id) else {
                    return;
                };
                effects.requests.extend(details.on_history(result));
            }
            Reply::Done { request, result } => match result {
                Ok(()) => self.say(format!("done: {}", request.describe()), false),
                Err(why) => self.say(format!("{} failed: {why}", request.describe()), true),
            },
        }
    }
}
