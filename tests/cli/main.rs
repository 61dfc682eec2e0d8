//! The `voltvend` command line as staff and installers run it: init and check, imports,
//! operators, the ledger, the simulator and its modem, the online backup of `serve`; and that
//! the repository stands alone (no pointer outside it, every table documented, an old store
//! file migrates).

#[path = "../support/mod.rs"]
mod support;

mod config_check;
mod config_cli;
mod import_csv;
mod import_xlsx;
mod ledger;
mod online_backup;
mod operators;
mod repo_stands_alone;
mod sim;
mod sim_modem;
