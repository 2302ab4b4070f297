//! The windows of the multi-window multi-burn-rate alerts (Google SRE
//! Workbook, chapter 5) and the windows redline records.

use crate::duration;

/// The short windows every SLO gets a recorded error ratio and burn rate for.
pub const STANDARD: [u64; 7] = [300, 1_800, 3_600, 7_200, 21_600, 86_400, 259_200];

/// One multi-window alert condition: both the long and the short window's
/// burn rate above `factor`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertWindow {
    pub severity: &'static str,
    pub long: u64,
    pub short: u64,
    pub factor: f64,
    /// Seconds the condition must hold before the alert fires (the
    /// alert's `for:`; an OpenSLO condition's `alertAfter`); 0 for none.
    pub alert_after: u64,
}

impl AlertWindow {
    pub fn long_str(&self) -> String {
        duration::format(self.long)
    }
    pub fn short_str(&self) -> String {
        duration::format(self.short)
    }
}

const THIRTY_DAYS: u64 = 30 * 86_400;

/// Scales a window defined for a 30-day SLO to `window_secs`, rounded to
/// whole minutes, and at least 5m: `rate()` needs several scrapes in its
/// range, and 1m is a single sample at a 1m scrape interval. The burn-rate factors stay the same: a
/// factor is "this share of the budget in this share of the window", so
/// scaling both keeps each alert's meaning (2% of the budget in 1/720 of
/// the window for the fast page).
pub fn scale(base: u64, window_secs: u64) -> u64 {
    if window_secs == THIRTY_DAYS {
        return base;
    }
    let scaled = (base as f64 * window_secs as f64 / THIRTY_DAYS as f64 / 60.0).round() as u64;
    (scaled * 60).max(300)
}

/// The four alert conditions of the SRE Workbook for an SLO window.
pub fn alert_windows(window_secs: u64) -> [AlertWindow; 4] {
    let w = |severity, long, short, factor| AlertWindow {
        severity,
        long: scale(long, window_secs),
        short: scale(short, window_secs),
        factor,
        alert_after: 0,
    };
    [
        w("page", 3_600, 300, 14.4),
        w("page", 21_600, 1_800, 6.0),
        w("ticket", 86_400, 7_200, 3.0),
        w("ticket", 259_200, 21_600, 1.0),
    ]
}

/// Every short window that gets recorded: the standard ones and the alert
/// windows, sorted, without duplicates, all shorter than the SLO window.
pub fn recorded(window_secs: u64) -> Vec<u64> {
    recorded_with(&alert_windows(window_secs), window_secs)
}

/// Every short window that gets recorded for an SLO with these alerts.
pub fn recorded_with(alerts: &[AlertWindow], window_secs: u64) -> Vec<u64> {
    let mut all: Vec<u64> = STANDARD.to_vec();
    for a in alerts {
        all.push(a.long);
        all.push(a.short);
    }
    all.sort_unstable();
    all.dedup();
    all.retain(|w| *w < window_secs);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_days_is_the_workbook() {
        let a = alert_windows(THIRTY_DAYS);
        assert_eq!((a[0].long, a[0].short), (3_600, 300));
        assert_eq!(recorded(THIRTY_DAYS), STANDARD.to_vec());
    }

    #[test]
    fn seven_days_scales_windows() {
        let a = alert_windows(7 * 86_400);
        assert_eq!(a[0].long_str(), "14m");
        assert_eq!(a[0].short_str(), "5m");
        assert_eq!(a[1].short_str(), "7m");
        assert_eq!(a[3].long_str(), "16h48m");
    }
}
