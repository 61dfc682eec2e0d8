//! The console against the real daemon (`voltvend demo`, real binary, real Unix socket):
//! key flows in process, and the console binary itself in tmux.

#[path = "../support/mod.rs"]
mod support;

mod console_flows;
mod demo_flows;
mod tmux_demo;
