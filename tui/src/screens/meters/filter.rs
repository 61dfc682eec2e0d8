//! The `/` filter of the meters table.

use super::MeterRow;

/// The meters filter: every word must match. `b:A` is building A, `f:3` floor 3 (`f:-1`
/// or `f:b1` a basement); any other word is searched in meter, unit, tenant and status, or
/// matches a gateway id exactly.
#[derive(Debug, Default)]
pub struct Filter {
    building: Option<String>,
    floor: Option<i32>,
    words: Vec<String>,
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let mut f = Filter::default();
        for w in text.split_whitespace() {
            let lw = w.to_lowercase();
            if let Some(b) = lw.strip_prefix("b:").filter(|b| !b.is_empty()) {
                f.building = Some(b.to_string());
            } else if let Some(fl) = lw.strip_prefix("f:").and_then(parse_floor) {
                f.floor = Some(fl);
            } else {
                f.words.push(lw);
            }
        }
        f
    }

    pub fn matches(&self, r: &MeterRow) -> bool {
        self.building.as_ref().is_none_or(|b| {
            r.building
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(b))
        }) && self.floor.is_none_or(|fl| r.floor == Some(fl))
            && self
                .words
                .iter()
                .all(|w| r.search.contains(w.as_str()) || r.gateway.eq_ignore_ascii_case(w))
    }
}

fn parse_floor(text: &str) -> Option<i32> {
    match text.strip_prefix('b') {
        Some(n) => n.parse::<i32>().ok().filter(|n| *n > 0).map(|n| -n),
        None => text.parse().ok().filter(|n| *n != 0),
    }
}
