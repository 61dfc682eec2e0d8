//! Reports and their xlsx/csv renderers.
