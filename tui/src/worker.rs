//! The API worker: one thread that owns the transport and runs the console's calls in
//! order, so a slow or unreachable daemon never blocks drawing or typing.

use crate::api::Transport;
use crate::effect::{Done, Request};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

pub struct Worker {
    jobs: Option<Sender<Request>>,
    done: Receiver<Done>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    pub fn start(mut transport: Box<dyn Transport + Send>) -> std::io::Result<Worker> {
        let (jobs, rx) = mpsc::channel::<Request>();
        let (tx, done) = mpsc::channel::<Done>();
        let thread = std::thread::Builder::new()
            .name("voltvend-tui-api".into())
            .spawn(move || {
                // FIFO: replies come back in the order the calls were made, as the screens
                // expect (a refresh after an import sees the import).
                for r in rx {
                    if tx.send(r.run(transport.as_mut())).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Worker {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
        })
    }

    pub fn send(&self, r: Request) {
        if let Some(j) = &self.jobs {
            let _ = j.send(r);
        }
    }

    /// A finished call, if one is ready.
    pub fn try_recv(&self) -> Option<Done> {
        self.done.try_recv().ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the queue ends the thread after the call it is in; quitting does not
        // wait for a daemon that does not answer.
        self.jobs = None;
        drop(self.thread.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiErr;
    use crate::app::{App, Screen};
    use crate::types::{Cell, ColumnKind, ReportColumn, ReportTable};
    use crossterm::event::{KeyCode, KeyEvent};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use serde_json::Value;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// A daemon that answers a report only when the test lets it.
    struct Slow(Arc<Mutex<bool>>);

    impl Transport for Slow {
        fn request(
            &mut self,
            _: &str,
            path: &str,
            _: Option<&str>,
            _: Option<&Value>,
        ) -> Result<Value, ApiErr> {
            while !*self.0.lock().expect("gate") {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(path, "/api/v1/reports/sales");
            let table = ReportTable {
                title: "Sales".into(),
                params: Vec::new(),
                columns: vec![ReportColumn {
                    name: "day".into(),
                    kind: ColumnKind::Text,
                }],
                rows: vec![vec![Cell::Text("2026-11-25".into())]],
            };
            Ok(serde_json::to_value(table).expect("a table serialises"))
        }
    }

    fn screen_text(app: &App) -> String {
        let mut t = Terminal::new(TestBackend::new(100, 10)).expect("backend");
        t.draw(|f| crate::ui::draw(f, app)).expect("draw");
        let buf = t.backend().buffer();
        buf.content().iter().map(|c| c.symbol()).collect()
    }

    #[test]
    fn a_slow_daemon_does_not_block_keys_or_drawing() {
        let gate = Arc::new(Mutex::new(false));
        let worker = Worker::start(Box::new(Slow(gate.clone()))).expect("worker");
        let mut app = App::new();
        app.session.token = Some("t".into());
        app.screen = Screen::Reports;
        app.key(KeyEvent::from(KeyCode::Enter));
        for r in app.take_requests() {
            worker.send(r);
        }
        // The call is with the worker: the screen draws and keys work meanwhile.
        assert!(app.busy());
        assert!(screen_text(&app).contains("waiting for the daemon"));
        app.key(KeyEvent::from(KeyCode::Char('1')));
        assert_eq!(app.screen, Screen::Dashboard);
        assert!(app.reports.table.is_none());
        *gate.lock().expect("gate") = true;
        let end = Instant::now() + Duration::from_secs(10);
        while app.busy() {
            if let Some(d) = worker.try_recv() {
                app.on_done(d);
            }
            assert!(Instant::now() < end, "the reply never came");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(app.reports.table.as_ref().map(|t| t.rows.len()), Some(1));
        assert!(!screen_text(&app).contains("waiting for the daemon"));
    }
}
