//! Reading the crate's own Rust source for the source checks (no floats on money paths, the
//! module graph): one lexer helper both scanners need.

/// Length of a raw (byte) string literal starting here: r"..", r#".."#, br#".."#.
pub fn raw_string_len(s: &[char]) -> Option<usize> {
    let mut i = usize::from(s.first() == Some(&'b'));
    if s.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let hashes = s[i..].iter().take_while(|&&c| c == '#').count();
    i += hashes;
    if s.get(i) != Some(&'"') {
        return None;
    }
    i += 1;
    while i < s.len() {
        if s[i] == '"' && (0..hashes).all(|k| s.get(i + 1 + k) == Some(&'#')) {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    Some(s.len())
}
