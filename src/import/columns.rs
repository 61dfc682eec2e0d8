//! The columns each kind of import file has, and matching a header row against them.
//! Headers are matched case-insensitively, by English name or Chinese alias, in any order.

use super::Kind;
use super::sheet::{Cell, Row, Sheet};

/// One column of an import file.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
    pub aliases: &'static [&'static str],
}

const fn req(name: &'static str, aliases: &'static [&'static str]) -> Column {
    Column {
        name,
        required: true,
        aliases,
    }
}

const fn opt(name: &'static str, aliases: &'static [&'static str]) -> Column {
    Column {
        name,
        required: false,
        aliases,
    }
}

const BUILDINGS: &[Column] = &[
    req("id", &["building", "楼栋编号", "楼栋"]),
    req("name", &["名称", "楼栋名称"]),
    opt("floors", &["楼层数"]),
];

const UNITS: &[Column] = &[
    req("unit", &["no", "户号"]),
    req("building", &["楼栋", "楼栋编号"]),
    req("floor", &["楼层"]),
    opt("area_m2", &["area", "面积"]),
];

const GATEWAYS: &[Column] = &[
    req("id", &["gateway", "网关编号", "网关"]),
    req("name", &["名称", "网关名称"]),
    req("link", &["连接", "连接方式"]),
    req("buses", &["总线"]),
];

const METERS: &[Column] = &[
    req("id", &["meter", "表号"]),
    req("address", &["通讯地址", "地址"]),
    opt("protocol", &["协议"]),
    req("profile", &["型号", "表型"]),
    opt("phases", &["相数"]),
    req("gateway", &["网关"]),
    req("bus", &["总线"]),
    opt("unit", &["户号"]),
    opt("billing", &["计费方式"]),
    opt("tariff", &["电价", "费率"]),
    opt("power_limit_w", &["功率上限"]),
    opt("alarm1", &["一级报警", "报警金额1"]),
    opt("alarm2", &["二级报警", "报警金额2"]),
];

const TENANTS: &[Column] = &[
    req("id", &["tenant", "租户编号"]),
    req("name", &["名称", "租户名称"]),
    req("category", &["业态"]),
    opt("phone", &["电话", "手机"]),
    opt("units", &["户号"]),
];

/// The columns of `kind`, in the documented order.
pub fn columns(kind: Kind) -> &'static [Column] {
    match kind {
        Kind::Buildings => BUILDINGS,
        Kind::Units => UNITS,
        Kind::Gateways => GATEWAYS,
        Kind::Meters => METERS,
        Kind::Tenants => TENANTS,
    }
}

/// Where each column of `kind` is in the sheet (None = absent from the file).
#[derive(Debug, Clone)]
pub struct Layout {
    kind: Kind,
    index: Vec<Option<usize>>,
    width: usize,
}

/// A header problem: the message after `FILE:LINE: `.
pub type HeaderProblem = String;

/// Matches the sheet's header row against the columns of `kind`.
pub fn layout(kind: Kind, sheet: &Sheet) -> Result<Layout, Vec<HeaderProblem>> {
    let cols = columns(kind);
    let mut index = vec![None; cols.len()];
    let mut problems = Vec::new();
    let expected = || cols.iter().map(|c| c.name).collect::<Vec<_>>().join(", ");
    for (pos, raw) in sheet.headers.iter().enumerate() {
        let h = raw.trim().trim_start_matches('\u{feff}');
        if h.is_empty() {
            if sheet
                .rows
                .iter()
                .any(|r| r.cells.get(pos).is_some_and(|c| !c.text.trim().is_empty()))
            {
                problems.push(format!(
                    "column {} has values but no header (expected one of: {})",
                    pos + 1,
                    expected()
                ));
            }
            continue;
        }
        let lower = h.to_lowercase();
        let found = cols
            .iter()
            .position(|c| c.name == lower || c.aliases.iter().any(|a| *a == lower));
        match found {
            Some(i) if index[i].is_some() => {
                problems.push(format!("column '{}' appears twice", cols[i].name))
            }
            Some(i) => index[i] = Some(pos),
            None => problems.push(format!(
                "unknown column '{h}' (expected one of: {})",
                expected()
            )),
        }
    }
    for (i, c) in cols.iter().enumerate() {
        if c.required && index[i].is_none() {
            problems.push(format!("missing column '{}'", c.name));
        }
    }
    if problems.is_empty() {
        Ok(Layout {
            kind,
            index,
            width: sheet.headers.len(),
        })
    } else {
        Err(problems)
    }
}

impl Layout {
    pub fn width(&self) -> usize {
        self.width
    }

    /// A view of one row through this layout.
    pub fn view<'a>(&'a self, row: &'a Row) -> RowView<'a> {
        RowView { layout: self, row }
    }
}

/// One row, read by column name.
pub struct RowView<'a> {
    layout: &'a Layout,
    row: &'a Row,
}

impl<'a> RowView<'a> {
    pub fn line(&self) -> usize {
        self.row.line
    }

    fn cell(&self, column: &str) -> Option<&'a Cell> {
        let i = columns(self.layout.kind)
            .iter()
            .position(|c| c.name == column)?;
        let pos = self.layout.index[i]?;
        static EMPTY: Cell = Cell {
            text: String::new(),
            numeric: false,
        };
        Some(self.row.cells.get(pos).unwrap_or(&EMPTY))
    }

    /// The trimmed text of `column`: None if the file has no such column, `Some("")` if
    /// the cell is empty.
    pub fn get(&self, column: &str) -> Option<&'a str> {
        self.cell(column).map(|c| c.text.trim())
    }

    /// True if the cell was a spreadsheet number (leading zeros already lost).
    pub fn is_numeric(&self, column: &str) -> bool {
        self.cell(column).is_some_and(|c| c.numeric)
    }
}
