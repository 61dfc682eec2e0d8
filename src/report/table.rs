//! A report as data: a title, the parameters it was made with, typed columns and rows.
//! Renderers (screen, CSV, XLSX) read only this, so every report exports the same way.

use serde::Serialize;

use crate::units::{Fen, Wh};

/// How a column's values are written and formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    /// Fen, shown as yuan with two decimals.
    Money,
    /// Wh, shown as kWh with two decimals (three in CSV, exact).
    Energy,
    Int,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Int(i64),
    Empty,
}

impl Cell {
    pub fn money(f: Fen) -> Cell {
        Cell::Int(f.0)
    }
    pub fn energy(w: Wh) -> Cell {
        Cell::Int(w.0)
    }
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub title: String,
    /// (name, value) of each parameter, printed in the title row.
    pub params: Vec<(String, String)>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(title: &str, params: Vec<(String, String)>, columns: &[(&str, Kind)]) -> Table {
        Table {
            title: title.to_string(),
            params,
            columns: columns
                .iter()
                .map(|(n, k)| Column {
                    name: n.to_string(),
                    kind: *k,
                })
                .collect(),
            rows: Vec::new(),
        }
    }

    /// The title line with its parameters: `Daily sales — from 2026-11-01, to 2026-11-30`.
    pub fn heading(&self) -> String {
        if self.params.is_empty() {
            return self.title.clone();
        }
        let p: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        format!("{} — {}", self.title, p.join(", "))
    }

    /// The text of a cell as a person reads it (yuan and kWh with decimals).
    pub fn display(&self, col: usize, cell: &Cell) -> String {
        match (cell, self.columns.get(col).map(|c| c.kind)) {
            (Cell::Int(v), Some(Kind::Money)) => Fen(*v).to_string(),
            (Cell::Int(v), Some(Kind::Energy)) => kwh_text(*v, 2),
            (Cell::Int(v), _) => v.to_string(),
            (Cell::Text(s), _) => s.clone(),
            (Cell::Empty, _) => String::new(),
        }
    }
}

/// Wh as kWh text with `decimals` (2 or 3), rounded half away from zero at 2.
pub fn kwh_text(wh: i64, decimals: u32) -> String {
    let sign = if wh < 0 { "-" } else { "" };
    let a = wh.unsigned_abs();
    if decimals >= 3 {
        return format!("{sign}{}.{:03}", a / 1000, a % 1000);
    }
    let centi = (a + 5) / 10; // 0.01 kWh
    format!("{sign}{}.{:02}", centi / 100, centi % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kwh_text_is_exact_or_rounded_half_up() {
        assert_eq!(kwh_text(1_234_567, 3), "1234.567");
        assert_eq!(kwh_text(1_234_565, 2), "1234.57");
        assert_eq!(kwh_text(1_234_564, 2), "1234.56");
        assert_eq!(kwh_text(-5, 2), "-0.01");
        assert_eq!(kwh_text(0, 2), "0.00");
    }
}
