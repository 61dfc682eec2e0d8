//! Transports, bus tasks and the collector.
