//! Reports against figures worked out by hand from a small site, and their exports read
//! back: the XLSX with calamine cell by cell (title, header, money and kWh cells and their
//! number format), the CSV with its BOM, quoting and exact decimals.

use jiff::Timestamp;
use voltvend::auth::roles::{Actor, Role};
use voltvend::field::readings;
use voltvend::ledger::{Ledger, MeterAccountInit, OpenAccount, Refund, Reverse, Sale, TransferIn};
use voltvend::report::{self, Params, export};
use voltvend::site::model::{BillingMode, Building, Meter, MeterAddress, Protocol, Tenant, Unit};
use voltvend::site::{BuildingId, MeterId, TenantId, UnitNo, repo};
use voltvend::store::Store;
use voltvend::units::Fen;

use crate::support::records::{host_meter, one_bus_gateway};
use crate::support::time::shanghai;

fn site() -> (tempfile::TempDir, Store, Ledger) {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(&dir.path().join("r.redb")).expect("store");
    let a = Actor::system("test");
    let txn = store.db().begin_write().expect("txn");
    repo::set_defaults(
        &txn,
        &a,
        &voltvend::site::model::SiteDefaults {
            alarm1: Fen(10_000),
            alarm2: Fen(3_000),
            ..Default::default()
        },
    )
    .expect("defaults");
    repo::upsert_building(
        &txn,
        &a,
        &Building {
            id: BuildingId::new("A"),
            name: "A座".into(),
            floors: Some(2),
        },
    )
    .expect("building");
    for (no, floor) in [("A-101", 1), ("A-201", 2)] {
        repo::upsert_unit(
            &txn,
            &a,
            &Unit {
                no: UnitNo::new(no),
                building: BuildingId::new("A"),
                floor,
                area_m2_x100: None,
            },
        )
        .expect("unit");
    }
    let gw = one_bus_gateway("GW1", "gw".into(), "tcp:127.0.0.1:1502", 9600);
    repo::upsert_gateway(&txn, &a, &gw).expect("gateway");
    for (i, (id, unit)) in [("M1", Some("A-101")), ("M2", Some("A-201")), ("M3", None)]
        .into_iter()
        .enumerate()
    {
        repo::upsert_meter(
            &txn,
            &a,
            &Meter {
                unit: unit.map(UnitNo::new),
                ..host_meter(
                    id,
                    MeterAddress::Modbus(i as u8 + 1),
                    Protocol::Modbus,
                    "acrel-ddsy1352-nk",
                    "GW1",
                )
            },
        )
        .expect("meter");
    }
    for (t, unit, name) in [
        ("T1", "A-101", "小王面馆, 二楼"),
        ("T2", "A-201", "晨光文具"),
    ] {
        repo::upsert_tenant(
            &txn,
            &a,
            &Tenant {
                id: TenantId::new(t),
                name: name.into(),
                category: "retail".into(),
                phone: None,
                units: vec![UnitNo::new(unit)],
                pin_hash: None,
            },
        )
        .expect("tenant");
    }
    // Readings, local time (Asia/Shanghai = UTC+8).
    let put = |meter: &str, local: &str, wh: i64, rollback: bool| {
        let at: Timestamp = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", local)
            .expect("time")
            .to_zoned_datetime(shanghai())
            .expect("zoned")
            .timestamp();
        readings::put_in(
            &txn,
            &crate::support::tariff::reading(meter, at, wh, rollback),
        )
        .expect("reading");
    };
    put("M1", "2026-11-01 00:30", 1_000, false);
    put("M1", "2026-11-01 12:00", 3_500, false);
    put("M1", "2026-11-02 09:00", 6_000, false);
    put("M1", "2026-11-03 23:59", 6_000, false);
    put("M2", "2026-11-01 08:00", 10_000, false);
    put("M2", "2026-11-02 08:00", 10_750, false);
    put("M2", "2026-11-03 08:00", 9_000, true);
    put("M3", "2026-10-31 23:00", 500, false);
    put("M3", "2026-11-01 01:00", 1_700, false);
    put("M3", "2026-11-04 01:00", 99_999, false); // after the range
    txn.commit().expect("commit");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    for (t, m, opening) in [("T1", "M1", 10_000), ("T2", "M2", 0)] {
        ledger
            .open_account(
                &a,
                &format!("open-{t}"),
                OpenAccount {
                    tenant: TenantId::new(t),
                    meters: vec![MeterAccountInit {
                        meter: MeterId::new(m),
                        billing: BillingMode::Host,
                    }],
                    transfer_in: (opening > 0).then(|| TransferIn {
                        amount: Fen(opening),
                        old_meter_serial: "OLD1".into(),
                    }),
                },
            )
            .expect("open");
    }
    (dir, store, ledger)
}

fn params(from: &str, to: &str, period: &str, group: &str) -> Params {
    Params::parse(
        Some(from),
        Some(to),
        Some(period),
        Some(group),
        None,
        "2026-11-30".parse().expect("date"),
    )
    .expect("params")
}

fn texts(t: &voltvend::report::Table) -> Vec<Vec<String>> {
    t.rows
        .iter()
        .map(|r| r.iter().enumerate().map(|(i, c)| t.display(i, c)).collect())
        .collect()
}

#[test]
fn energy_per_day_by_unit_and_floor_matches_the_hand_figures() {
    let (_d, store, _l) = site();
    let t = report::run(
        &store,
        "energy",
        &params("2026-11-01", "2026-11-03", "day", "unit"),
    )
    .expect("report");
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["unit", "11-01", "11-02", "11-03", "total kWh"]);
    // M3 (common): 1.20 on 11-01 (its 10-31 reading is the predecessor); M1: the first
    // reading of 11-01 has no predecessor, so 2.50 + 2.50; M2: 0.75, then a rollback (0).
    assert_eq!(
        texts(&t),
        [
            ["(common)", "1.20", "0.00", "0.00", "1.20"],
            ["A-101", "2.50", "2.50", "0.00", "5.00"],
            ["A-201", "0.00", "0.75", "0.00", "0.75"],
            ["total", "3.70", "3.25", "0.00", "6.95"],
        ]
    );
    let f = report::run(
        &store,
        "energy",
        &params("2026-11-01", "2026-11-03", "day", "floor"),
    )
    .expect("report");
    assert_eq!(
        texts(&f)
            .iter()
            .map(|r| (r[0].clone(), r[4].clone()))
            .collect::<Vec<_>>(),
        [
            ("(common)".to_string(), "1.20".to_string()),
            ("A F1".into(), "5.00".into()),
            ("A F2".into(), "0.75".into()),
            ("total".into(), "6.95".into())
        ]
    );
}

#[test]
fn sales_by_method_and_operator_with_refunds_and_reversals() {
    let (_d, store, ledger) = site();
    let amy = Actor::operator("amy", Role::Cashier);
    let bob = Actor::operator("bob", Role::Cashier);
    let sale = |who: &Actor, t: &str, fen: i64, method: &str, key: &str| {
        ledger
            .sale(
                who,
                key,
                Sale {
                    tenant: TenantId::new(t),
                    amount: Fen(fen),
                    method: method.into(),
                    receipt_no: None,
                    meter: None,
                },
            )
            .expect("sale")
    };
    sale(&amy, "T1", 5_000, "cash", "s1");
    sale(&amy, "T1", 2_000, "wechat", "s2");
    let bobs = sale(&bob, "T2", 3_000, "cash", "s3");
    ledger
        .refund(
            &amy,
            "r1",
            Refund {
                tenant: TenantId::new("T1"),
                amount: Fen(1_000),
                reason: "overpaid".into(),
                meter: None,
            },
        )
        .expect("refund");
    ledger
        .reverse(
            &amy,
            "v1",
            Reverse {
                op: bobs.op,
                reason: "wrong tenant".into(),
            },
        )
        .expect("reverse");
    let today = Timestamp::now()
        .to_zoned_datetime(shanghai())
        .date()
        .to_string();
    let t = report::run(&store, "sales", &params(&today, &today, "day", "unit")).expect("report");
    assert_eq!(
        texts(&t),
        [
            vec![
                today.as_str(),
                "cash",
                "op:amy",
                "1",
                "50.00",
                "0.00",
                "0.00",
                "50.00"
            ],
            vec![
                today.as_str(),
                "cash",
                "op:bob",
                "1",
                "30.00",
                "0.00",
                "0.00",
                "30.00"
            ],
            vec![
                today.as_str(),
                "refund",
                "op:amy",
                "0",
                "0.00",
                "10.00",
                "0.00",
                "-10.00"
            ],
            vec![
                today.as_str(),
                "reversal",
                "op:amy",
                "0",
                "0.00",
                "0.00",
                "-30.00",
                "-30.00"
            ],
            vec![
                today.as_str(),
                "wechat",
                "op:amy",
                "1",
                "20.00",
                "0.00",
                "0.00",
                "20.00"
            ],
            vec!["total", "", "", "3", "100.00", "10.00", "-30.00", "60.00"],
        ]
    );
    // Monthly: one period per method and operator, same total.
    let m = report::run(&store, "sales", &params(&today, &today, "month", "unit")).expect("report");
    assert_eq!(texts(&m).last().expect("total")[7], "60.00");
    // The open records: T1 with 100.00 carried over.
    let a =
        report::run(&store, "accounts", &params(&today, &today, "day", "unit")).expect("report");
    let rows = texts(&a);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (
            rows[0][1].as_str(),
            rows[0][2].as_str(),
            rows[0][4].as_str()
        ),
        ("open", "T1", "100.00")
    );
}

#[test]
fn status_report_and_its_exports_read_back() {
    let (dir, store, _l) = site();
    let t = report::run(
        &store,
        "status",
        &params("2026-11-01", "2026-11-03", "day", "unit"),
    )
    .expect("report");
    let rows = texts(&t);
    // M1: T1 at 100.00 (= the default level-1 amount: alarm 1); M2: T2 at 0 (arrears);
    // M3: no tenant (unopened). Latest readings: 6.000, 9.000 (after the rollback), 99.999.
    assert_eq!(
        rows[0][..6],
        ["M1", "A-101", "小王面馆, 二楼", "host", "alarm 1", "100.00"]
    );
    assert_eq!(rows[1][4], "arrears");
    assert_eq!(rows[2][4], "unopened");
    assert_eq!(
        (rows[0][8].as_str(), rows[2][8].as_str()),
        ("6.00", "100.00")
    );

    // CSV: BOM, header, quoted Chinese text with a comma, exact kWh.
    let csv = export::csv(&t).expect("csv");
    assert_eq!(&csv[..3], &[0xEF, 0xBB, 0xBF]);
    let text = String::from_utf8(csv[3..].to_vec()).expect("utf-8");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header[0], "meter");
    let recs: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
    assert_eq!(&recs[0][2], "小王面馆, 二楼");
    assert_eq!(&recs[0][5], "100.00");
    assert_eq!(&recs[2][8], "99.999");

    // XLSX read back with calamine.
    use calamine::{Data, Reader, Xlsx};
    let path = dir.path().join("status.xlsx");
    std::fs::write(&path, export::xlsx(&t).expect("xlsx")).expect("write");
    let mut wb: Xlsx<_> = calamine::open_workbook(&path).expect("open");
    let sheet = wb.worksheet_range_at(0).expect("sheet").expect("range");
    let cell = |r: u32, c: u32| sheet.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    assert!(matches!(cell(0, 0), Data::String(s) if s.starts_with("Meter status")));
    assert_eq!(cell(1, 0), Data::String("meter".into()));
    assert_eq!(cell(1, 5), Data::String("balance".into()));
    assert_eq!(cell(2, 0), Data::String("M1".into()));
    assert_eq!(cell(2, 2), Data::String("小王面馆, 二楼".into()));
    assert_eq!(cell(2, 5), Data::Float(100.0));
    assert_eq!(cell(2, 8), Data::Float(6.0));
    assert_eq!(cell(4, 8), Data::Float(99.999));
    // Money and energy cells carry the 0.00 number format.
    let styles = {
        use std::io::Read;
        let f = std::fs::File::open(&path).expect("file");
        let mut z = zip::ZipArchive::new(f).expect("zip");
        let mut s = String::new();
        z.by_name("xl/styles.xml")
            .expect("styles")
            .read_to_string(&mut s)
            .expect("read");
        s
    };
    assert!(styles.contains("formatCode=\"0.00\""), "{styles}");
}

#[test]
fn bad_parameters_get_one_clear_error() {
    let (_d, store, _l) = site();
    let today: jiff::civil::Date = "2026-11-30".parse().expect("date");
    let e = Params::parse(Some("2026-11-31"), None, None, None, None, today).expect_err("bad date");
    assert!(e.to_string().contains("--from '2026-11-31'"), "{e}");
    let e = Params::parse(
        Some("2026-11-05"),
        Some("2026-11-01"),
        None,
        None,
        None,
        today,
    )
    .expect_err("order");
    assert_eq!(e.to_string(), "--to 2026-11-01 is before --from 2026-11-05");
    let e = report::run(
        &store,
        "nope",
        &params("2026-11-01", "2026-11-02", "day", "unit"),
    )
    .expect_err("name");
    assert!(
        e.to_string()
            .starts_with("no report named 'nope'; reports: sales, energy"),
        "{e}"
    );
    let e = report::run(
        &store,
        "readings",
        &params("2026-11-01", "2026-11-02", "day", "unit"),
    )
    .expect_err("meter");
    assert_eq!(e.to_string(), "the readings report needs --meter");
}

#[test]
fn metering_meters_per_day_and_month_match_the_hand_figures() {
    let (_d, store, _l) = site();
    // M1 and M2 are on open accounts; M3 (no unit: a common-area circuit) is the metering
    // meter. By day: 1.20 on 11-01 (10-31 23:00 → 11-01 01:00), nothing after.
    let t = report::run(
        &store,
        "metering-energy",
        &params("2026-11-01", "2026-11-03", "day", "unit"),
    )
    .expect("report");
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "meter (circuit)",
            "where",
            "2026-11-01",
            "2026-11-02",
            "2026-11-03",
            "total kWh"
        ]
    );
    assert_eq!(
        texts(&t),
        [
            ["M3", "(common)", "1.20", "0.00", "0.00", "1.20"],
            ["total", "", "1.20", "0.00", "0.00", "1.20"],
        ]
    );
    // By month over October and November: October's only reading has no predecessor (0);
    // November: 1,200 Wh on the 1st plus 99,999 − 1,700 = 98,299 Wh on the 4th.
    let m = report::run(
        &store,
        "metering-energy",
        &params("2026-10-01", "2026-11-30", "month", "unit"),
    )
    .expect("report");
    let names: Vec<&str> = m.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "meter (circuit)",
            "where",
            "2026-10",
            "2026-11",
            "total kWh"
        ]
    );
    assert_eq!(
        m.rows[0],
        vec![
            report::table::Cell::text("M3"),
            report::table::Cell::text("(common)"),
            report::table::Cell::Int(0),
            report::table::Cell::Int(99_499),
            report::table::Cell::Int(99_499),
        ]
    );
    // The same through the CSV export (exact Wh as kWh with three decimals).
    let csv = String::from_utf8(export::csv(&m).expect("csv")).expect("utf8");
    assert!(csv.contains("M3,(common),0.000,99.499,99.499"), "{csv}");
}
