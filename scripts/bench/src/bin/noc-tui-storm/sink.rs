//! Where the frames go: a terminal of a fixed size whose ANSI output goes
//! through a line-buffered writer, as standard output is, into `/dev/null`,
//! counting bytes and `write` calls. The encoding and the system calls are
//! paid; no terminal draws.

use std::fs::File;
use std::io::{self, LineWriter, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

/// The terminal the loop draws on.
pub type NullTerminal = Terminal<CrosstermBackend<LineWriter<Counted>>>;

/// A `width`×`height` terminal writing into `/dev/null`, and what it wrote.
pub fn terminal(width: u16, height: u16) -> io::Result<(NullTerminal, Written)> {
    let output = Counted::default();
    let written = Written {
        bytes: output.bytes.clone(),
        writes: output.writes.clone(),
    };
    // No `clear()` afterwards: it asks a real terminal where its cursor is.
    // The first frame is written in full anyway.
    let terminal = Terminal::with_options(
        CrosstermBackend::new(LineWriter::new(output)),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, width, height)),
        },
    )?;
    Ok((terminal, written))
}

/// `/dev/null`, counting bytes and `write` calls.
pub struct Counted {
    file: Option<File>,
    bytes: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
}

impl Default for Counted {
    fn default() -> Self {
        Counted {
            file: File::options().write(true).open("/dev/null").ok(),
            bytes: Arc::default(),
            writes: Arc::default(),
        }
    }
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        let n = match &mut self.file {
            Some(file) => file.write(buf)?,
            None => buf.len(),
        };
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What the terminal has written so far, read from outside it.
pub struct Written {
    bytes: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
}

impl Written {
    pub fn read(&self) -> Output {
        Output {
            bytes: self.bytes.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
        }
    }
}

/// Bytes and `write` calls.
pub struct Output {
    pub bytes: u64,
    pub writes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_the_terminal_writes() {
        let (mut terminal, written) = terminal(20, 3).expect("terminal");
        terminal
            .draw(|frame| {
                frame.render_widget(ratatui::widgets::Paragraph::new("hello"), frame.area())
            })
            .expect("draw");
        let output = written.read();
        assert!(output.bytes >= 5, "{} bytes", output.bytes);
        assert!(output.writes >= 1);
    }
}
