//! The bottom line: the question being asked (with what is typed and, when
//! the last answer was refused, why), the `/` filter being typed, an
//! action's outcome in words, or else the key hints.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::Theme;
use crate::app::{App, Mode, View};
use crate::text::one_line;

/// Draws the footer.
pub fn render(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let line = match (app.mode, &app.prompt) {
        (Mode::Prompt, Some(prompt)) => {
            let mut spans = vec![
                Span::styled(prompt.question(), theme.heading()),
                Span::raw(one_line(&prompt.input).into_owned()),
                Span::styled("_", theme.muted()),
            ];
            if let Some(why) = &prompt.error {
                spans.push(Span::styled(
                    format!("  {}", one_line(why)),
                    theme.disconnected(),
                ));
            }
            Line::from(spans)
        }
        (Mode::Filter, _) => Line::from(vec![
            Span::styled("/", theme.heading()),
            Span::raw(one_line(&app.query).into_owned()),
            Span::styled("_  (Enter keeps it, Esc clears it)", theme.muted()),
        ]),
        _ => match &app.status {
            Some(status) if status.error => Line::from(Span::styled(
                one_line(&status.text).into_owned(),
                theme.disconnected(),
            )),
            Some(status) => Line::from(Span::styled(
                one_line(&status.text).into_owned(),
                theme.heading().add_modifier(Modifier::BOLD),
            )),
            None => Line::from(Span::styled(hints(app), theme.muted())),
        },
    };
    Paragraph::new(line).render(area, buf);
}

/// The keys that matter now, shortest first to fit narrow screens.
fn hints(app: &App) -> String {
    if app.mode == Mode::Details {
        return "Esc close  Up/Down scroll  a ack  u unack  n note  s silence  q quit".to_owned();
    }
    let view = match app.view {
        View::Alerts => "v board",
        View::Sites => "v list",
    };
    format!(
        "q quit  ? keys  {view}  Enter open  a ack  u unack  n note  s silence  / filter  h/z acked/silenced"
    )
}
