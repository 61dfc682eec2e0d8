//! Shared by the console's test binaries: a fixed site state for snapshots, buffer → text,
//! snapshot files, key presses, and starting the real `voltvend demo` binary.
//!
//! Each binary uses part of this module, hence the `dead_code` allow.
#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use voltvend_tui::api::{Offline, Transport};
use voltvend_tui::app::{App, Screen};
use voltvend_tui::types::{GatewayView, MeterLock, MeterView, SiteStatus, TenantRow};

/// Presses `code` with no daemon behind the console.
pub fn press(app: &mut App, code: KeyCode) {
    key(app, &mut Offline, code);
}

/// Types `s` with no daemon behind the console.
pub fn typed(app: &mut App, s: &str) {
    keys(app, &mut Offline, s);
}

/// Presses `code` with `api` behind the console.
pub fn key(app: &mut App, api: &mut dyn Transport, code: KeyCode) {
    app.on_key(KeyEvent::from(code), api);
}

/// Types `s` with `api` behind the console.
pub fn keys(app: &mut App, api: &mut dyn Transport, s: &str) {
    for c in s.chars() {
        key(app, api, KeyCode::Char(c));
    }
}

/// A site like the demo's, built from literals of the API's types so snapshots do not move
/// and a change of the contract shows here.
pub fn fixture(meters: usize) -> App {
    let mut app = App::new();
    app.today = "2026-11-25".into();
    app.session.token = Some("t".into());
    app.session.operator = Some(("cashier1".into(), "cashier".into()));
    app.screen = Screen::Dashboard;
    app.data.status = Some(SiteStatus {
        site_name: "Galaxy Plaza (test)".into(),
        meters,
        meters_offline: 1,
        tenants: meters / 2,
        tenants_in_arrears: 1,
        outbox_pending: 2,
        receipts_failed: 1,
        topups_needing_refund: 0,
    });
    app.data.gateways = vec![
        GatewayView {
            gateway: "GW1".into(),
            name: "A tower switch room".into(),
            link: "tcp".into(),
            buses: 3,
            online: true,
            last_error: None,
            last_cycle_ms: Some(840),
        },
        GatewayView {
            gateway: "GW2".into(),
            name: "B tower switch room".into(),
            link: "tcp".into(),
            buses: 3,
            online: false,
            last_error: Some("connect refused".into()),
            last_cycle_ms: None,
        },
    ];
    app.data.sales_today = (3, 35_000);
    let names = [
        "Noodle House",
        "Stationery",
        "Tea Room",
        "Florist",
        "Pharmacy",
        "Bakery",
        "Barber",
    ];
    let balances: [i64; 7] = [18_650, 8_000, -1_250, 2_500, 250_000, 0, 40_000];
    let mut tenants = Vec::new();
    let mut rows = Vec::new();
    for i in 0..meters {
        let t = i / 2;
        let unit = format!(
            "{}-{}{:02}",
            if t % 2 == 0 { 'A' } else { 'B' },
            1 + (t / 20) % 30,
            1 + t % 20
        );
        if i % 2 == 0 {
            tenants.push(TenantRow {
                tenant: format!("T{:04}", t + 1),
                name: format!("{} {}", names[t % 7], t + 1),
                units: vec![unit.clone()],
                category: "shop".into(),
                phone: None,
                has_account: t % 11 != 5,
                balance_fen: balances[t % 7],
            });
        }
        rows.push(MeterView {
            meter: format!("3100{:08}", i + 1),
            unit: Some(unit),
            tenant: Some(format!("T{:04}", t + 1)),
            gateway: format!("GW{}", 1 + t % 2),
            bus: 1 + (i % 3) as u8,
            address: format!("{}", 1 + i % 247),
            protocol: if i % 2 == 0 {
                "dlt645".into()
            } else {
                "modbus".into()
            },
            profile: if i % 2 == 0 {
                "dlt645-2007".into()
            } else {
                "generic-modbus".into()
            },
            phases: "one".into(),
            billing: if i % 2 == 0 {
                "meter".into()
            } else {
                "host".into()
            },
            online: if i == 7 { Some(false) } else { Some(true) },
            last_ok: Some("2026-11-25T01:00:00Z".into()),
            last_error: None,
            power_w: Some(((i * 379) % 6000) as i64),
            total_wh: Some(1_000_000 + (i as i64) * 12_345),
            relay: if i == 4 {
                "open".into()
            } else {
                "closed".into()
            },
            meter_balance_fen: None,
            lock: if i == 9 {
                Some(MeterLock {
                    meter: format!("3100{:08}", i + 1),
                    by: "op:admin".into(),
                    reason: "maintenance".into(),
                    at: "2026-11-25T00:00:00Z".into(),
                })
            } else {
                None
            },
            // A cold store on keep-power.
            keep_power: i == 1,
            building: None,
            floor: None,
        });
    }
    app.data.tenants = tenants;
    app.set_meters(rows);
    app
}

pub fn render(app: &App, w: u16, h: u16) -> ratatui::buffer::Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| voltvend_tui::ui::draw(f, app)).expect("draw");
    t.backend().buffer().clone()
}

pub fn text(buf: &ratatui::buffer::Buffer) -> String {
    let mut s = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// What [`snapshot`] does with a rendered screen.
#[derive(Debug, PartialEq, Eq)]
pub enum SnapshotAction {
    /// Compare with the stored file.
    Compare,
    /// Write the file (then review and commit it).
    Write,
    /// Fail: the file is missing.
    Missing,
}

/// Under CI (`CI` set, as .ci/run does) a snapshot is never written, so a missing file
/// fails instead of passing against itself; locally a missing file is written and
/// `UPDATE_SNAPSHOTS=1` rewrites existing ones.
pub fn snapshot_action(ci: bool, update: bool, exists: bool) -> SnapshotAction {
    match (ci, exists) {
        (true, true) => SnapshotAction::Compare,
        (true, false) => SnapshotAction::Missing,
        (false, false) => SnapshotAction::Write,
        (false, true) if update => SnapshotAction::Write,
        (false, true) => SnapshotAction::Compare,
    }
}

/// Whether the tests run under CI: `CI` set to anything but empty, `0` or `false`.
fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// Compares with tests/snapshots/NAME_WxH.txt (see [`snapshot_action`] for when it is
/// written instead).
pub fn snapshot(name: &str, app: &App, w: u16, h: u16) -> String {
    let got = text(&render(app, w, h));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}_{w}x{h}.txt"));
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    match snapshot_action(on_ci(), update, path.exists()) {
        SnapshotAction::Write => {
            std::fs::write(&path, &got).expect("write snapshot");
            eprintln!("wrote snapshot {} (review and commit it)", path.display());
        }
        SnapshotAction::Missing => panic!(
            "snapshot {} is missing: run the test without CI set to write it, review and commit it",
            path.display()
        ),
        SnapshotAction::Compare => {
            let want = std::fs::read_to_string(&path).expect("read snapshot");
            assert_eq!(
                got,
                want,
                "snapshot {} differs (UPDATE_SNAPSHOTS=1 to accept)",
                path.display()
            );
        }
    }
    got
}

/// The real `voltvend` binary next to this test's build (cargo builds it for the workspace's
/// tests); `VOLTVEND_BIN` overrides.
pub fn voltvend_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("VOLTVEND_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    let p = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("voltvend");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build -p voltvend` first (or set VOLTVEND_BIN)",
        p.display()
    );
    p
}

/// A running `voltvend demo` in a temp dir; killed on drop.
pub struct Demo {
    pub child: Child,
    pub socket: PathBuf,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Demo {
    pub fn start() -> Demo {
        let dir = tempfile::tempdir().expect("tempdir");
        // Port 0: the demo binds a free port itself (a port picked here and released could
        // be taken by the demo's own listeners before it binds HTTP); the ready line says
        // which.
        let errors = std::fs::File::create(dir.path().join("demo.stderr")).expect("stderr file");
        let mut child = Command::new(voltvend_bin())
            .args(["demo", "--port", "0", "--data"])
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(errors)
            .spawn()
            .expect("start voltvend demo");
        let out = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .expect("demo output");
        assert!(
            line.contains("voltvend demo ready"),
            "demo did not start: {line:?}; its stderr: {}",
            std::fs::read_to_string(dir.path().join("demo.stderr")).unwrap_or_default()
        );
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .expect("the kiosk URL in the ready line");
        let socket = dir.path().join("api.sock");
        Demo {
            child,
            socket,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
