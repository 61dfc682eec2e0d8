//! The real terminal test: `voltvend demo` and the console binary in a tmux session at
//! 80×24; log in (with the forced password change), find unit A-101, sell 50.00 and read
//! the new balance off the screen with `tmux capture-pane`; then trip floor A-1 as a batch
//! and read the progress and the per-meter results off the screen.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::Demo;

struct Tmux(String);

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let o = Command::new("tmux")
            .args(["-L", &self.0])
            .args(args)
            .output()
            .expect("tmux (see .ci/apt-packages)");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
    fn send(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", "tui"];
        a.extend_from_slice(keys);
        self.run(&a);
    }
    fn text(&self, s: &str) {
        self.run(&["send-keys", "-t", "tui", "-l", s]);
    }
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "tui"])
    }
    /// Waits until the screen shows `what` (the console redraws within 250 ms).
    fn wait_for(&self, what: &str) -> String {
        self.wait_secs(what, 20)
    }
    fn wait_secs(&self, what: &str, secs: u64) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "screen never showed {what:?}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

fn balance_on(screen: &str) -> i64 {
    let l = screen
        .lines()
        .find(|l| l.contains("balance ¥"))
        .expect("balance line");
    let v = l
        .split("balance ¥")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    voltvend_tui::widgets::parse_money(v).expect("money")
}

#[test]
fn cashier_sells_50_to_a101_in_a_real_terminal() {
    let demo = Demo::start();
    let tmux = Tmux(format!("voltvend-tui-test-{}", std::process::id()));
    let cmd = format!(
        "{} --socket {}",
        env!("CARGO_BIN_EXE_voltvend-tui"),
        demo.socket.display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "tui",
        "-x",
        "80",
        "-y",
        "24",
        "env",
        "TERM=xterm-256color",
        "sh",
        "-c",
        &cmd,
    ]);
    tmux.wait_for("Staff login");
    tmux.text("admin");
    tmux.send(&["Enter"]);
    tmux.text("voltvend");
    tmux.send(&["Enter"]);
    tmux.wait_for("Choose a new password");
    for _ in 0..2 {
        tmux.text("Till-2026-pw");
        tmux.send(&["Enter"]);
    }
    tmux.wait_for("Meters by status");
    tmux.text("3");
    tmux.wait_for("Unit / tenant");
    tmux.text("A-101");
    tmux.send(&["Enter"]);
    let s = tmux.wait_for("can top up at most");
    let before = balance_on(&s);
    tmux.text("s50.00");
    tmux.send(&["Enter"]);
    tmux.wait_for("Confirm sale");
    tmux.text("y");
    let s = tmux.wait_for("SOLD 50.00");
    let after = balance_on(&s);
    // The demo's collector charges live consumption meanwhile: the sale adds exactly
    // 50.00, a few seconds of use may take some fen off.
    assert!(
        (before + 5_000 - 200..=before + 5_000).contains(&after),
        "before {before}, after {after}:\n{s}"
    );
    assert!(
        s.contains(&format!(
            "new balance {}",
            voltvend_tui::widgets::money(after)
        )),
        "{s}"
    );
    std::fs::write(
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tui-sale-80x24.txt"),
        &s,
    )
    .ok();
    // Batch: floor A-1 by the filter, b, trip (seventh operation), confirm, watch it run.
    tmux.text("2");
    tmux.wait_for("sort:");
    tmux.text("/b:A f:1");
    tmux.send(&["Enter"]);
    tmux.wait_for("10 of ");
    tmux.text("b");
    tmux.wait_for("Selection: 10 meters shown by the filter 'b:A f:1'");
    for _ in 0..6 {
        tmux.send(&["Down"]);
    }
    tmux.send(&["Enter"]);
    let s = tmux.wait_for("Batch: trip (cut power)");
    assert!(s.contains("trip (cut power) on 10 meter(s)"), "{s}");
    tmux.text("y");
    let s = tmux.wait_secs("finished:", 180);
    assert!(s.contains("10/10 done"), "{s}");
    assert!(s.contains("✗ 0 failed"), "{s}");
    assert_eq!(
        s.lines().filter(|l| l.contains(" confirmed ")).count()
            + s.lines().filter(|l| l.contains(" skipped ")).count(),
        // the counts line has both words once
        10 + 2,
        "{s}"
    );
    std::fs::write(
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tui-batch-80x24.txt"),
        &s,
    )
    .ok();
    // q leaves the alternate screen and the shell gets its terminal back.
    tmux.text("q");
    let start = Instant::now();
    while tmux
        .run(&["list-panes", "-t", "tui", "-F", "#{pane_dead}"])
        .trim()
        == "0"
        && start.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
}
