//! Places in TOML text, for messages that name the line: the config file, meter profiles,
//! tariff files and simulator files all report `file:LINE: why`. A leaf module (it uses
//! nothing else of the crate), so the pure codecs in `protocol` may use it.

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut start = offset;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// A TOML error in `text` (read from `origin`) as `origin:LINE: why`, or `origin: why`
/// where the parser cannot tell the place; `subject` (e.g. "tariff 'x'") goes before why.
pub fn toml_error(origin: &str, text: &str, e: &toml::de::Error, subject: Option<&str>) -> String {
    let at = match e.span() {
        Some(s) => format!("{origin}:{}", line_col(text, s.start).0),
        None => origin.to_string(),
    };
    let subject = subject.map(|s| format!("{s}: ")).unwrap_or_default();
    format!(
        "{at}: {subject}{}",
        e.message().trim_end().replace('\n', " ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let t = "a = 1\n名称 = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, t.find('=').unwrap()), (1, 3));
        let second_eq = t.rfind('=').unwrap();
        assert_eq!(line_col(t, second_eq), (2, 4));
    }
}
