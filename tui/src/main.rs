//! voltvend-tui: the staff console. Built out in the staff-console issue.
fn main() {
    println!("voltvend-tui {}", env!("CARGO_PKG_VERSION"));
}
