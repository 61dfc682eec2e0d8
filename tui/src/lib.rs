//! voltvend-tui: the staff console, a client of the operator API.
//!
//! `app` holds state and turns keys into changes, `ui`/`screens` draw it (pure), `api` is
//! the HTTP client, `event` the terminal loop, `keys` the one key table behind both the
//! input handler and the help overlay.

pub mod admin;
pub mod api;
pub mod app;
pub mod batch;
pub mod event;
pub mod keys;
pub mod screens;
pub mod ui;
pub mod widgets;
