//! The tenant kiosk driven like a person in headless Chromium.

#[path = "../support/mod.rs"]
mod support;

mod browser;
