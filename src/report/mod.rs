//! Reports ([`reports`]) as typed tables ([`table`]) and their renderers: terminal text,
//! CSV with BOM, XLSX ([`export`]). Used by `voltvend report`, the operator API and the
//! staff console.

pub mod export;
pub mod metering;
pub mod params;
pub mod reports;
pub mod table;

pub use params::{Group, Params, Period, ReportError};
pub use reports::{REPORTS, run};
pub use table::Table;
