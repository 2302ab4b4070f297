//! Prometheus-style durations (`5m`, `1h30m`, `30d`, `4w`) in whole seconds.

/// Parses a Prometheus duration into seconds. Units: `w`, `d`, `h`, `m`,
/// `s`, in that order, each at most once.
pub fn parse(text: &str) -> Option<u64> {
    let units: [(char, u64); 5] = [
        ('w', 604_800),
        ('d', 86_400),
        ('h', 3_600),
        ('m', 60),
        ('s', 1),
    ];
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest.chars().next()?;
        let idx = units[next_unit..].iter().position(|(u, _)| *u == unit)? + next_unit;
        total = total.checked_add(n.checked_mul(units[idx].1)?)?;
        next_unit = idx + 1;
        rest = &rest[unit.len_utf8()..];
    }
    Some(total)
}

/// Formats seconds as the shortest Prometheus duration using `d`, `h`, `m`
/// and `s` (`30d`, `1h24m`, `90s` → `1m30s`).
pub fn format(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, size) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
        if rest >= size {
            out.push_str(&(rest / size).to_string());
            out.push(unit);
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(parse("30d"), Some(30 * 86_400));
        assert_eq!(parse("4w"), Some(28 * 86_400));
        assert_eq!(parse("1h30m"), Some(5_400));
        assert_eq!(parse("30x"), None);
        assert_eq!(parse("m"), None);
        assert_eq!(parse("5m1h"), None);
        assert_eq!(format(84 * 60), "1h24m");
        assert_eq!(format(30 * 86_400), "30d");
        assert_eq!(format(90), "1m30s");
    }
}
