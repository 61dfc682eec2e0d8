//! Meter command queue with retry and read-back confirmation.
