//! Styles, in the 16 ANSI colours only so that a text-mode Linux console
//! shows them, and with no colour at all under `NO_COLOR` (bold and reverse
//! video stay, so critical still stands out).

use noc_shared::Severity;
use ratatui::style::{Color, Modifier, Style};

/// The styles of one screen; `color` is false under `NO_COLOR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// A theme with or without colour.
    pub fn new(color: bool) -> Self {
        Theme { color }
    }

    /// Keeps only the modifiers of `style` when colour is off.
    fn pick(&self, colored: Style, plain: Style) -> Style {
        if self.color { colored } else { plain }
    }

    /// The style of an alert row (and of a site row by its worst alert).
    pub fn severity(&self, severity: Severity) -> Style {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        match severity {
            Severity::Critical => self.pick(
                bold.fg(Color::White).bg(Color::Red),
                bold.add_modifier(Modifier::REVERSED),
            ),
            Severity::High => self.pick(bold.fg(Color::LightRed), bold),
            Severity::Average => self.pick(Style::new().fg(Color::Yellow), Style::new()),
            Severity::Warning => self.pick(Style::new().fg(Color::LightYellow), Style::new()),
            Severity::Info => self.pick(Style::new().fg(Color::Cyan), Style::new()),
        }
    }

    /// A count badge in the counts row; zero counts stay quiet.
    pub fn badge(&self, severity: Severity, count: usize) -> Style {
        if count == 0 {
            return Style::new();
        }
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let on = |bg: Color, fg: Color| bold.fg(fg).bg(bg);
        match severity {
            Severity::Critical => self.pick(
                on(Color::Red, Color::White),
                bold.add_modifier(Modifier::REVERSED),
            ),
            Severity::High => self.pick(on(Color::LightRed, Color::Black), bold),
            Severity::Average => self.pick(on(Color::Yellow, Color::Black), bold),
            Severity::Warning => self.pick(on(Color::LightYellow, Color::Black), bold),
            Severity::Info => self.pick(on(Color::Cyan, Color::Black), bold),
        }
    }

    /// A newly arrived critical alert: the critical style turned inside out,
    /// underlined so that it shows without colour too.
    pub fn highlight(&self, base: Style) -> Style {
        base.add_modifier(Modifier::REVERSED | Modifier::UNDERLINED)
    }

    /// Rows and words that come from a link that has gone down.
    pub fn stale(&self, base: Style) -> Style {
        base.add_modifier(Modifier::DIM)
    }

    /// The link state word when connected.
    pub fn connected(&self) -> Style {
        self.pick(
            Style::new()
                .fg(Color::LightGreen)
                .add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// The link state word while dialling.
    pub fn connecting(&self) -> Style {
        self.pick(
            Style::new()
                .fg(Color::LightYellow)
                .add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// The banner while disconnected: loud in both modes.
    pub fn disconnected(&self) -> Style {
        self.pick(
            Style::new()
                .fg(Color::Black)
                .bg(Color::LightYellow)
                .add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )
    }

    /// Column headings and the title bar.
    pub fn heading(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Secondary text: key hints, ages.
    pub fn muted(&self) -> Style {
        self.pick(Style::new().fg(Color::Gray), Style::new())
    }

    /// A site with no alerts on the site board.
    pub fn ok(&self) -> Style {
        self.pick(Style::new().fg(Color::Green), Style::new())
    }
}

/// The severity as it is written on screen, full or in four letters.
pub fn severity_label(severity: Severity, short: bool) -> &'static str {
    match (severity, short) {
        (Severity::Critical, false) => "CRITICAL",
        (Severity::High, false) => "HIGH",
        (Severity::Average, false) => "AVERAGE",
        (Severity::Warning, false) => "WARNING",
        (Severity::Info, false) => "INFO",
        (Severity::Critical, true) => "CRIT",
        (Severity::High, true) => "HIGH",
        (Severity::Average, true) => "AVG",
        (Severity::Warning, true) => "WARN",
        (Severity::Info, true) => "INFO",
    }
}
