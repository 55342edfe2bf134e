//! [`Prompt`]: the one-line questions an action asks at the bottom of the
//! screen, one after the other, before its request is sent: `a` a note then
//! an expiry, `n` a note's text, `s` host or site, then a duration, then a
//! comment. Each answer is checked as it is given, so a typo is said at
//! once and asked again rather than refused by the server later.

use noc_shared::{Alert, EVERY_SITE};

use crate::api::{Request, SilenceScope};

/// Which action the questions are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Ack,
    Note,
    Silence,
}

impl PromptKind {
    /// The questions, in order.
    fn questions(self) -> &'static [&'static str] {
        match self {
            PromptKind::Ack => &[
                "Ack note (Enter for none): ",
                "Ack expires in, e.g. 2h (Enter for never): ",
            ],
            PromptKind::Note => &["Note: "],
            PromptKind::Silence => &[
                "Silence the host or the site? (h/s): ",
                "Silence for how long, e.g. 2h: ",
                "Silence comment: ",
            ],
        }
    }
}

/// The questions of one action on one alert, and the answers so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    /// The alert acted on.
    pub id: String,
    host: Option<String>,
    site: String,
    /// What is typed so far for the current question.
    pub input: String,
    answers: Vec<String>,
    /// Why the last answer was not taken.
    pub error: Option<String>,
}

/// What an answer leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered {
    /// The next question is up.
    Next,
    /// All answered: send this.
    Send(Request),
    /// The answer is not usable; the same question again, with `error` set.
    Again,
}

impl Prompt {
    /// The first question of `kind` for `alert`.
    pub fn new(kind: PromptKind, alert: &Alert) -> Self {
        Prompt {
            kind,
            id: alert.id.clone(),
            host: alert.host.clone().filter(|h| !h.trim().is_empty()),
            site: alert.site.clone(),
            input: String::new(),
            answers: Vec::new(),
            error: None,
        }
    }

    /// The question being asked.
    pub fn question(&self) -> &'static str {
        let questions = self.kind.questions();
        questions[self.answers.len().min(questions.len() - 1)]
    }

    /// Takes what is typed as the answer to the current question.
    pub fn submit(&mut self) -> Answered {
        let answer = self.input.trim().to_owned();
        if let Err(why) = self.check(&answer) {
            self.error = Some(why);
            return Answered::Again;
        }
        self.error = None;
        self.input.clear();
        self.answers.push(answer);
        if self.answers.len() < self.kind.questions().len() {
            Answered::Next
        } else {
            Answered::Send(self.request())
        }
    }

    /// Whether `answer` can answer the current question.
    fn check(&self, answer: &str) -> Result<(), String> {
        match (self.kind, self.answers.len()) {
            (PromptKind::Ack, 1) if !answer.is_empty() => duration(answer),
            (PromptKind::Note, 0) if answer.is_empty() => {
                Err("the note is empty; type it, or Esc to cancel".into())
            }
            (PromptKind::Silence, 0) => self.scope(answer).map(|_| ()),
            (PromptKind::Silence, 1) if answer.is_empty() => {
                Err("a silence needs a duration, e.g. 30m or 2h".into())
            }
            (PromptKind::Silence, 1) => duration(answer),
            (PromptKind::Silence, 2) if answer.is_empty() => {
                Err("a silence needs a comment: say why".into())
            }
            _ => Ok(()),
        }
    }

    /// The host or the site, by the first answer of `s`.
    fn scope(&self, answer: &str) -> Result<(SilenceScope, String), String> {
        match answer.to_lowercase().as_str() {
            "h" | "host" => match &self.host {
                Some(host) => Ok((SilenceScope::Host, host.clone())),
                None => Err("this alert has no host; answer s for its site".into()),
            },
            "s" | "site" if self.site == EVERY_SITE => {
                Err("this alert is for every site; answer h for its host".into())
            }
            "s" | "site" => Ok((SilenceScope::Site, self.site.clone())),
            _ => Err("answer h for the host or s for the site".into()),
        }
    }

    /// The request the answers make.
    fn request(&self) -> Request {
        let given = |at: usize| self.answers.get(at).filter(|a| !a.is_empty()).cloned();
        let id = self.id.clone();
        match self.kind {
            PromptKind::Ack => Request::Ack {
                id,
                note: given(0),
                expires_in: given(1),
            },
            PromptKind::Note => Request::Note {
                id,
                text: given(0).unwrap_or_default(),
            },
            PromptKind::Silence => {
                let (scope, value) = self
                    .scope(&self.answers[0])
                    .unwrap_or((SilenceScope::Site, self.site.clone()));
                Request::Silence {
                    id,
                    scope,
                    value,
                    duration: given(1).unwrap_or_default(),
                    comment: given(2).unwrap_or_default(),
                }
            }
        }
    }
}

/// A duration as the server takes them (`90s`, `30m`, `2h`, `1d`).
fn duration(answer: &str) -> Result<(), String> {
    match humantime::parse_duration(answer) {
        Ok(d) if !d.is_zero() => Ok(()),
        _ => Err(format!("{answer:?} is not a duration; try 30m, 2h or 1d")),
    }
}
