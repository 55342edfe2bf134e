//! The key map: which [`Action`] a key asks for, given what has the
//! keyboard ([`Mode`]). Pure: a key in, an action or nothing out; the
//! screen loop hands the action to [`crate::app::update`], which carries it
//! out. Each mode has a map of its own, so a mode added to the model gets
//! its keys here, in one more arm of [`action`].
//!
//! [`KEYS`], the text of the `?` help, sits beside the map so that the two
//! change together.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{Action, Mode};

/// Every key and what it does, as the help shows them.
pub const KEYS: [(&str, &str); 9] = [
    ("q, Esc, Ctrl-C", "quit"),
    ("Up/Down, j/k", "scroll one row"),
    ("PgUp/PgDn, Space", "scroll one page"),
    ("Home/End, g/G", "first / last row"),
    ("v", "alert list / site board"),
    ("a", "hide / show acknowledged alerts"),
    ("r", "reconnect now"),
    ("?", "this help"),
    ("", "any other key closes it"),
];

/// What `key` asks for while `mode` has the keyboard; `None` for a key that
/// means nothing there (the screen is then left as it is, not even redrawn).
pub fn action(mode: Mode, key: KeyEvent) -> Option<Action> {
    // Terminals that report key releases would otherwise act twice.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    match mode {
        Mode::Browse => browse(key),
        Mode::Help => help(key),
    }
}

/// The keys of the list and the site board.
fn browse(key: KeyEvent) -> Option<Action> {
    let action = match key.code {
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Action::Quit,
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('v') => Action::SwitchView,
        KeyCode::Char('a') => Action::ToggleAcked,
        KeyCode::Char('r') => Action::ReconnectNow,
        KeyCode::Up | KeyCode::Char('k') => Action::RowUp,
        KeyCode::Down | KeyCode::Char('j') => Action::RowDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::First,
        KeyCode::End | KeyCode::Char('G') => Action::Last,
        _ => return None,
    };
    Some(action)
}

/// With the help open the list's keys keep their meaning (the list scrolls
/// under it, `q` quits); `?` closes it, and so does any key that means
/// nothing else.
fn help(key: KeyEvent) -> Option<Action> {
    match key.code {
        KeyCode::Char('?') => Some(Action::Close),
        _ => Some(browse(key).unwrap_or(Action::Close)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn quit_keys_quit() {
        for key in [
            press(KeyCode::Char('q')),
            press(KeyCode::Esc),
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        ] {
            assert_eq!(action(Mode::Browse, key), Some(Action::Quit), "{key:?}");
            assert_eq!(action(Mode::Help, key), Some(Action::Quit), "{key:?}");
        }
        assert_eq!(
            action(Mode::Browse, press(KeyCode::Char('c'))),
            None,
            "plain c is not a quit key"
        );
    }

    #[test]
    fn every_scroll_key_and_its_twin() {
        for (keys, want) in [
            ([KeyCode::Up, KeyCode::Char('k')], Action::RowUp),
            ([KeyCode::Down, KeyCode::Char('j')], Action::RowDown),
            ([KeyCode::PageUp, KeyCode::PageUp], Action::PageUp),
            ([KeyCode::PageDown, KeyCode::Char(' ')], Action::PageDown),
            ([KeyCode::Home, KeyCode::Char('g')], Action::First),
            ([KeyCode::End, KeyCode::Char('G')], Action::Last),
        ] {
            for code in keys {
                assert_eq!(action(Mode::Browse, press(code)), Some(want), "{code:?}");
            }
        }
    }

    #[test]
    fn view_acked_reconnect_and_help_keys() {
        for (code, want) in [
            ('v', Action::SwitchView),
            ('a', Action::ToggleAcked),
            ('r', Action::ReconnectNow),
            ('?', Action::Help),
        ] {
            assert_eq!(action(Mode::Browse, press(KeyCode::Char(code))), Some(want));
        }
        assert_eq!(action(Mode::Browse, press(KeyCode::Char('x'))), None);
    }

    #[test]
    fn the_help_closes_on_question_mark_or_any_unused_key_and_lets_the_rest_through() {
        assert_eq!(
            action(Mode::Help, press(KeyCode::Char('?'))),
            Some(Action::Close)
        );
        assert_eq!(
            action(Mode::Help, press(KeyCode::Char('x'))),
            Some(Action::Close)
        );
        assert_eq!(
            action(Mode::Help, press(KeyCode::Down)),
            Some(Action::RowDown)
        );
        assert_eq!(
            action(Mode::Help, press(KeyCode::Char('v'))),
            Some(Action::SwitchView)
        );
    }

    #[test]
    fn releases_are_ignored_and_repeats_act() {
        let mut key = press(KeyCode::Down);
        key.kind = KeyEventKind::Release;
        assert_eq!(action(Mode::Browse, key), None);
        assert_eq!(action(Mode::Help, key), None);
        key.kind = KeyEventKind::Repeat;
        assert_eq!(action(Mode::Browse, key), Some(Action::RowDown));
    }
}
