//! The terminal loop: raw mode + alternate screen (restored on exit and, through ratatui's
//! panic hook, on panic), key events, resize, and a periodic refresh.

use crate::api::Transport;
use crate::app::App;
use crossterm::event::{self, Event, KeyEventKind};
use std::time::{Duration, Instant};

/// How often the dashboard and tables reload while idle.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10);

pub fn run(app: &mut App, api: &mut dyn Transport) -> std::io::Result<()> {
    // `ratatui::init` installs a panic hook that restores the terminal before the message
    // is printed, so a crash never leaves the cashier's terminal in raw mode.
    let mut terminal = ratatui::try_init()?;
    let r = (|| {
        let mut last = Instant::now();
        while !app.quit {
            terminal.draw(|f| crate::ui::draw(f, app))?;
            if event::poll(Duration::from_millis(250))? {
                match event::read()? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => {
                        app.message = None;
                        app.on_key(k, api);
                    }
                    Event::Resize(..) => terminal.autoresize()?,
                    _ => {}
                }
            }
            app.tick(api);
            if last.elapsed() >= REFRESH_EVERY && app.confirm.is_none() {
                app.refresh(api);
                last = Instant::now();
            }
        }
        Ok(())
    })();
    ratatui::restore();
    r
}
