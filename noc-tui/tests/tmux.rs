//! The built `noc-tui` in a real terminal (tmux) against the real server:
//! the screen as a person sees it, `q` to quit, and the terminal given back
//! in cooked mode on the main screen. Skipped, and says so, without tmux.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::{Server, alert, skip_or_fail, within};

/// tmux on a socket of its own, so the test never touches a user's tmux.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn capture(&self, escapes: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", "wall"];
        if escapes {
            args.push("-e");
        }
        String::from_utf8_lossy(&self.run(&args).stdout).into_owned()
    }

    fn display(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "wall", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Polls the pane until `done` holds for its text. tmux has no way to
    /// wait for the screen's content, so this looks every 50 ms, under the
    /// test timeout.
    async fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        within(what, async {
            loop {
                let screen = self.capture(false);
                if done(&screen) {
                    return screen;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

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

fn tmux_installed() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn runs_in_a_real_terminal_quits_on_q_and_restores_the_terminal() {
    if !tmux_installed() {
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

    let tmux = Tmux {
        socket: format!("noc-tui-test-{}", std::process::id()),
    };
    // After noc-tui exits, the shell prints its exit code and whether the
    // terminal is back in canonical (cooked) mode, then waits to be read.
    let script = format!(
        "env -u NO_COLOR -u NOC_URL -u NOC_SITES TERM=xterm-256color {bin} --url {url} --name tmux-wall; \
         echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; sleep 60",
        bin = env!("CARGO_BIN_EXE_noc-tui"),
        url = server.base(),
    );
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "wall",
        "-x",
        "100",
        "-y",
        "30",
        "sh",
        "-c",
        &script,
    ]);
    assert!(started.status.success(), "{started:?}");

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

    tmux.run(&["send-keys", "-t", "wall", "q"]);
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
