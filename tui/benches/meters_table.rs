//! Rendering the meters table with 5,000 meters on a 160×48 TestBackend (goal < 5 ms/frame),
//! plus one filter keystroke over the same 5,000 rows.

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use voltvend_tui::api::Offline;
use voltvend_tui::app::{App, Screen};
use voltvend_tui::types::{MeterView, TenantRow};

fn site(n: usize) -> App {
    let mut app = App::new();
    app.session.token = Some("t".into());
    app.screen = Screen::Meters;
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let t = i / 2;
        let unit = format!(
            "{}-{}{:02}",
            ['A', 'B', 'C', 'D'][t % 4],
            1 + (t / 20) % 40,
            1 + t % 20
        );
        if i % 2 == 0 {
            app.data.tenants.push(TenantRow {
                tenant: format!("T{:05}", t),
                name: format!("Tenant {t}"),
                units: vec![unit.clone()],
                has_account: t % 9 != 0,
                balance_fen: (t as i64 * 7_919) % 60_000 - 2_000,
                category: "shop".into(),
                phone: None,
            });
        }
        rows.push(MeterView {
            meter: format!("31{:010}", i),
            unit: Some(unit),
            tenant: Some(format!("T{:05}", t)),
            gateway: format!("GW{}", 1 + t % 8),
            bus: (i % 4) as u8,
            address: format!("{}", 1 + i % 247),
            protocol: "dlt645".into(),
            profile: "dlt645-2007".into(),
            phases: "one".into(),
            billing: "host".into(),
            online: Some(i % 97 != 0),
            last_ok: None,
            last_error: None,
            power_w: Some((i as i64 * 37) % 7_000),
            total_wh: Some(i as i64 * 1_234),
            relay: "closed".into(),
            meter_balance_fen: None,
            lock: None,
            keep_power: false,
            building: None,
            floor: None,
        });
    }
    app.set_meters(rows);
    app
}

fn bench(c: &mut Criterion) {
    let mut app = site(5_000);
    app.meters.selected = 2_500;
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("backend");
    c.bench_function("meters_table_5000_160x48", |b| {
        b.iter(|| {
            term.draw(|f| voltvend_tui::ui::draw(f, black_box(&app)))
                .expect("draw");
        })
    });
    c.bench_function("filter_keystroke_5000", |b| {
        b.iter(|| {
            app.on_key(KeyEvent::from(KeyCode::Char('/')), &mut Offline);
            app.on_key(KeyEvent::from(KeyCode::Char('7')), &mut Offline);
            app.on_key(KeyEvent::from(KeyCode::Esc), &mut Offline);
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
