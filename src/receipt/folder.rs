//! The folder target: each receipt as `<receipt>.bin` (the exact bytes) and `<receipt>.txt`
//! (what the paper would show, decoded). The printer's `folder:` setting and the simulated
//! TCP printer (`sink`) both write here.

use super::decode::decode;
use std::path::{Path, PathBuf};

/// Writes one job to `dir`: bytes and a decoded preview. The file name is the receipt
/// number found on the paper (`R…`), else `name`.
pub fn write_job(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let preview = match decode(bytes) {
        Ok(d) => d.preview(),
        Err(e) => format!("(undecodable: {e})\n"),
    };
    let stem = if name.is_empty() {
        receipt_no_in(&preview)
            .unwrap_or_else(|| format!("job-{}", jiff::Timestamp::now().as_millisecond()))
    } else {
        name.to_string()
    };
    let bin = dir.join(format!("{stem}.bin"));
    // Write the preview first and the bytes last, so a reader that sees .bin sees both.
    std::fs::write(dir.join(format!("{stem}.txt")), preview)?;
    std::fs::write(&bin, bytes)?;
    Ok(bin)
}

fn receipt_no_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.len() == 9 && w.starts_with('R') && w[1..].bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_receipt_number_on_the_paper() {
        assert_eq!(
            receipt_no_in("单号 No.:  R00000012\n"),
            Some("R00000012".into())
        );
        assert_eq!(receipt_no_in("nothing"), None);
    }
}
