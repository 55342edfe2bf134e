//! The built `noc-tui` in a real terminal (tmux) against the real server:
//! the screen as a person sees it, `q` to quit, and the terminal given back
//! in cooked mode on the main screen. Skipped, and says so, without tmux.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::{Server, alert, within};

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

fn tmux_installed() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn runs_in_a_real_terminal_quits_on_q_and_restores_the_terminal() {
    if !tmux_installed() {
        eprintln!("skipped: tmux not installed");
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

    // The critical row is red: tmux reports it as SGR 41 or 48;5;1.
    let coloured = tmux.capture(true);
    let row = coloured
        .lines()
        .find(|l| l.contains("tmux-crit"))
        .expect("critical row with escapes");
    assert!(
        row.contains("41m") || row.contains("48;5;1m") || row.contains(";41"),
        "red background on the critical row: {row:?}"
    );

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
