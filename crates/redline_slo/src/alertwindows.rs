//! Sloth `AlertWindows` specs (`apiVersion: sloth.slok.dev/v1`, `kind:
//! AlertWindows`): custom multi-window multi-burn-rate alerts for the SLOs
//! of one period, applied as Sloth applies the files of
//! `--slo-period-windows-path`: every SLO whose window is the spec's
//! `sloPeriod` gets its four alerts, each with the burn-rate factor
//! `errorBudgetPercent / 100 × sloPeriod / longWindow` (Sloth's
//! `getBurnRateFactor`). SLOs of other periods keep redline's defaults.

use crate::duration;
use crate::spec::{Cx, Registry};
use crate::windows::AlertWindow;
use crate::yaml::{Node, Pos};

/// The four alerts of one `AlertWindows` spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Set {
    pub period: u64,
    pub alerts: [AlertWindow; 4],
    pub path: String,
    pub pos: Pos,
}

/// Sloth's burn-rate factor: the speed at which `percent` of the budget of
/// `period` is spent in `long`.
pub fn factor(period: u64, percent: f64, long: u64) -> f64 {
    let hours_to_consume = percent * (period as f64 / 3600.0) / 100.0;
    hours_to_consume / (long as f64 / 3600.0)
}

impl Cx {
    /// Reads one `AlertWindows` document into `reg`.
    pub(crate) fn alert_windows(&mut self, doc: &Node, reg: &mut Registry) {
        if self
            .map(
                doc,
                "the AlertWindows",
                &["apiVersion", "kind", "metadata", "spec"],
            )
            .is_none()
        {
            return;
        }
        let Some(spec) = doc.get("spec") else {
            self.err(doc.pos, "AlertWindows without `spec`".into());
            return;
        };
        if self
            .map(
                spec,
                "the AlertWindows spec",
                &["sloPeriod", "page", "ticket"],
            )
            .is_none()
        {
            return;
        }
        let period = match spec.get("sloPeriod") {
            None => {
                self.err(
                    spec.pos,
                    "missing `sloPeriod` (the SLO window these alerts are for, e.g. 30d)".into(),
                );
                None
            }
            Some(p) => {
                let text = p.as_str().unwrap_or("");
                match duration::parse(text) {
                    Some(s) if (86_400..=366 * 86_400).contains(&s) && s % 60 == 0 => Some(s),
                    _ => {
                        self.err(p.pos, format!("`sloPeriod` `{text}` is not an SLO window redline computes: use a duration between 1d and 366d (e.g. 7d, 28d, 30d)"));
                        None
                    }
                }
            }
        };
        let mut windows = Vec::new();
        for severity in ["page", "ticket"] {
            let Some(sev) = spec.get(severity) else {
                self.err(
                    spec.pos,
                    format!("missing `{severity}` (its `quick` and `slow` windows)"),
                );
                continue;
            };
            if self.map(sev, severity, &["quick", "slow"]).is_none() {
                continue;
            }
            for speed in ["quick", "slow"] {
                let what = format!("{severity}.{speed}");
                let Some(w) = sev.get(speed) else {
                    self.err(sev.pos, format!("missing `{what}`"));
                    continue;
                };
                if self
                    .map(
                        w,
                        &what,
                        &["errorBudgetPercent", "shortWindow", "longWindow"],
                    )
                    .is_none()
                {
                    continue;
                }
                let percent = match w.get("errorBudgetPercent") {
                    Some(n) => match n.as_str().and_then(|s| s.trim().parse::<f64>().ok()) {
                        Some(v) if v > 0.0 && v <= 100.0 => Some(v),
                        _ => {
                            self.err(n.pos, format!("`{what}.errorBudgetPercent` must be a percentage of the budget above 0 and at most 100 (e.g. 2)"));
                            None
                        }
                    },
                    None => {
                        self.err(w.pos, format!("missing `{what}.errorBudgetPercent`"));
                        None
                    }
                };
                let mut dur = |key: &str| match w.get(key) {
                    Some(n) => {
                        let text = n.as_str().unwrap_or("");
                        match duration::parse(text) {
                            Some(s) if s >= 60 && s % 60 == 0 => Some((s, n.pos)),
                            _ => {
                                self.err(n.pos, format!("`{what}.{key}` `{text}` must be a duration of whole minutes, at least 1m (e.g. 5m, 1h)"));
                                None
                            }
                        }
                    }
                    None => {
                        self.err(w.pos, format!("missing `{what}.{key}`"));
                        None
                    }
                };
                let short = dur("shortWindow");
                let long = dur("longWindow");
                if let (Some(period), Some((long, long_pos))) = (period, long)
                    && long >= period
                {
                    self.err(
                        long_pos,
                        format!("`{what}.longWindow` must be shorter than the `sloPeriod`"),
                    );
                    continue;
                }
                if let (Some(percent), Some((short, _)), Some((long, _))) = (percent, short, long) {
                    windows.push((severity, percent, short, long));
                }
            }
        }
        let (Some(period), [pq, ps, tq, ts]) = (period, windows.as_slice()) else {
            return;
        };
        let alert = |(severity, percent, short, long): (&'static str, f64, u64, u64)| AlertWindow {
            severity,
            long,
            short,
            factor: factor(period, percent, long),
            alert_after: 0,
        };
        let set = Set {
            period,
            alerts: [alert(*pq), alert(*ps), alert(*tq), alert(*ts)],
            path: self.path.clone(),
            pos: doc.pos,
        };
        match reg.windows.get(&period) {
            Some(first) if first.alerts != set.alerts => {
                let msg = format!(
                    "a second AlertWindows for sloPeriod {} with other windows (the first is at {}:{}:{}): which to use would be ambiguous (Sloth refuses it too)",
                    duration::format(period),
                    first.path,
                    first.pos.line,
                    first.pos.column
                );
                self.err(doc.pos, msg);
            }
            Some(_) => {}
            None => {
                reg.windows.insert(period, set);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_are_sloths() {
        // Sloth's google-30d windows: 2% in 1h, 5% in 6h, 10% in 1d, 10% in 3d.
        let d30 = 30 * 86_400;
        assert!((factor(d30, 2.0, 3_600) - 14.4).abs() < 1e-9);
        assert!((factor(d30, 5.0, 21_600) - 6.0).abs() < 1e-9);
        assert!((factor(d30, 10.0, 86_400) - 3.0).abs() < 1e-9);
        assert!((factor(d30, 10.0, 259_200) - 1.0).abs() < 1e-9);
        // google-28d: the same windows, smaller factors.
        assert!((factor(28 * 86_400, 2.0, 3_600) - 13.44).abs() < 1e-9);
    }
}
