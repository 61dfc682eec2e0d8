//! The terminal loop: raw mode + alternate screen (restored on exit and, through ratatui's
//! panic hook, on panic), key events, resize, a periodic refresh, and the API worker that
//! runs every call off this loop.

use crate::api::Transport;
use crate::app::App;
use crate::worker::Worker;
use crossterm::event::{self, Event, KeyEventKind};
use std::time::{Duration, Instant};

/// How often the dashboard and tables reload while idle.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// How long to wait for a key: short while a reply is due, so it shows at once.
fn poll_wait(app: &App) -> Duration {
    if app.busy() {
        Duration::from_millis(30)
    } else {
        Duration::from_millis(250)
    }
}

pub fn run(app: &mut App, api: Box<dyn Transport + Send>) -> std::io::Result<()> {
    let worker = Worker::start(api)?;
    // `ratatui::init` installs a panic hook that restores the terminal before the message
    // is printed, so a crash never leaves the cashier's terminal in raw mode.
    let mut terminal = ratatui::try_init()?;
    let r = (|| {
        let mut last = Instant::now();
        while !app.quit {
            terminal.draw(|f| crate::ui::draw(f, app))?;
            if event::poll(poll_wait(app))? {
                match event::read()? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => {
                        app.message = None;
                        app.key(k);
                    }
                    Event::Resize(..) => terminal.autoresize()?,
                    _ => {}
                }
            }
            app.schedule_tick();
            // No reload on top of calls still waiting: a slow daemon is not asked twice.
            if last.elapsed() >= REFRESH_EVERY && app.confirm.is_none() && !app.busy() {
                app.request_refresh();
                last = Instant::now();
            }
            for r in app.take_requests() {
                worker.send(r);
            }
            while let Some(done) = worker.try_recv() {
                app.on_done(done);
            }
        }
        Ok(())
    })();
    ratatui::restore();
    r
}
