//! Batch import from CSV: a bad file changes nothing and names every problem with
//! FILE:LINE and the column; a re-import is a no-op; a changed row updates by key.

use std::path::{Path, PathBuf};
use voltvend::auth::Actor;
use voltvend::import::{ImportError, Kind, Report, dump, import_file};
use voltvend::site::{MeterAddress, repo};
use voltvend::store::Store;
use voltvend::units::Fen;

use crate::support::bin;
use crate::support::store::{example_site as site, examples};

fn actor() -> Actor {
    Actor::system("test")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Imports `text` as `kind`, expects it to fail, checks the store is byte-for-byte the
/// same as before, and returns the messages with the temp dir replaced by `DIR`.
fn rejected(store: &Store, dir: &Path, kind: Kind, text: &str) -> Vec<String> {
    let before = dump(store).unwrap();
    let file = write(dir, &format!("{}.csv", kind.as_str()), text);
    let err = import_file(store, &actor(), kind, &file, false).unwrap_err();
    assert_eq!(
        dump(store).unwrap(),
        before,
        "a failed import changed the store"
    );
    match err {
        ImportError::Invalid { problems, .. } => problems
            .iter()
            .map(|p| p.to_string().replace(&dir.display().to_string(), "DIR"))
            .collect(),
        other => panic!("expected problems, got {other}"),
    }
}

const METER_HEADER: &str = "id,address,protocol,profile,phases,gateway,bus,unit,billing,tariff,power_limit_w,alarm1,alarm2\n";

#[test]
fn wrong_header_is_reported_and_changes_nothing() {
    let (dir, store) = site(Kind::Gateways);
    let msgs = rejected(
        &store,
        dir.path(),
        Kind::Meters,
        "id,adress,protocol,profile,gateway,bus,bus\nM1,5,modbus,generic-modbus,GW1,1,1\n",
    );
    assert_eq!(
        msgs,
        [
            "DIR/meters.csv:1: unknown column 'adress' (expected one of: id, address, protocol, \
             profile, phases, gateway, bus, unit, billing, tariff, power_limit_w, alarm1, alarm2)",
            "DIR/meters.csv:1: column 'bus' appears twice",
            "DIR/meters.csv:1: missing column 'address'",
        ]
    );
}

#[test]
fn bad_numbers_and_addresses_are_all_reported() {
    let (dir, store) = site(Kind::Gateways);
    let text = format!(
        "{METER_HEADER}\
         M1,300,modbus,generic-modbus,1,GW1,1,A-101,host,,,,\n\
         M2,12345,dlt645,generic-dlt645,3,GW2,1,,meter,,,,\n\
         M3,7,modbus,generic-modbus,2,GW1,one,,host,,ten,5.005,¥-1\n\
         M4,8,modbus,generic-modbus,1,GW1,1,,host,,,20.00,50.00\n"
    );
    assert_eq!(
        rejected(&store, dir.path(), Kind::Meters, &text),
        [
            "DIR/meters.csv:2: column 'address': '300' is not a valid address (1-247)",
            "DIR/meters.csv:3: column 'address': '12345' is not a valid DL/T 645 address \
             (12 decimal digits)",
            "DIR/meters.csv:4: column 'phases': '2' is not a valid phase count (1 or 3)",
            "DIR/meters.csv:4: column 'bus': 'one' is not a valid bus number (1-255)",
            "DIR/meters.csv:4: column 'power_limit_w': 'ten' is not a valid power in W \
             (a whole number above 0)",
            "DIR/meters.csv:4: column 'alarm1': '5.005' has more than 2 decimal places \
             (an amount in yuan, e.g. 50.00)",
            "DIR/meters.csv:4: column 'alarm2': '¥-1' is negative, which is not allowed here \
             (an amount in yuan, e.g. 50.00)",
            "DIR/meters.csv:5: column 'alarm2': level 2 (¥50.00) must not be above level 1 \
             (¥20.00)",
        ]
    );
}

#[test]
fn duplicate_keys_and_clashing_addresses_are_reported() {
    let (dir, store) = site(Kind::Meters);
    let text = format!(
        "{METER_HEADER}\
         N1,20,modbus,generic-modbus,1,GW1,1,,host,,,,\n\
         N1,21,modbus,generic-modbus,1,GW1,1,,host,,,,\n\
         N2,20,modbus,generic-modbus,1,GW1,1,,host,,,,\n\
         N3,1,modbus,generic-modbus,1,GW1,1,,host,,,,\n"
    );
    assert_eq!(
        rejected(&store, dir.path(), Kind::Meters, &text),
        [
            "DIR/meters.csv:3: column 'id': 'N1' is also on line 2",
            "DIR/meters.csv:4: column 'address': address 20 on gateway 'GW1' bus 1 is also \
             used by meter 'N1' (line 2)",
            "DIR/meters.csv:5: column 'address': address 1 on gateway 'GW1' bus 1 is already \
             used by meter 'A101-1'",
        ]
    );
    let units = "unit,building,floor\nC-1,A,1\nC-1,A,2\n";
    assert_eq!(
        rejected(&store, dir.path(), Kind::Units, units),
        ["DIR/units.csv:3: column 'unit': 'C-1' is also on line 2"]
    );
}

#[test]
fn unknown_references_are_reported() {
    let (dir, store) = site(Kind::Gateways);
    let text = format!(
        "{METER_HEADER}\
         M1,5,modbus,generic-modbus,1,GW9,1,A-101,host,,,,\n\
         M2,6,modbus,generic-modbus,1,GW1,3,A-999,host,night,,,\n\
         M3,300,modbus,generic-modbus,1,GW8,1,A-998,host,,,,\n"
    );
    assert_eq!(
        rejected(&store, dir.path(), Kind::Meters, &text),
        [
            "DIR/meters.csv:2: column 'gateway': gateway 'GW9' does not exist; import it \
             first (voltvend import gateways)",
            "DIR/meters.csv:3: column 'bus': gateway 'GW1' has no bus 3 (it has 1, 2)",
            "DIR/meters.csv:3: column 'unit': unit 'A-999' does not exist; import it first \
             (voltvend import units)",
            "DIR/meters.csv:3: column 'tariff': tariff 'night' does not exist",
            // A row with a bad cell still has its references checked.
            "DIR/meters.csv:4: column 'address': '300' is not a valid address (1-247)",
            "DIR/meters.csv:4: column 'gateway': gateway 'GW8' does not exist; import it \
             first (voltvend import gateways)",
            "DIR/meters.csv:4: column 'unit': unit 'A-998' does not exist; import it first \
             (voltvend import units)",
        ]
    );
    let units = "unit,building,floor\nC-1,C,1\nA-1301,A,13\n";
    assert_eq!(
        rejected(&store, dir.path(), Kind::Units, units),
        [
            "DIR/units.csv:2: column 'building': building 'C' does not exist; import it \
             first (voltvend import buildings)",
            "DIR/units.csv:3: column 'floor': '13' is above the top floor of building 'A' (12)",
        ]
    );
}

#[test]
fn tenants_units_and_gateway_buses_in_use_are_guarded() {
    let (dir, store) = site(Kind::Tenants);
    let tenants = "id,name,category,units\nT0100,Kiosk,retail,A-101\nT0101,Cart,零食,B-102\n";
    assert_eq!(
        rejected(&store, dir.path(), Kind::Tenants, tenants),
        [
            "DIR/tenants.csv:2: column 'units': unit 'A-101' already belongs to tenant 'T0001'",
            "DIR/tenants.csv:3: column 'category': '零食' is not a valid category (e.g. \
             retail/零售, restaurant/餐饮, supermarket/超市, cinema/影院, office/办公, \
             entertainment/娱乐, service/服务, other/其他)",
        ]
    );
    let gateways = "id,name,link,buses\nGW1,Tower A riser,tcp:10.0.10.21:502,1:9600:8N1\n";
    let msgs = rejected(&store, dir.path(), Kind::Gateways, gateways);
    assert_eq!(
        msgs[0],
        "DIR/gateways.csv:2: column 'buses': bus 2 is used by meter 'A201-1'; keep it in the list"
    );
    assert_eq!(msgs.len(), 2, "{msgs:?}");
}

#[test]
fn rows_wider_than_the_header_and_empty_required_cells() {
    let (dir, store) = site(Kind::Buildings);
    let text = "id,name,floors\nC,Block C,3,extra\n,Nameless,2\nD,,0\n";
    assert_eq!(
        rejected(&store, dir.path(), Kind::Buildings, text),
        [
            "DIR/buildings.csv:2: the row has 4 cells, the header has 3",
            "DIR/buildings.csv:3: column 'id': the value is empty",
            "DIR/buildings.csv:4: column 'name': the value is empty",
            "DIR/buildings.csv:4: column 'floors': '0' is not a valid floor count (1-200)",
        ]
    );
}

fn report(added: usize, updated: usize, unchanged: usize) -> Report {
    Report {
        kind: Kind::Meters,
        added,
        updated,
        unchanged,
        dry_run: false,
    }
}

#[test]
fn reimporting_the_same_file_is_a_no_op() {
    let (_dir, store) = site(Kind::Tenants);
    let before = dump(&store).unwrap();
    let file = examples().join("meters.csv");
    let r = import_file(&store, &actor(), Kind::Meters, &file, false).unwrap();
    assert_eq!(r, report(0, 0, 10));
    assert_eq!(
        r.to_string(),
        "meters imported: 0 added, 0 updated, 10 unchanged"
    );
    // Not even an audit entry: the store is exactly as it was.
    assert_eq!(dump(&store).unwrap(), before);
    for kind in [Kind::Buildings, Kind::Units, Kind::Gateways, Kind::Tenants] {
        let file = examples().join(format!("{}.csv", kind.as_str()));
        let r = import_file(&store, &actor(), kind, &file, false).unwrap();
        assert_eq!((r.added, r.updated), (0, 0), "{kind:?}");
    }
    assert_eq!(dump(&store).unwrap(), before);
}

#[test]
fn a_changed_row_updates_by_key_and_absent_columns_keep_their_values() {
    let (dir, store) = site(Kind::Meters);
    // Move A101-1 to address 9 and add a new meter; the file has no alarm/tariff columns,
    // so A102-1 keeps its stored alarm levels.
    let text = "id,address,profile,gateway,bus,unit\n\
                A101-1,9,generic-modbus,GW1,1,A-101\n\
                A102-1,2,generic-modbus,GW1,1,A-102\n\
                A103-1,10,generic-modbus,GW1,1,\n";
    let file = write(dir.path(), "meters.csv", text);
    let dry = import_file(&store, &actor(), Kind::Meters, &file, true).unwrap();
    assert_eq!((dry.added, dry.updated, dry.unchanged), (1, 1, 1));
    assert!(repo::get_meter(&store, &"A103-1".into()).unwrap().is_none());
    let r = import_file(&store, &actor(), Kind::Meters, &file, false).unwrap();
    assert_eq!(r, report(1, 1, 1));
    let m = repo::get_meter(&store, &"A101-1".into()).unwrap().unwrap();
    assert_eq!(m.address, MeterAddress::Modbus(9));
    assert_eq!(m.power_limit_w, Some(8000), "absent column kept");
    let m = repo::get_meter(&store, &"A102-1".into()).unwrap().unwrap();
    assert_eq!((m.alarm1, m.alarm2), (Some(Fen(5000)), Some(Fen(2000))));
    // Address 1 is free again, 9 is taken.
    let clash = format!("{METER_HEADER}X1,9,modbus,generic-modbus,1,GW1,1,,host,,,,\n");
    assert_eq!(
        rejected(&store, dir.path(), Kind::Meters, &clash),
        [
            "DIR/meters.csv:2: column 'address': address 9 on gateway 'GW1' bus 1 is already \
          used by meter 'A101-1'"
        ]
    );
    let free = format!("{METER_HEADER}X1,1,modbus,generic-modbus,1,GW1,1,,host,,,,\n");
    let file = write(dir.path(), "meters.csv", &free);
    assert_eq!(
        import_file(&store, &actor(), Kind::Meters, &file, false).unwrap(),
        report(1, 0, 0)
    );
    // An empty optional cell clears the value.
    let clear = "id,address,profile,gateway,bus,power_limit_w\nA101-1,9,generic-modbus,GW1,1,\n";
    let file = write(dir.path(), "meters.csv", clear);
    import_file(&store, &actor(), Kind::Meters, &file, false).unwrap();
    let m = repo::get_meter(&store, &"A101-1".into()).unwrap().unwrap();
    assert_eq!(m.power_limit_w, None);
    assert_eq!(m.unit, Some("A-101".into()), "absent column kept");
}

#[test]
fn bom_gbk_chinese_headers_and_inferred_protocol() {
    let (dir, store) = site(Kind::Gateways);
    let utf8 = "\u{feff}表号,通讯地址,型号,网关,总线,户号\n\
                C1,000000002001,generic-dlt645,GW2,1,B-101\n\
                C2,17,generic-modbus,GW1,2,\n";
    let file = write(dir.path(), "meters.csv", utf8);
    let r = import_file(&store, &actor(), Kind::Meters, &file, false).unwrap();
    assert_eq!(r, report(2, 0, 0));
    let c1 = repo::get_meter(&store, &"C1".into()).unwrap().unwrap();
    assert_eq!(c1.address, MeterAddress::Dlt645("000000002001".into()));
    let gbk = encoding_rs::GBK
        .encode("租户编号,名称,业态,手机,户号\nT1,兰州拉面,餐饮,138 0013 8000,A-101\n")
        .0;
    let path = dir.path().join("tenants.csv");
    std::fs::write(&path, &gbk).unwrap();
    import_file(&store, &actor(), Kind::Tenants, &path, false).unwrap();
    let t = repo::get_tenant(&store, &"T1".into()).unwrap().unwrap();
    assert_eq!(t.name, "兰州拉面");
    assert_eq!(t.category, "restaurant");
    assert_eq!(t.phone.as_deref(), Some("13800138000"));
}

#[test]
fn unreadable_files_are_reported() {
    let (dir, store) = site(Kind::Buildings);
    let empty = write(dir.path(), "b.csv", "\n\n");
    let err = import_file(&store, &actor(), Kind::Buildings, &empty, false).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the file has no header row (it is empty)",
            empty.display()
        )
    );
    let odd = write(dir.path(), "b.json", "{}");
    let err = import_file(&store, &actor(), Kind::Buildings, &odd, false).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("unknown file type: name it .csv or .xlsx (also .xls, .ods)")
    );
}

#[test]
fn the_cli_prints_every_problem_and_fails() {
    let (dir, _store) = site(Kind::Gateways);
    let store_path = dir.path().join("site.redb");
    let text = format!(
        "{METER_HEADER}M1,300,modbus,generic-modbus,1,GW1,1,,host,,,,\n\
         M2,5,modbus,generic-modbus,1,GW9,1,,host,,,,\n"
    );
    drop(_store);
    let file = write(dir.path(), "meters.csv", &text);
    let f_s = file.to_str().expect("utf-8 path");
    let store_s = store_path.to_str().expect("utf-8 path");
    let out = bin::output(&["import", "meters", f_s, "--store", store_s]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let f = file.display();
    assert!(
        stderr.starts_with(&format!(
            "{f}:2: column 'address': '300' is not a valid address (1-247)\n\
             {f}:3: column 'gateway': gateway 'GW9' does not exist; import it first \
             (voltvend import gateways)\n"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
    let meters = examples().join("meters.csv");
    let ok = bin::output(&[
        "import",
        "meters",
        meters.to_str().expect("utf-8 path"),
        "--store",
        store_s,
    ]);
    assert!(ok.status.success());
    assert!(
        String::from_utf8_lossy(&ok.stdout)
            .ends_with("meters imported: 10 added, 0 updated, 0 unchanged\n")
    );
}
