//! What a screen asks the app to do after a key or an API answer: an [`Effect`].
//!
//! API work is a [`Call`]: a job over the typed client that runs off the draw loop (on the
//! worker thread, or inline in tests) and returns a [`Reply`] for the screen that asked.

use crate::api::{Api, ApiErr, Transport};
use crate::app::{Confirm, Level, Screen};

#[must_use]
pub enum Effect {
    None,
    Call(Call),
    Confirm(Confirm),
    Switch(Screen),
    Message(Level, String),
    /// Reload what the dashboard and tables show (the app's refresh).
    Refresh,
    Quit,
    /// Several, applied in order.
    All(Vec<Effect>),
}

impl Effect {
    pub fn info(m: impl Into<String>) -> Effect {
        Effect::Message(Level::Info, m.into())
    }
    pub fn error(m: impl Into<String>) -> Effect {
        Effect::Message(Level::Error, m.into())
    }
    /// A job for the API worker; what it returns comes back to the app as its reply.
    pub fn call(job: impl FnOnce(&mut Api<'_>) -> Reply + Send + 'static) -> Effect {
        Effect::Call(Call(Box::new(job)))
    }
    /// This effect, then `next`.
    pub fn and(self, next: Effect) -> Effect {
        match (self, next) {
            (Effect::None, e) | (e, Effect::None) => e,
            (Effect::All(mut v), e) => {
                v.push(e);
                Effect::All(v)
            }
            (a, b) => Effect::All(vec![a, b]),
        }
    }
}

type Job = Box<dyn FnOnce(&mut Api<'_>) -> Reply + Send>;

/// API work, carried to wherever calls run.
pub struct Call(Job);

/// A call with the session token it runs under.
pub struct Request {
    call: Call,
    token: Option<String>,
}

impl Request {
    pub fn new(call: Call, token: Option<String>) -> Request {
        Request { call, token }
    }

    /// Runs the job on `transport` (the worker thread does this, and tests inline).
    pub fn run(self, transport: &mut dyn Transport) -> Done {
        let mut api = Api::new(transport, self.token);
        let reply = (self.call.0)(&mut api);
        Done {
            reply,
            session_end: api.session_end(),
        }
    }
}

/// A finished job: its reply, and whether a call of it found the session over.
pub struct Done {
    pub reply: Reply,
    pub session_end: Option<ApiErr>,
}

/// An API answer, addressed to the part of the console that asked.
pub enum Reply {
    /// Nothing to apply (logout).
    None,
    Login(crate::screens::login::Reply),
    Refresh(Box<crate::data::Refreshed>),
    Meters(crate::screens::meters::Reply),
    Sales(crate::screens::sales::Reply),
    Reports(crate::screens::reports::Reply),
    Batch(crate::screens::batch::Reply),
    Site(crate::screens::site::Reply),
    Staff(crate::screens::staff::Reply),
    Suspect(crate::screens::suspect::Reply),
    Office(crate::screens::office::Reply),
}
