//! `identify`: the screen's name across the whole screen for a while, so
//! that someone at the wall can tell which screen is which.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use super::Theme;
use crate::app::App;
use crate::text::one_line;

/// Draws the name, big and centred, over everything.
pub fn render(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    Clear.render(area, buf);
    let style = theme.heading().add_modifier(Modifier::REVERSED);
    Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .style(style)
        .render(area, buf);
    let name = one_line(&app.name).to_uppercase();
    // The name spaced out, so that it reads from across the room.
    let wide: String = name
        .chars()
        .flat_map(|c| [c, ' '])
        .collect::<String>()
        .trim_end()
        .to_owned();
    let mut lines = vec![Line::from(wide).centered(), Line::from("").centered()];
    lines.push(Line::from(format!("this screen is {}", one_line(&app.name))).centered());
    if let Some(title) = app.title() {
        lines.push(Line::from(one_line(title).into_owned()).centered());
    }
    let [middle] = Layout::vertical([Constraint::Length(lines.len() as u16)])
        .flex(Flex::Center)
        .areas(area);
    Paragraph::new(lines)
        .style(style.add_modifier(Modifier::BOLD))
        .render(middle, buf);
}
