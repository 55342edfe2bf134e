//! tmux as the terminal of the built `noc-tui`: start it in a detached
//! session of a given size, send it keys, read the screen back.

use std::process::{Command, Output};
use std::time::Duration;

use super::within;

/// tmux on a socket of its own, so a test never touches a user's tmux.
/// Dropping it ends that tmux and whatever runs in it.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A tmux of its own for this test process, told apart by `tag`.
    pub fn new(tag: &str) -> Tmux {
        Tmux {
            socket: format!("noc-tui-test-{}-{tag}", std::process::id()),
        }
    }

    /// True when tmux can be run at all.
    pub fn installed() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Runs `script` with `sh -c` in a `width`×`height` session `wall`.
    pub fn start(&self, width: u16, height: u16, script: &str) {
        let (w, h) = (width.to_string(), height.to_string());
        let started = self.run(&[
            "new-session",
            "-d",
            "-s",
            "wall",
            "-x",
            &w,
            "-y",
            &h,
            "sh",
            "-c",
            script,
        ]);
        assert!(started.status.success(), "{started:?}");
    }

    /// Sends keys as tmux names them (`Enter`, `Escape`, `Down`, or text).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "wall"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    /// Sends `text` as literal characters.
    pub fn type_text(&self, text: &str) {
        assert!(
            self.run(&["send-keys", "-t", "wall", "-l", text])
                .status
                .success()
        );
    }

    pub fn capture(&self, escapes: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", "wall"];
        if escapes {
            args.push("-e");
        }
        String::from_utf8_lossy(&self.run(&args).stdout).into_owned()
    }

    pub fn display(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "wall", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Polls the pane until `done` holds for its text. tmux has no way to
    /// wait for the screen's content, so this looks every 25 ms, under the
    /// test timeout.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        within(what, async {
            loop {
                let screen = self.capture(false);
                if done(&screen) {
                    return screen;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
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
