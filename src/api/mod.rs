//! HTTP API (axum): operator API, tenant API, kiosk files, metrics.
