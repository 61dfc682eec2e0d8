//! Reading an import file into rows of text cells with their line numbers: CSV (UTF-8 with
//! or without BOM; GB18030/GBK as saved by Chinese Excel is accepted too) and XLSX/XLS/ODS
//! (via calamine; the line number is the sheet row number).

use std::path::Path;

/// One cell as text. `numeric` is set for spreadsheet number cells, whose leading zeros
/// Excel has already dropped (a hint for the message when an address looks short).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    pub text: String,
    pub numeric: bool,
}

/// One data row and the line (CSV) or sheet row (XLSX) it came from, counting from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<Cell>,
}

impl Row {
    fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.text.trim().is_empty())
    }
}

/// A header row and the data rows below it; blank rows are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub header_line: usize,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// Why a file could not be read at all (as opposed to a bad row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{why}")]
pub struct ReadError {
    pub why: String,
}

fn read_error(why: impl Into<String>) -> ReadError {
    ReadError { why: why.into() }
}

/// The file formats an import reads, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Spreadsheet,
}

impl Format {
    pub fn of(path: &Path) -> Result<Format, ReadError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") | Some("txt") => Ok(Format::Csv),
            Some("xlsx") | Some("xlsm") | Some("xls") | Some("ods") => Ok(Format::Spreadsheet),
            _ => Err(read_error(
                "unknown file type: name it .csv or .xlsx (also .xls, .ods)",
            )),
        }
    }
}

/// Reads `path`. For a workbook, the sheet named `sheet` (case-insensitive) is used if
/// there is one, else the first sheet.
pub fn read(path: &Path, sheet: &str) -> Result<Sheet, ReadError> {
    let rows = match Format::of(path)? {
        Format::Csv => {
            let bytes = std::fs::read(path).map_err(|e| read_error(format!("cannot read: {e}")))?;
            csv_rows(&bytes)?
        }
        Format::Spreadsheet => workbook_rows(path, sheet)?,
    };
    let mut rows = rows.into_iter().filter(|r| !r.is_blank());
    let Some(header) = rows.next() else {
        return Err(read_error("the file has no header row (it is empty)"));
    };
    Ok(Sheet {
        header_line: header.line,
        headers: header.cells.into_iter().map(|c| c.text).collect(),
        rows: rows.collect(),
    })
}

/// Decodes CSV bytes: UTF-8 (a leading BOM is dropped), else GB18030, the superset of the
/// GBK that Excel on a Chinese Windows writes for "CSV (comma delimited)".
pub fn decode_text(bytes: &[u8]) -> Result<String, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                Err(read_error(
                    "the file is neither UTF-8 nor GBK text: save it as \"CSV UTF-8\"",
                ))
            } else {
                Ok(text.into_owned())
            }
        }
    }
}

/// Splits CSV bytes into rows with the line each row starts on.
pub fn csv_rows(bytes: &[u8]) -> Result<Vec<Row>, ReadError> {
    let text = decode_text(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut line, mut counted) = (1usize, 0usize);
    for rec in reader.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            read_error(format!("line {line}: not valid CSV: {e}"))
        })?;
        // csv counts the blank lines before a record as part of it; skip them so the line
        // is the one the record's text starts on.
        let mut start = rec
            .position()
            .map_or(0, |p| p.byte() as usize)
            .min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
            start += 1;
        }
        line += bytes[counted..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = start;
        out.push(Row {
            line,
            cells: rec
                .iter()
                .map(|t| Cell {
                    text: t.to_string(),
                    numeric: false,
                })
                .collect(),
        });
    }
    Ok(out)
}

fn workbook_rows(path: &Path, sheet: &str) -> Result<Vec<Row>, ReadError> {
    use calamine::{Data, Reader, open_workbook_auto};
    let mut book =
        open_workbook_auto(path).map_err(|e| read_error(format!("cannot open workbook: {e}")))?;
    let names = book.sheet_names();
    let name = names
        .iter()
        .find(|n| n.trim().eq_ignore_ascii_case(sheet))
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| read_error("the workbook has no sheet"))?;
    let range = book
        .worksheet_range(&name)
        .map_err(|e| read_error(format!("cannot read sheet '{name}': {e}")))?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    let mut out = Vec::new();
    for (i, cells) in range.rows().enumerate() {
        // Keep columns aligned with column A, so a sheet starting at column B still
        // matches its header row cell for cell.
        let mut row: Vec<Cell> = vec![Cell::default(); first_col];
        for c in cells {
            // calamine's Display prints numbers in their shortest exact form (9600, 50.5),
            // which is what the user typed; the amount is then parsed exactly from text.
            let numeric = matches!(c, Data::Int(_) | Data::Float(_));
            row.push(Cell {
                text: c.to_string(),
                numeric,
            });
        }
        out.push(Row {
            line: first_row + i + 1,
            cells: row,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_bom_and_gbk() {
        let rows = csv_rows("\u{feff}id,name\n\nA,\"Tower\nA\"\nB,Tower B\n".as_bytes()).unwrap();
        assert_eq!(rows[0].cells[0].text, "id");
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 3, 5]);
        // "名称" in GBK.
        let gbk = encoding_rs::GBK.encode("id,名称\nA,一号楼\n").0;
        let rows = csv_rows(&gbk).unwrap();
        assert_eq!(rows[0].cells[1].text, "名称");
        assert_eq!(rows[1].cells[1].text, "一号楼");
        assert!(csv_rows(b"\xff\xfe\xff,\x81\n").is_err());
    }
}
