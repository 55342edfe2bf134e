//! The built `noc-tui` in a real terminal (tmux) against the real server:
//! the screen as a person sees it, `q` to quit, and the terminal given back
//! in cooked mode on the main screen. Skipped, and says so, without tmux.

mod common;

use common::tmux::Tmux;
use common::{Server, alert, skip_or_fail};

/// A colour as SGR sets it: an index of the 256-colour palette (whose
/// first 16 are the ANSI colours: SGR 30-37 and 40-47 are 0-7, 90-97 and
/// 100-107 are 8-15), or a colour given as RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Colour {
    Index(u16),
    Rgb(u16, u16, u16),
}

/// The colours text is drawn with; `None` is the terminal's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Pen {
    fg: Option<Colour>,
    bg: Option<Colour>,
}

impl Pen {
    /// Applies the parameters of one SGR sequence (`ESC [ params m`).
    fn apply(&mut self, params: &str) {
        let mut params = params
            .split([';', ':'])
            .map(|p| p.parse::<u16>().unwrap_or(0));
        while let Some(p) = params.next() {
            match p {
                0 => *self = Pen::default(),
                30..=37 => self.fg = Some(Colour::Index(p - 30)),
                90..=97 => self.fg = Some(Colour::Index(p - 90 + 8)),
                40..=47 => self.bg = Some(Colour::Index(p - 40)),
                100..=107 => self.bg = Some(Colour::Index(p - 100 + 8)),
                39 => self.fg = None,
                49 => self.bg = None,
                38 | 48 => {
                    let colour = match params.next() {
                        Some(5) => Colour::Index(params.next().unwrap_or(0)),
                        Some(2) => {
                            let mut next = || params.next().unwrap_or(0);
                            Colour::Rgb(next(), next(), next())
                        }
                        other => panic!("SGR {p} followed by {other:?}"),
                    };
                    if p == 38 {
                        self.fg = Some(colour);
                    } else {
                        self.bg = Some(colour);
                    }
                }
                // Bold, reverse video and the other attributes.
                _ => {}
            }
        }
    }
}

/// Each character of a line captured with escapes, with the pen it is
/// drawn with.
fn cells(line: &str) -> Vec<(char, Pen)> {
    let mut pen = Pen::default();
    let mut cells = Vec::new();
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if let Some(sequence) = rest.strip_prefix("\x1b[") {
            let end = sequence.find('m').expect("an SGR sequence ends with m");
            pen.apply(&sequence[..end]);
            rest = &sequence[end + 1..];
        } else {
            cells.push((c, pen));
            rest = &rest[c.len_utf8()..];
        }
    }
    cells
}

#[test]
fn sgr_sequences_are_read_whole() {
    let pens = |line: &str| cells(line).into_iter().map(|(_, p)| p).collect::<Vec<_>>();
    let red = Some(Colour::Index(1));
    // 41 is red; 38;5;41 and 48;5;41 are index 41, a green.
    assert_eq!(pens("\x1b[1;37;41mx")[0].bg, red);
    assert_eq!(pens("\x1b[48;5;1mx")[0].bg, red);
    assert_eq!(
        pens("\x1b[38;5;41mx")[0],
        Pen {
            fg: Some(Colour::Index(41)),
            bg: None
        }
    );
    assert_eq!(pens("\x1b[48;5;41mx")[0].bg, Some(Colour::Index(41)));
    assert_eq!(
        pens("\x1b[48;2;200;0;0mx")[0].bg,
        Some(Colour::Rgb(200, 0, 0))
    );
    assert_eq!(pens("\x1b[101mx")[0].bg, Some(Colour::Index(9)));
    // A reset ends the colour; a sequence with no parameters is a reset.
    assert_eq!(
        pens("\x1b[41mx\x1b[0my\x1b[41mz\x1b[m."),
        [
            Pen { fg: None, bg: red },
            Pen::default(),
            Pen { fg: None, bg: red },
            Pen::default(),
        ]
    );
}

#[tokio::test]
async fn runs_in_a_real_terminal_quits_on_q_and_restores_the_terminal() {
    if !Tmux::installed() {
        skip_or_fail("NOC_REQUIRE_TMUX", "tmux");
        return;
    }
    let server = Server::start(&[]).await;
    server
        .post(&alert("tmux-crit", "Kilimanjaro", "critical"))
        .await;
    server
        .post(&alert("tmux-warn", "Serengeti", "warning"))
        .await;

    let tmux = Tmux::new("wall");
    // After noc-tui exits, the shell prints its exit code and whether the
    // terminal is back in canonical (cooked) mode, then waits to be read.
    let script = format!(
        "env -u NO_COLOR -u NOC_URL -u NOC_SITES TERM=xterm-256color {bin} --url {url} --name tmux-wall; \
         echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; sleep 60",
        bin = env!("CARGO_BIN_EXE_noc-tui"),
        url = server.base(),
    );
    tmux.start(100, 30, &script);

    let screen = tmux
        .wait_for("the alerts on screen", |s| {
            s.contains("CONNECTED") && s.contains("tmux-crit at Kilimanjaro")
        })
        .await;
    assert!(screen.starts_with("NOC tmux-wall"), "{screen}");
    let crit = screen.find("tmux-crit").expect("critical row");
    let warn = screen.find("tmux-warn").expect("warning row");
    assert!(crit < warn, "most severe first:\n{screen}");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "1",
        "full screen while running"
    );

    // The critical row is on red (SGR 41, or 48;5;1), and every colour on
    // screen is one of the 16 a text console has.
    let coloured = tmux.capture(true);
    let row = coloured
        .lines()
        .find(|l| l.contains("tmux-crit"))
        .expect("critical row with escapes");
    let drawn = cells(row);
    let text: String = drawn.iter().map(|(c, _)| c).collect();
    let at = text.find("tmux-crit").expect("the id on the row");
    let pen = drawn[text[..at].chars().count()].1;
    assert_eq!(
        pen.bg,
        Some(Colour::Index(1)),
        "red background on the critical row: {row:?}"
    );
    for line in coloured.lines() {
        for (c, pen) in cells(line) {
            for colour in [pen.fg, pen.bg].into_iter().flatten() {
                assert!(
                    matches!(colour, Colour::Index(0..=15)),
                    "{colour:?} at {c:?} is not one of the 16 ANSI colours: {line:?}"
                );
            }
        }
    }

    tmux.keys(&["q"]);
    let after = tmux
        .wait_for("noc-tui to exit", |s| {
            s.contains("EXIT=") && s.contains("icanon")
        })
        .await;
    assert!(after.contains("EXIT=0"), "{after}");
    assert!(
        after.lines().any(|l| l.trim() == "icanon"),
        "cooked mode restored:\n{after}"
    );
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "back on the main screen"
    );
    assert_eq!(tmux.display("#{cursor_flag}"), "1", "cursor visible again");
    server.stop().await;
}
