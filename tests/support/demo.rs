//! Shared by the end-to-end tests on the demo site: the seeded store (one day of history),
//! the daemon composition on port 0, and the demo's simulated building read by the real
//! collector (control queue and alarms are left to each test).

use std::time::Duration;

use jiff::Timestamp;
use voltvend::control::ControlConfig;
use voltvend::daemon::Daemon;
use voltvend::daemon::demo_field::{self, DemoField, DemoFieldOptions};
use voltvend::daemon::seed::seed_demo_days;
use voltvend::field::live::LiveState;
use voltvend::ledger::Ledger;
use voltvend::sim::{MeterHandle, SimAddress, SimProtocol};
use voltvend::store::Store;

pub struct DemoSite {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub ledger: Ledger,
    pub live: LiveState,
    pub daemon: Daemon,
    pub field: DemoField,
}

/// The control queue's settings for the demo-site tests: a pass every 200 ms, a retry
/// after 300 ms.
pub fn quick_control() -> ControlConfig {
    ControlConfig {
        poll: Duration::from_millis(200),
        backoff: Duration::from_millis(300),
        ..Default::default()
    }
}

/// The demo site with its simulated building running (real clock, no acceleration, full
/// reads hourly: live sweeps keep the values fresh).
pub async fn start() -> DemoSite {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("v.redb");
    let store = Store::open(&db).expect("store");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    let (s, l) = (store.clone(), ledger.clone());
    tokio::task::spawn_blocking(move || seed_demo_days(&s, &l, Timestamp::now(), 1))
        .await
        .expect("join")
        .expect("seed");
    let live = LiveState::new();
    let daemon = Daemon::start_with(
        super::field::daemon_config(&db),
        store.clone(),
        ledger.clone(),
        live.clone(),
    )
    .await
    .expect("daemon");
    let field = demo_field::start(
        &store,
        &ledger,
        live.clone(),
        &dir.path().join("keys"),
        &DemoFieldOptions {
            accel: 1,
            collection_interval: Duration::from_secs(3600),
            ..Default::default()
        },
    )
    .await
    .expect("field");
    DemoSite {
        dir,
        store,
        ledger,
        live,
        daemon,
        field,
    }
}

impl DemoSite {
    /// The simulated meter of a meter id (DL/T 645 meters: the id is the address; Modbus
    /// meters: the one whose serial is the id).
    pub fn sim_meter(&self, id: &str) -> MeterHandle {
        self.field
            .building
            .buses()
            .iter()
            .find_map(|b| {
                if b.protocol() == SimProtocol::Dlt645 {
                    b.meter(&SimAddress::parse(SimProtocol::Dlt645, id).ok()?)
                } else {
                    b.addresses()
                        .into_iter()
                        .filter_map(|a| b.meter(&a))
                        .find(|h| h.snapshot().serial == id)
                }
            })
            .expect("simulated meter")
    }

    /// Runs the control queue on the demo's collector with `config`.
    pub fn run_control(&mut self, config: ControlConfig) {
        self.daemon
            .run_control(self.field.collector.clone(), config);
    }

    pub async fn stop(self) {
        self.daemon.stop().await;
        self.field.stop().await;
    }
}
