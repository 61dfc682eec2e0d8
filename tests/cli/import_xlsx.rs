//! Batch import from XLSX (written here with rust_xlsxwriter): the sheet named like the
//! kind is used, line numbers are sheet row numbers, number cells are read exactly, and a
//! bad workbook changes nothing.

use rust_xlsxwriter::Workbook;
use std::path::{Path, PathBuf};
use voltvend::auth::Actor;
use voltvend::import::{ImportError, Kind, dump, import_file};
use voltvend::site::{MeterAddress, repo};
use voltvend::store::Store;
use voltvend::units::Fen;

use crate::support::store::example_site;

fn actor() -> Actor {
    Actor::system("test")
}

/// The example site up to its gateways.
fn site() -> (tempfile::TempDir, Store) {
    example_site(Kind::Gateways)
}

enum V<'a> {
    S(&'a str),
    N(u32),
}

/// A workbook whose first sheet is a note and whose `meters` sheet holds `rows`, starting
/// at sheet row `first_row` (1-based), with the header on row 1.
fn workbook(dir: &Path, name: &str, first_row: u32, rows: &[Vec<V>]) -> PathBuf {
    let mut book = Workbook::new();
    let notes = book.add_worksheet();
    notes.set_name("notes").unwrap();
    notes.write_string(0, 0, "Meter list for Tower A").unwrap();
    let sheet = book.add_worksheet();
    sheet.set_name("Meters").unwrap();
    let header = [
        "id", "address", "protocol", "profile", "phases", "gateway", "bus", "unit", "alarm1",
        "alarm2",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (i, row) in rows.iter().enumerate() {
        let r = first_row - 1 + i as u32;
        for (c, v) in row.iter().enumerate() {
            match v {
                V::S("") => {}
                V::S(s) => {
                    sheet.write_string(r, c as u16, *s).unwrap();
                }
                V::N(n) => {
                    sheet.write_number(r, c as u16, *n).unwrap();
                }
            }
        }
    }
    let path = dir.join(name);
    book.save(&path).unwrap();
    path
}

use V::{N, S};

#[test]
fn xlsx_rows_import_and_reimport_is_a_no_op() {
    let (dir, store) = site();
    let rows = vec![
        vec![
            S("X1"),
            N(5),
            S("modbus"),
            S("generic-modbus"),
            N(1),
            S("GW1"),
            N(1),
            S("A-101"),
            S("50.5"),
            N(20),
        ],
        vec![
            S("X2"),
            S("000000003001"),
            S(""),
            S("generic-dlt645"),
            N(3),
            S("GW2"),
            N(1),
            S(""),
            S(""),
            S(""),
        ],
    ];
    let file = workbook(dir.path(), "meters.xlsx", 3, &rows);
    let r = import_file(&store, &actor(), Kind::Meters, &file, false).unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (2, 0, 0));
    let x1 = repo::get_meter(&store, &"X1".into()).unwrap().unwrap();
    assert_eq!(x1.address, MeterAddress::Modbus(5));
    assert_eq!((x1.alarm1, x1.alarm2), (Some(Fen(5050)), Some(Fen(2000))));
    let x2 = repo::get_meter(&store, &"X2".into()).unwrap().unwrap();
    assert_eq!(x2.address, MeterAddress::Dlt645("000000003001".into()));
    let before = dump(&store).unwrap();
    let r = import_file(&store, &actor(), Kind::Meters, &file, false).unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (0, 0, 2));
    assert_eq!(dump(&store).unwrap(), before);
}

#[test]
fn xlsx_problems_name_the_sheet_row_and_change_nothing() {
    let (dir, store) = site();
    let rows = vec![
        vec![
            S("Y1"),
            N(300),
            S("modbus"),
            S("generic-modbus"),
            N(1),
            S("GW1"),
            N(1),
            S(""),
            S(""),
            S(""),
        ],
        vec![
            S("Y2"),
            N(3001),
            S("dlt645"),
            S("generic-dlt645"),
            N(3),
            S("GW2"),
            N(1),
            S(""),
            S(""),
            S(""),
        ],
        vec![
            S("Y3"),
            N(7),
            S("modbus"),
            S("generic-modbus"),
            N(1),
            S("GW7"),
            N(1),
            S(""),
            S(""),
            S(""),
        ],
        vec![
            S("Y1"),
            N(8),
            S("modbus"),
            S("generic-modbus"),
            N(1),
            S("GW1"),
            N(1),
            S(""),
            S("5.5.5"),
            S(""),
        ],
    ];
    let file = workbook(dir.path(), "meters.xlsx", 4, &rows);
    let before = dump(&store).unwrap();
    let err = import_file(&store, &actor(), Kind::Meters, &file, false).unwrap_err();
    assert_eq!(dump(&store).unwrap(), before);
    let ImportError::Invalid { problems, .. } = err else {
        panic!("expected problems, got {err}");
    };
    let f = file.display();
    let got: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        got,
        [
            format!("{f}:4: column 'address': '300' is not a valid address (1-247)"),
            format!(
                "{f}:5: column 'address': '3001' is not a valid DL/T 645 address (12 decimal \
                 digits); the cell is a number, so leading zeros are lost: format the column \
                 as text"
            ),
            format!(
                "{f}:6: column 'gateway': gateway 'GW7' does not exist; import it first (voltvend import gateways)"
            ),
            format!("{f}:7: column 'id': 'Y1' is also on line 4"),
            format!(
                "{f}:7: column 'alarm1': '5.5.5' is not a number (an amount in yuan, e.g. 50.00)"
            ),
        ]
    );
}
