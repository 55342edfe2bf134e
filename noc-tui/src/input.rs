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
pub const KEYS: [(&str, &str); 20] = [
    ("q, Ctrl-C", "quit"),
    ("Esc", "close what is open; quit from the bare list"),
    ("Up/Down, j/k", "select the previous / next alert"),
    ("PgUp/PgDn, Space", "one page up / down"),
    ("Home/End, g/G", "first / last alert"),
    ("Enter", "details of the selected alert"),
    ("a", "acknowledge (asks a note, then an expiry)"),
    ("u", "take the acknowledgement back"),
    ("n", "add a note"),
    ("s", "silence its host or site (asks how long, why)"),
    ("/", "filter by site, host, message as you type"),
    ("h", "hide / show acknowledged alerts"),
    ("z", "hide / show silenced alerts"),
    ("v", "alert list / site board"),
    ("r", "reconnect now"),
    ("?", "this help; any other key closes it"),
    ("", ""),
    ("In a prompt", "Enter answers, Esc cancels"),
    ("In the filter", "Enter keeps it, Esc clears it"),
    ("In details", "Up/Down scroll, a u n s act, Esc closes"),
];

/// What `key` asks for while `mode` has the keyboard; `None` for a key that
/// means nothing there (the screen is then left as it is, not even redrawn).
pub fn action(mode: Mode, key: KeyEvent) -> Option<Action> {
    // Terminals that report key releases would otherwise act twice.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Browse => browse(key),
        Mode::Help => help(key),
        Mode::Details => details(key),
        Mode::Prompt | Mode::Filter => typing(key),
    }
}

/// The keys of the list and the site board.
fn browse(key: KeyEvent) -> Option<Action> {
    let action = match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('v') => Action::SwitchView,
        KeyCode::Char('h') => Action::ToggleAcked,
        KeyCode::Char('z') => Action::ToggleSilenced,
        KeyCode::Char('r') => Action::ReconnectNow,
        KeyCode::Enter => Action::Open,
        KeyCode::Char('a') => Action::Ack,
        KeyCode::Char('u') => Action::Unack,
        KeyCode::Char('n') => Action::Note,
        KeyCode::Char('s') => Action::Silence,
        KeyCode::Char('/') => Action::Filter,
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

/// With the help open the list's moves and switches keep their meaning
/// (the list scrolls under it, `q` quits); `?` and Esc close it, and so
/// does any key that means nothing else. Keys that open something else
/// (Enter, the actions, `/`) only close it.
fn help(key: KeyEvent) -> Option<Action> {
    match browse(key) {
        Some(
            Action::Help
            | Action::Back
            | Action::Open
            | Action::Ack
            | Action::Unack
            | Action::Note
            | Action::Silence
            | Action::Filter,
        )
        | None => Some(Action::Close),
        other => other,
    }
}

/// The keys of the details pane: scroll, act on its alert, close.
fn details(key: KeyEvent) -> Option<Action> {
    let action = match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc | KeyCode::Enter => Action::Close,
        KeyCode::Char('a') => Action::Ack,
        KeyCode::Char('u') => Action::Unack,
        KeyCode::Char('n') => Action::Note,
        KeyCode::Char('s') => Action::Silence,
        KeyCode::Up | KeyCode::Char('k') => Action::RowUp,
        KeyCode::Down | KeyCode::Char('j') => Action::RowDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::First,
        _ => return None,
    };
    Some(action)
}

/// The keys of a prompt and of the filter: text, Backspace, Enter, Esc.
fn typing(key: KeyEvent) -> Option<Action> {
    match key.code {
        KeyCode::Esc => Some(Action::Close),
        KeyCode::Enter => Some(Action::Submit),
        KeyCode::Backspace => Some(Action::Erase),
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => Some(Action::Type(c)),
        _ => None,
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
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        ] {
            assert_eq!(action(Mode::Browse, key), Some(Action::Quit), "{key:?}");
            assert_eq!(action(Mode::Help, key), Some(Action::Quit), "{key:?}");
            assert_eq!(action(Mode::Details, key), Some(Action::Quit), "{key:?}");
        }
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action(Mode::Prompt, ctrl_c), Some(Action::Quit));
        assert_eq!(action(Mode::Filter, ctrl_c), Some(Action::Quit));
        // Esc on the bare list is Back: the model quits unless a filter is
        // set; over anything else it closes.
        let esc = press(KeyCode::Esc);
        assert_eq!(action(Mode::Browse, esc), Some(Action::Back));
        for mode in [Mode::Help, Mode::Details, Mode::Prompt, Mode::Filter] {
            assert_eq!(action(mode, esc), Some(Action::Close), "{mode:?}");
        }
        // In a prompt or the filter, q is a letter.
        assert_eq!(
            action(Mode::Prompt, press(KeyCode::Char('q'))),
            Some(Action::Type('q'))
        );
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
            ('h', Action::ToggleAcked),
            ('z', Action::ToggleSilenced),
            ('a', Action::Ack),
            ('u', Action::Unack),
            ('n', Action::Note),
            ('s', Action::Silence),
            ('/', Action::Filter),
            ('r', Action::ReconnectNow),
            ('?', Action::Help),
        ] {
            assert_eq!(action(Mode::Browse, press(KeyCode::Char(code))), Some(want));
        }
        assert_eq!(action(Mode::Browse, press(KeyCode::Char('x'))), None);
        assert_eq!(
            action(Mode::Browse, press(KeyCode::Enter)),
            Some(Action::Open)
        );
        assert_eq!(
            action(Mode::Details, press(KeyCode::Enter)),
            Some(Action::Close)
        );
        assert_eq!(
            action(Mode::Prompt, press(KeyCode::Enter)),
            Some(Action::Submit)
        );
        assert_eq!(
            action(Mode::Filter, press(KeyCode::Backspace)),
            Some(Action::Erase)
        );
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
