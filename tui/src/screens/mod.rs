//! One module per screen. Each owns its state, turns the keys of its context into an
//! [`crate::effect::Effect`], applies the API replies it asked for, and draws itself
//! (`draw(frame, area, app)`, a pure function of the app).
pub mod batch;
pub mod dashboard;
pub mod login;
pub mod meters;
pub mod office;
pub mod reports;
pub mod sales;
pub mod site;
pub mod staff;
pub mod suspect;

/// Longest text a form field takes.
const FIELD_MAX: usize = 64;

/// Types `c` into a form field, up to [`FIELD_MAX`] characters.
pub fn push_char(field: &mut String, c: char) {
    if field.chars().count() < FIELD_MAX {
        field.push(c);
    }
}
