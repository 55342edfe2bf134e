//! Small text helpers shared by the screen and plain mode.

use std::borrow::Cow;

/// `text` as one line of printable characters: control characters (line
/// breaks, tabs, escape sequences a sender might slip into a message)
/// become spaces, so that alert text can neither break a line-per-event
/// log nor move the terminal's cursor.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Cuts `text` to at most `width` characters, marking the cut with `~`.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('~');
    cut
}

/// Who acknowledged, as the list shows it: the part of an email before
/// `@` (the details show it whole).
pub fn who(email: &str) -> &str {
    email.split('@').next().unwrap_or(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_is_the_name_before_the_at() {
        assert_eq!(who("irene@sprinttz.example"), "irene");
        assert_eq!(who("zabbix-admin"), "zabbix-admin");
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(one_line("a\nb\tc\u{1b}[2J"), "a b c [2J");
        assert!(matches!(one_line("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn fit_marks_the_cut() {
        assert_eq!(fit("Kilimanjaro", 5), "Kili~");
        assert_eq!(fit("Kili", 5), "Kili");
        assert_eq!(fit("Kili", 0), "");
    }
}
