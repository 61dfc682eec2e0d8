//! The console's screens and key flows with no daemon behind it: TestBackend snapshots at
//! 80×24 and 160×48, navigation, filters, dialogs, and the reports screen against a canned
//! report API.

#[path = "../support/mod.rs"]
mod support;

mod console_screens;
mod flows;
mod office_screen;
mod reports_screen;
mod snapshots;
mod suspect_screen;
