//! The real `voltvend` binary as a child process.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_voltvend");

/// `voltvend` with a quiet and hermetic environment: warnings only, no backtraces, and none
/// of the developer's `VOLTVEND_*` settings or sudo user (a shell's environment must not
/// change what a test sees). Callers add arguments, more variables and pipes.
pub fn voltvend() -> Command {
    let mut c = Command::new(BIN);
    c.env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUST_LIB_BACKTRACE")
        .env_remove("VOLTVEND_CONFIG")
        .env_remove("VOLTVEND_STORE")
        .env_remove("SUDO_USER");
    c
}

/// Runs `voltvend ARGS` to completion (stdin empty).
pub fn output(args: &[&str]) -> Output {
    let mut cmd = voltvend();
    cmd.args(args);
    output_with(cmd, None)
}

/// Runs `cmd` to completion with `stdin` written to it (empty when `None`).
pub fn output_with(mut cmd: Command, stdin: Option<&str>) -> Output {
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run voltvend");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait for voltvend")
}

/// Runs `voltvend ARGS` to completion: (exit success, stdout, stderr).
pub fn run(args: &[&str]) -> (bool, String, String) {
    let out = output(args);
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// Output bytes as text (lossy: a test prints what it got).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A child process killed (and reaped) when dropped, so a test that fails half way leaves
/// no simulator or demo running on for ever.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `voltvend` whose stderr lines are collected as they come (killed on drop).
pub struct Daemon {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Starts `voltvend ARGS` logging at info level (the tests read its log lines).
    pub fn start(args: &[&str]) -> Daemon {
        let mut cmd = voltvend();
        cmd.args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null());
        Daemon::spawn(cmd)
    }

    /// Starts `cmd` (a [`voltvend`] command) with its stderr collected.
    pub fn spawn(mut cmd: Command) -> Daemon {
        let mut child = cmd.stderr(Stdio::piped()).spawn().expect("start voltvend");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let err = child.stderr.take().expect("stderr");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
        Daemon { child, lines }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Its stdout, when the command piped it.
    pub fn take_stdout(&mut self) -> std::process::ChildStdout {
        self.child.stdout.take().expect("stdout piped")
    }

    /// Waits for it to exit.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait")
    }

    /// Its exit status if it has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("wait")
    }

    /// Waits until a line satisfies `pred` (checked from line `from` on); returns its index.
    pub fn wait_for(&self, from: usize, what: &str, pred: impl Fn(&str) -> bool) -> usize {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            {
                let l = self.lines.lock().unwrap();
                if let Some(i) = l.iter().skip(from).position(|s| pred(s)) {
                    return from + i;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; output:\n{}",
                    self.lines().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Counts lines satisfying `pred`.
    pub fn count(&self, pred: impl Fn(&str) -> bool) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|s| pred(s))
            .count()
    }

    /// Stops with SIGTERM (clean) or SIGKILL (a crash) and waits.
    pub fn stop(mut self, kill: bool) -> Vec<String> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let sig = if kill {
            nix::sys::signal::Signal::SIGKILL
        } else {
            nix::sys::signal::Signal::SIGTERM
        };
        let _ = nix::sys::signal::kill(pid, sig);
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.lines()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
