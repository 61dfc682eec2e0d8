//! A small Chrome DevTools Protocol client over `--remote-debugging-pipe` (no WebSocket,
//! no extra crates): Chromium reads NUL-terminated JSON commands on fd 3 and writes
//! replies and events on fd 4. Enough to drive the kiosk like a person: navigate, click
//! at an element's position with real mouse events, read the DOM, set the viewport and
//! take screenshots.

#![allow(dead_code)]

use base64::Engine;
use serde_json::{Value, json};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

pub struct Browser {
    child: Child,
    to_chrome: File,
    from_chrome: Receiver<Value>,
    next_id: u64,
    session: String,
    _profile: tempfile::TempDir,
}

fn chromium_path() -> String {
    for p in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if std::path::Path::new(p).exists() {
            return p.to_string();
        }
    }
    panic!(
        "headless Chromium is needed for the kiosk tests: apt-get install chromium (listed in .ci/apt-packages)"
    );
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let (r, w) = nix::unistd::pipe().expect("pipe");
    (r, w)
}

impl Browser {
    /// Starts headless Chromium with a fresh profile and opens one page.
    pub fn launch() -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        // Our end writes into `cmd_w`; Chromium reads fd 3 (`cmd_r`). Chromium writes fd 4
        // (`ev_w`); we read `ev_r`.
        let (cmd_r, cmd_w) = pipe();
        let (ev_r, ev_w) = pipe();
        let (cr, ew) = (cmd_r.as_raw_fd(), ev_w.as_raw_fd());
        let mut cmd = Command::new(chromium_path());
        cmd.args([
            "--headless=new",
            "--remote-debugging-pipe",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--hide-scrollbars",
            "--font-render-hinting=none",
            "--lang=zh-CN",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: between fork and exec we only call async-signal-safe dup2.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(cr, 3) < 0 || libc::dup2(ew, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start chromium");
        drop(cmd_r);
        drop(ev_w);
        let to_chrome = File::from(cmd_w);
        let (tx, rx) = channel();
        let reader = File::from(ev_r);
        std::thread::spawn(move || {
            let mut r = BufReader::new(reader);
            loop {
                let mut buf = Vec::new();
                match r.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if buf.last() == Some(&0) {
                            buf.pop();
                        }
                        if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                            && tx.send(v).is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        let mut b = Browser {
            child,
            to_chrome,
            from_chrome: rx,
            next_id: 0,
            session: String::new(),
            _profile: profile,
        };
        let t = b.raw(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target = t["targetId"].as_str().expect("targetId").to_string();
        let a = b.raw(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        b.session = a["sessionId"].as_str().expect("sessionId").to_string();
        b.call("Page.enable", json!({}));
        b.call("Runtime.enable", json!({}));
        b
    }

    fn raw(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).expect("json");
        bytes.push(0);
        self.to_chrome.write_all(&bytes).expect("write to chromium");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from_chrome
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no answer from chromium to {method}"));
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method} failed: {e}");
                }
                return v["result"].clone();
            }
        }
    }

    /// A command on the page's session.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let s = self.session.clone();
        self.raw(Some(&s), method, params)
    }

    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for(
            "document.readyState === 'complete'",
            Duration::from_secs(15),
        );
    }

    /// Evaluates `js` (awaiting a promise) and returns its JSON value.
    pub fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("script failed: {js}\n{e}");
        }
        r["result"]["value"].clone()
    }

    pub fn eval_str(&mut self, js: &str) -> String {
        match self.eval(js) {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }

    /// Polls until `cond` (a JS expression) is truthy.
    pub fn wait_for(&mut self, cond: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.call(
                "Runtime.evaluate",
                json!({"expression": format!("!!({cond})"), "returnByValue": true}),
            );
            if r["result"]["value"] == json!(true) {
                return;
            }
            if Instant::now() > deadline {
                let body = self.eval_str("document.body ? document.body.innerText : ''");
                panic!("timed out waiting for {cond}\npage text:\n{body}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the centre of the first element matching `selector` with real mouse events,
    /// after scrolling it into view. Fails if another element covers that point.
    pub fn click(&mut self, selector: &str) {
        let sel = serde_json::to_string(selector).expect("json");
        let r = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; \
             e.scrollIntoView({{block: 'center'}}); const b = e.getBoundingClientRect(); \
             const x = b.left + b.width / 2, y = b.top + b.height / 2; \
             const top = document.elementFromPoint(x, y); \
             return {{x, y, covered: !(top === e || e.contains(top))}}; }})()"
        ));
        assert!(!r.is_null(), "no element {selector}");
        assert_eq!(
            r["covered"],
            json!(false),
            "{selector} is covered by another element"
        );
        let (x, y) = (
            r["x"].as_f64().unwrap_or(0.0),
            r["y"].as_f64().unwrap_or(0.0),
        );
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Clicks the keypad key `key` (`0`-`9`, `-`, `.`, a building letter, `del`, `clear`)
    /// of the keypad `pad` (a selector such as `#login-pad`).
    pub fn press_key(&mut self, pad: &str, key: &str) {
        self.click(&format!("{pad} button[data-key=\"{key}\"]"));
    }

    /// Types `text` on the keypad `pad`, one key press per character.
    pub fn type_on_pad(&mut self, pad: &str, text: &str) {
        for c in text.chars() {
            self.press_key(pad, &c.to_string());
        }
    }

    pub fn set_viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
    }

    /// Saves a PNG of the whole page (beyond the viewport when `full`).
    pub fn screenshot(&mut self, path: &std::path::Path, full: bool) {
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": full}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().expect("data"))
            .expect("base64");
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).expect("screenshot dir");
        }
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
