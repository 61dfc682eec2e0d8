//! Tenant top-ups.
