//! CPU quantities as Kubernetes parses them (`k8s.io/apimachinery`
//! `resource.Quantity`): `500m`, `1.5`, `2`, `0.1`, `1e3`, `2k`, `1Ki`,
//! `.5`, `+1`. CPU is kept in millicores, rounded up as Kubernetes rounds
//! CPU to milli precision.

/// Parses a CPU quantity into millicores (rounded up).
pub fn parse_cpu_millis(text: &str) -> Result<u64, String> {
    let bad = |why: &str| format!("`{text}` is not a Kubernetes quantity: {why}");
    let s = text;
    let (negative, s) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let number_len = s
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let (number, suffix) = s.split_at(number_len);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(bad("expected a number such as 500m, 1.5 or 2"));
    }
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return Err(bad("too many digits"));
    }
    let mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| bad("bad digits"))?
    };
    let scale = frac_part.len() as i64;
    // value = mantissa * 10^(exp10 - scale) * 2^exp2
    let (exp10, exp2): (i64, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        other => {
            let exp = other
                .strip_prefix('e')
                .or_else(|| other.strip_prefix('E'))
                .ok_or_else(|| bad("unknown suffix (use m, k, M, G, Ki, Mi, … or e<N>)"))?;
            let exp_digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if exp_digits.is_empty() || !exp_digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("bad exponent"));
            }
            let e: i64 = exp.parse().map_err(|_| bad("exponent out of range"))?;
            if e.abs() > 1000 {
                return Err(bad("exponent out of range"));
            }
            (e, 0)
        }
    };
    if negative && mantissa != 0 {
        return Err(bad("a CPU amount cannot be negative"));
    }
    if mantissa == 0 {
        return Ok(0);
    }
    // Millicores: multiply by 1000.
    let power = exp10 - scale + 3;
    let too_large = || bad("too large");
    let mut value = mantissa.checked_mul(1u128 << exp2).ok_or_else(too_large)?;
    if power >= 0 {
        for _ in 0..power {
            value = value.checked_mul(10).ok_or_else(too_large)?;
        }
    } else {
        let mut divisor: u128 = 1;
        for _ in 0..(-power) {
            divisor = match divisor.checked_mul(10) {
                Some(d) => d,
                // Smaller than any representable amount: rounds up to 1m.
                None => return Ok(1),
            };
        }
        value = value.div_ceil(divisor);
    }
    u64::try_from(value).map_err(|_| too_large())
}

/// Whole CPUs, rounded up (what `resourceFieldRef` with the default
/// divisor `1` yields and what RL702 compares with).
pub fn ceil_cores(millis: u64) -> u64 {
    millis.div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_forms() {
        let cases = [
            ("500m", 500),
            ("1", 1000),
            ("1.5", 1500),
            ("2", 2000),
            ("0.1", 100),
            (".5", 500),
            ("1.", 1000),
            ("+1", 1000),
            ("1e3", 1_000_000),
            ("1E-3", 1),
            ("2k", 2_000_000),
            ("1Ki", 1_024_000),
            ("0.0001", 1),
            ("100u", 1),
            ("250000000n", 250),
            ("0", 0),
            ("-0", 0),
            ("0.25", 250),
            ("007", 7000),
        ];
        for (text, millis) in cases {
            assert_eq!(parse_cpu_millis(text), Ok(millis), "{text}");
        }
        assert_eq!(ceil_cores(500), 1);
        assert_eq!(ceil_cores(1500), 2);
        assert_eq!(ceil_cores(2000), 2);
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        for text in [
            "", "m", ".", "1.2.3", "1 ", " 1", "one", "-1", "1mi", "1x", "1e", "1e+", "1.5.m",
            "1e99999", "5Ei5",
        ] {
            assert!(parse_cpu_millis(text).is_err(), "{text}");
        }
        assert!(parse_cpu_millis("9999999999999999999999999999E").is_err());
    }
}
