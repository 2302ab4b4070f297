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

/// Formats seconds as Prometheus itself prints a duration (Go's
/// `model.Duration.String`, which Sloth uses for its rule names and
/// `sloth_window` labels): years and weeks only when they divide it
/// exactly, then `d`, `h`, `m`, `s` (`28d` → `4w`, `30d` → `30d`,
/// `365d` → `1y`, `1h24m`).
pub fn format_prometheus(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    for (unit, size) in [('y', 365 * 86_400), ('w', 7 * 86_400)] {
        if secs.is_multiple_of(size) {
            return format!("{}{unit}", secs / size);
        }
    }
    format(secs)
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

    #[test]
    fn prometheus_formatting_uses_exact_weeks_and_years() {
        assert_eq!(format_prometheus(28 * 86_400), "4w");
        assert_eq!(format_prometheus(7 * 86_400), "1w");
        assert_eq!(format_prometheus(30 * 86_400), "30d");
        assert_eq!(format_prometheus(365 * 86_400), "1y");
        assert_eq!(format_prometheus(366 * 86_400), "366d");
        assert_eq!(format_prometheus(8 * 86_400 + 3_600), "8d1h");
        assert_eq!(format_prometheus(84 * 60), "1h24m");
        for secs in [300, 3_600, 28 * 86_400, 365 * 86_400, 67 * 3_600 + 720] {
            assert_eq!(parse_any(&format_prometheus(secs)), Some(secs));
        }
    }

    /// `parse` plus years, for the round trip above.
    fn parse_any(text: &str) -> Option<u64> {
        match text.strip_suffix('y') {
            Some(n) => n.parse::<u64>().ok().map(|n| n * 365 * 86_400),
            None => parse(text),
        }
    }
}
