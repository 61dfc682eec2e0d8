//! The alarm engine and the SMS sender as tasks of the daemon.

use super::Daemon;
use crate::alarm::engine::{self, AlarmConfig};
use crate::alarm::sms::sender::{self, SenderConfig};

impl Daemon {
    /// Runs the alarm engine (and the SMS sender when a modem is configured) until the
    /// daemon stops. Without a modem, SMS stay queued and visible to staff.
    pub fn run_alarms(&mut self, cfg: AlarmConfig, sms: Option<SenderConfig>) {
        let st = self.state.clone();
        self.tasks.push(engine::spawn(
            st.store.clone(),
            st.ledger.clone(),
            cfg,
            self.stop.subscribe(),
        ));
        if let Some(s) = sms {
            self.tasks
                .push(sender::spawn(st.store.clone(), s, self.stop.subscribe()));
        }
    }
}
