//! CSV and XLSX renderers of a [`Table`]. CSV is UTF-8 with a BOM so Excel opens Chinese
//! text correctly; money and energy are exact decimals. XLSX (rust_xlsxwriter): a title row
//! with the parameters, a bold frozen header with an autofilter, `0.00` number formats for
//! yuan and kWh (values computed from the integers), and column widths fitted to the text.

// floats-ok: Excel keeps every number as an IEEE double, so the XLSX writer converts exact integers (fen / 100, Wh / 1000) at this one boundary; nothing is computed in floats.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::table::{Cell, Kind, Table, kwh_text};
use crate::units::Fen;

/// CSV bytes (BOM + header + rows).
pub fn csv(t: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(t.columns.iter().map(|c| c.name.as_str()))?;
        for row in &t.rows {
            let fields: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| match (c, t.columns.get(i).map(|c| c.kind)) {
                    (Cell::Int(v), Some(Kind::Money)) => Fen(*v).to_string(),
                    (Cell::Int(v), Some(Kind::Energy)) => kwh_text(*v, 3),
                    _ => t.display(i, c),
                })
                .collect();
            w.write_record(&fields)?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// Display width of text in character cells (CJK counts two).
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

/// XLSX bytes of one worksheet.
pub fn xlsx(t: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let title = Format::new().set_bold().set_font_size(13);
    let header = Format::new()
        .set_bold()
        .set_background_color("#DDE5F0")
        .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
    let money = Format::new().set_num_format("0.00");
    let energy = Format::new().set_num_format("0.00");
    ws.write_string_with_format(0, 0, t.heading(), &title)?;
    let mut widths: Vec<usize> = t.columns.iter().map(|c| width(&c.name)).collect();
    for (c, col) in t.columns.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, &col.name, &header)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = (r + 2) as u32;
        for (c, cell) in row.iter().enumerate() {
            let kind = t.columns.get(c).map(|c| c.kind);
            let col = c as u16;
            match (cell, kind) {
                // Exact integers to the nearest representable double: fen / 100, Wh / 1000.
                (Cell::Int(v), Some(Kind::Money)) => {
                    ws.write_number_with_format(r, col, *v as f64 / 100.0, &money)?;
                }
                (Cell::Int(v), Some(Kind::Energy)) => {
                    ws.write_number_with_format(r, col, *v as f64 / 1000.0, &energy)?;
                }
                (Cell::Int(v), _) => {
                    ws.write_number(r, col, *v as f64)?;
                }
                (Cell::Text(s), _) => {
                    ws.write_string(r, col, s)?;
                }
                (Cell::Empty, _) => {}
            }
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(width(&t.display(c, cell)));
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w + 2).min(60) as f64)?;
    }
    ws.set_freeze_panes(2, 0)?;
    if !t.columns.is_empty() {
        let last_row = (t.rows.len() + 1) as u32;
        ws.autofilter(1, 0, last_row, (t.columns.len() - 1) as u16)?;
    }
    wb.save_to_buffer()
}

/// Plain text table for the terminal.
pub fn text(t: &Table) -> String {
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().enumerate().map(|(i, c)| t.display(i, c)).collect())
        .collect();
    let mut w: Vec<usize> = t.columns.iter().map(|c| width(&c.name)).collect();
    for r in &cells {
        for (i, c) in r.iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(width(c));
            }
        }
    }
    let pad = |s: &str, n: usize, right: bool| {
        let fill = " ".repeat(n.saturating_sub(width(s)));
        if right {
            format!("{fill}{s}")
        } else {
            format!("{s}{fill}")
        }
    };
    let mut out = format!("{}\n", t.heading());
    let head: Vec<String> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| pad(&c.name, w[i], c.kind != Kind::Text))
        .collect();
    out.push_str(&head.join("  "));
    out.push('\n');
    for r in &cells {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                pad(
                    c,
                    w.get(i).copied().unwrap_or(0),
                    t.columns.get(i).is_some_and(|c| c.kind != Kind::Text),
                )
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
