//! voltvend-tui: the staff console, a client of the operator API.
//!
//! `app` routes keys and replies and applies effects; each of `screens` owns its state,
//! key handling and draw; `ui` draws the frame around them (pure); `api` is the typed
//! client over `http`, `types` the API contract, `worker` runs calls off the draw loop,
//! `event` the terminal loop, `keys` the one key table behind both the input handler and
//! the help overlay.

pub mod api;
pub mod app;
pub mod data;
pub mod effect;
pub mod event;
pub mod http;
pub mod keys;
pub mod screens;
pub mod types;
pub mod ui;
pub mod widgets;
pub mod worker;
