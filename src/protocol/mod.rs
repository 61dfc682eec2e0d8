//! Pure codecs for meter protocols (no I/O).
pub mod profile;
