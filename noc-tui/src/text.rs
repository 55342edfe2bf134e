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

/// An alert's age as every screen shows it: `42s` under a minute, `17m`
/// under an hour, `3h12m` under a day, then `2d5h`. A time in the future
/// (clocks apart) is `0s`.
pub fn age(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (mins, hours, days) = (secs / 60, secs / 3600, secs / 86_400);
    match secs {
        ..60 => format!("{secs}s"),
        60..3600 => format!("{mins}m"),
        3600..86_400 => format!("{hours}h{}m", mins % 60),
        _ => format!("{days}d{}h", hours % 24),
    }
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
    fn ages_as_the_contract_writes_them() {
        let age_of = |s: i64| age(chrono::Duration::seconds(s));
        assert_eq!(age_of(-5), "0s");
        assert_eq!(age_of(42), "42s");
        assert_eq!(age_of(59), "59s");
        assert_eq!(age_of(60), "1m");
        assert_eq!(age_of(17 * 60 + 59), "17m");
        assert_eq!(age_of(3 * 3600 + 12 * 60 + 5), "3h12m");
        assert_eq!(age_of(3600), "1h0m");
        assert_eq!(age_of(2 * 86_400 + 5 * 3600 + 59 * 60), "2d5h");
    }

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
