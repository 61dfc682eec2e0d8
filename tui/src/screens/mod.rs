//! One module per screen; each exposes `draw(frame, area, app)`.
pub mod batch;
pub mod dashboard;
pub mod login;
pub mod meters;
pub mod reports;
pub mod sales;
pub mod site;
pub mod staff;
