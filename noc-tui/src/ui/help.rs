//! The `?` overlay: every key ([`crate::input::KEYS`], kept beside the key
//! map), in a box over the middle of the screen.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use super::Theme;
use crate::input::KEYS;

/// Draws the help box centred on `area`.
pub fn render(theme: Theme, area: Rect, buf: &mut Buffer) {
    let height = KEYS.len() as u16 + 2;
    let [row] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(64)])
        .flex(Flex::Center)
        .areas(row);
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(key, what)| Line::from(format!(" {key:<18} {what}")))
        .collect();
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys ")
                .title_style(theme.heading()),
        )
        .render(popup, buf);
}
