//! Calendar-aligned windows (OpenSLO `timeWindow` with `isRolling: false`
//! and a `calendar`): the budget resets at each period start. Periods are
//! aligned to `startTime`, local time in `timeZone` (an IANA name), and
//! step by the duration's unit in that zone's calendar:
//!
//! - `d`: a calendar day (23 or 25 hours on a daylight-saving change);
//! - `w`: 7 calendar days;
//! - `M`: a calendar month (a start on the 31st falls on the last day of
//!   shorter months: each boundary is counted from `startTime`, so the
//!   31st comes back);
//! - `Q`: 3 months; `Y`: 12 months.
//!
//! A local time a daylight-saving change skips (02:30 on a spring-forward
//! night) starts the period at the first local time after the gap; one it
//! repeats starts it at the first of the two instants.
//!
//! The burn-rate alerts and the recorded window ratio of `generate` cannot
//! reset (a PromQL range is fixed), so they use the period's nominal length:
//! 1d, 7d, 30d for a month, 90d for a quarter, 365d for a year, times the
//! count. `status` and `report` compute the budget over the current period.

use chrono::{Days, Months, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    /// The OpenSLO duration-shorthand postfix.
    pub fn postfix(self) -> char {
        match self {
            Unit::Day => 'd',
            Unit::Week => 'w',
            Unit::Month => 'M',
            Unit::Quarter => 'Q',
            Unit::Year => 'Y',
        }
    }

    /// The nominal length in days.
    pub fn nominal_days(self) -> u64 {
        match self {
            Unit::Day => 1,
            Unit::Week => 7,
            Unit::Month => 30,
            Unit::Quarter => 90,
            Unit::Year => 365,
        }
    }
}

/// A calendar-aligned window: `count` units per period, periods aligned to
/// `start` (local time in `tz`).
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    pub count: u32,
    pub unit: Unit,
    pub start: NaiveDateTime,
    pub tz: Tz,
}

/// The period that holds an instant, in Unix seconds: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: i64,
    pub end: i64,
}

impl Calendar {
    /// `1M`, as OpenSLO writes it.
    pub fn duration(&self) -> String {
        format!("{}{}", self.count, self.unit.postfix())
    }

    /// The nominal length of a period in seconds (what `generate` uses).
    pub fn nominal_secs(&self) -> u64 {
        u64::from(self.count) * self.unit.nominal_days() * 86_400
    }

    /// `1M calendar periods from 2022-01-01 00:00:00 America/New_York`.
    pub fn describe(&self) -> String {
        format!(
            "{} calendar periods from {} {}",
            self.duration(),
            self.start.format("%Y-%m-%d %H:%M:%S"),
            self.tz.name()
        )
    }

    /// The local start of period `k` (0 is `start`; negative before it).
    fn local_boundary(&self, k: i64) -> Option<NaiveDateTime> {
        let steps = k.checked_mul(i64::from(self.count))?;
        let (months, days) = match self.unit {
            Unit::Day => (0, steps),
            Unit::Week => (0, steps.checked_mul(7)?),
            Unit::Month => (steps, 0),
            Unit::Quarter => (steps.checked_mul(3)?, 0),
            Unit::Year => (steps.checked_mul(12)?, 0),
        };
        let mag = |v: i64| u32::try_from(v.unsigned_abs()).ok();
        if months != 0 {
            let m = Months::new(mag(months)?);
            if months > 0 {
                self.start.checked_add_months(m)
            } else {
                self.start.checked_sub_months(m)
            }
        } else {
            let d = Days::new(days.unsigned_abs());
            if days >= 0 {
                self.start.checked_add_days(d)
            } else {
                self.start.checked_sub_days(d)
            }
        }
    }

    /// The instant period `k` starts.
    fn boundary(&self, k: i64) -> Option<i64> {
        resolve(self.tz, self.local_boundary(k)?)
    }

    /// The period that holds `at`; an error for instants chrono cannot
    /// place (hundreds of thousands of years away).
    pub fn period_at(&self, at: i64) -> Result<Period, String> {
        let out_of_range = || {
            format!(
                "{}: no calendar period holds {at} (out of the calendar's range)",
                self.describe()
            )
        };
        let b0 = self.boundary(0).ok_or_else(out_of_range)?;
        let nominal = self.nominal_secs().max(1) as i64;
        let mut k = (at - b0).div_euclid(nominal);
        // The nominal length is within a few percent of every real one: a
        // few steps find the period.
        for _ in 0..1_000 {
            let start = self.boundary(k).ok_or_else(out_of_range)?;
            if start > at {
                k -= 1;
                continue;
            }
            let end = self.boundary(k + 1).ok_or_else(out_of_range)?;
            if end <= at {
                k += 1;
                continue;
            }
            return Ok(Period { start, end });
        }
        Err(out_of_range())
    }
}

/// The instant a local time names in `tz`: the earlier of two on a repeated
/// hour, the first local time after a skipped one.
fn resolve(tz: Tz, local: NaiveDateTime) -> Option<i64> {
    let mut t = local;
    // The longest gap in the database is a day (Pacific/Apia, 2011-12-30).
    for _ in 0..=(2 * 24 * 4) {
        match tz.from_local_datetime(&t) {
            chrono::LocalResult::Single(d) => return Some(d.timestamp()),
            chrono::LocalResult::Ambiguous(a, _) => return Some(a.timestamp()),
            chrono::LocalResult::None => {
                t = t.checked_add_signed(chrono::TimeDelta::minutes(15))?
            }
        }
    }
    None
}

/// Parses an OpenSLO calendar duration (`1M`, `2w`, `1Q`, `1Y`, `7d`): a
/// positive integer and one postfix. `Err` says why, for the caller to
/// name the node.
pub fn parse_duration(text: &str) -> Result<(u32, Unit), String> {
    let t = text.trim();
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    let (n, rest) = t.split_at(digits);
    let count = n.parse::<u32>().ok().filter(|c| *c > 0);
    let unit = match rest {
        "d" => Some(Unit::Day),
        "w" => Some(Unit::Week),
        "M" => Some(Unit::Month),
        "Q" => Some(Unit::Quarter),
        "Y" => Some(Unit::Year),
        "m" | "h" => {
            // OpenSLO's own examples write `1m` for a month.
            let month = if rest == "m" {
                " (OpenSLO's `m` is minutes; a month is `M`)"
            } else {
                ""
            };
            return Err(format!(
                "calendar window `{text}` is shorter than a day{month}: redline's windows are 1d to 366d; write it in d, w, M, Q or Y (e.g. 1d, 1w, 1M)"
            ));
        }
        _ => None,
    };
    match (count, unit) {
        (Some(c), Some(u)) => Ok((c, u)),
        _ => Err(format!(
            "unknown calendar window `{text}`: write a positive number and one of OpenSLO's units d, w, M, Q or Y (e.g. 1M, 1Q, 4w)"
        )),
    }
}

/// Parses `startTime`: `2022-01-01 00:00:00` (also with `T`, or a date
/// alone), local time without an offset.
pub fn parse_start(text: &str) -> Result<NaiveDateTime, String> {
    let t = text.trim();
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(d);
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN));
    }
    if chrono::DateTime::parse_from_rfc3339(t).is_ok() {
        return Err(format!(
            "startTime `{text}` carries a UTC offset: OpenSLO's startTime is local time in `timeZone` (e.g. 2022-01-01 00:00:00); drop the offset and name the zone in `timeZone`"
        ));
    }
    Err(format!(
        "startTime `{text}` is not a date and time: write it as OpenSLO does, `YYYY-MM-DD hh:mm:ss` (e.g. 2022-01-01 00:00:00), local time in `timeZone`"
    ))
}

/// Parses `timeZone`, an IANA name (`America/New_York`, `UTC`); the error
/// names it and the closest name when there is one.
pub fn parse_zone(text: &str) -> Result<Tz, String> {
    if let Ok(tz) = text.trim().parse::<Tz>() {
        return Ok(tz);
    }
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect();
    let hint = crate::spec::closest(text.trim(), &names)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    Err(format!(
        "unknown timeZone `{text}`: not a name of the IANA time zone database{hint}; write one such as America/New_York, Europe/Berlin or UTC"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(duration: &str, start: &str, tz: &str) -> Calendar {
        let (count, unit) = parse_duration(duration).unwrap();
        Calendar {
            count,
            unit,
            start: parse_start(start).unwrap(),
            tz: parse_zone(tz).unwrap(),
        }
    }

    fn utc(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp()
    }

    #[test]
    fn months_start_at_local_midnight_across_daylight_saving() {
        let c = cal("1M", "2022-01-01 00:00:00", "America/New_York");
        assert_eq!(c.nominal_secs(), 30 * 86_400);
        // 2026-03-15 is after the spring change (EDT, UTC-4); March started in EST.
        let p = c.period_at(utc("2026-03-15T12:00:00Z")).unwrap();
        assert_eq!(p.start, utc("2026-03-01T05:00:00Z"));
        assert_eq!(p.end, utc("2026-04-01T04:00:00Z"));
        // At the boundary itself the new period has begun.
        let p = c.period_at(utc("2026-04-01T04:00:00Z")).unwrap();
        assert_eq!(p.start, utc("2026-04-01T04:00:00Z"));
        // Before startTime the periods go on backwards, aligned the same way.
        let p = c.period_at(utc("2021-12-31T23:00:00Z")).unwrap();
        assert_eq!(p.start, utc("2021-12-01T05:00:00Z"));
        assert_eq!(p.end, utc("2022-01-01T05:00:00Z"));
    }

    #[test]
    fn a_start_on_the_31st_comes_back_after_short_months() {
        let c = cal("1M", "2026-01-31 00:00:00", "UTC");
        let p = c.period_at(utc("2026-03-01T00:00:00Z")).unwrap();
        assert_eq!(p.start, utc("2026-02-28T00:00:00Z"));
        assert_eq!(p.end, utc("2026-03-31T00:00:00Z"));
    }

    #[test]
    fn days_weeks_quarters_and_years() {
        // A day in Berlin on the autumn change has 25 hours.
        let c = cal("1d", "2026-01-01 00:00:00", "Europe/Berlin");
        let p = c.period_at(utc("2026-10-25T12:00:00Z")).unwrap();
        assert_eq!(p.end - p.start, 25 * 3_600);
        let c = cal("2w", "2026-01-05 00:00:00", "UTC");
        let p = c.period_at(utc("2026-01-20T00:00:00Z")).unwrap();
        assert_eq!(p.start, utc("2026-01-19T00:00:00Z"));
        assert_eq!(p.end, utc("2026-02-02T00:00:00Z"));
        let c = cal("1Q", "2026-01-01 00:00:00", "UTC");
        let p = c.period_at(utc("2026-05-10T00:00:00Z")).unwrap();
        assert_eq!(p.start, utc("2026-04-01T00:00:00Z"));
        assert_eq!(p.end, utc("2026-07-01T00:00:00Z"));
        assert_eq!(c.nominal_secs(), 90 * 86_400);
        let c = cal("1Y", "2020-07-01 00:00:00", "Asia/Tokyo");
        let p = c.period_at(utc("2026-05-10T00:00:00Z")).unwrap();
        assert_eq!(p.start, utc("2025-06-30T15:00:00Z"));
        assert_eq!(p.end, utc("2026-06-30T15:00:00Z"));
    }

    #[test]
    fn a_skipped_local_time_starts_the_period_after_the_gap() {
        // 2026-03-08 02:30 does not exist in New York (clocks go 02:00 -> 03:00).
        let c = cal("1d", "2026-03-07 02:30:00", "America/New_York");
        let p = c.period_at(utc("2026-03-08T12:00:00Z")).unwrap();
        assert_eq!(p.start, utc("2026-03-08T07:00:00Z")); // 03:00 EDT
        assert_eq!(p.end, utc("2026-03-09T06:30:00Z")); // 02:30 EDT
    }

    #[test]
    fn bad_inputs_say_why() {
        assert!(
            parse_duration("12h")
                .unwrap_err()
                .contains("shorter than a day:")
        );
        assert!(
            parse_duration("1m")
                .unwrap_err()
                .contains("shorter than a day (OpenSLO's `m` is minutes; a month is `M`)")
        );
        assert!(
            parse_duration("1X")
                .unwrap_err()
                .contains("unknown calendar window")
        );
        assert!(parse_duration("0M").is_err());
        assert!(
            parse_start("2022-01-01T00:00:00Z")
                .unwrap_err()
                .contains("UTC offset")
        );
        assert!(parse_start("yesterday").unwrap_err().contains("YYYY-MM-DD"));
        assert_eq!(
            parse_start("2022-01-01").unwrap(),
            parse_start("2022-01-01 00:00:00").unwrap()
        );
        let e = parse_zone("America/New_Yrok").unwrap_err();
        assert!(
            e.contains("`America/New_Yrok`") && e.contains("America/New_York"),
            "{e}"
        );
        let far = cal("1M", "2022-01-01 00:00:00", "UTC");
        assert!(far.period_at(i64::MAX / 2).is_err());
    }
}
