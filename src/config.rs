//! The site configuration file (TOML): every key documented and defaulted.
