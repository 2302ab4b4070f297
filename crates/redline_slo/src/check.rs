//! Checks across loaded SLOs: names are unique across files, alerts can
//! fire. (Queries are checked while loading, valid SLO or not.)

use crate::spec::{Problem, Slo, SloName};
use crate::windows;
use std::collections::BTreeMap;

/// Every problem with the loaded SLOs (the loaders' own problems are
/// reported separately).
pub fn check(slos: &[Slo], names: &[SloName]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<(&str, &str), &SloName> = BTreeMap::new();
    for n in names {
        match seen.get(&(n.service.as_str(), n.name.as_str())) {
            Some(first) => problems.push(Problem {
                path: n.path.clone(),
                pos: n.pos,
                message: format!(
                    "duplicate SLO `{}` for service `{}`: first defined at {}:{}:{}; rule and alert names would collide",
                    n.name, n.service, first.path, first.pos.line, first.pos.column
                ),
            }),
            None => {
                seen.insert((&n.service, &n.name), n);
            }
        }
    }
    for slo in slos {
        let mut err = |pos, message: String| {
            problems.push(Problem {
                path: slo.path.clone(),
                pos,
                message,
            })
        };
        let budget = slo.error_budget();
        for a in windows::alert_windows(slo.window_secs) {
            let settings = if a.severity == "page" {
                &slo.alerting.page
            } else {
                &slo.alerting.ticket
            };
            if settings.disable {
                continue;
            }
            if a.factor * budget > 1.0 {
                let pos = if settings.pos.line > 0 {
                    settings.pos
                } else {
                    slo.objective_pos
                };
                err(
                    pos,
                    format!(
                        "the {} alert ({} and {} windows at {}x burn) can never fire: {}x the error budget of {:.4}% is {:.1}%, above a 100% error ratio; raise the objective or disable the alert (`{}_alert: {{disable: true}}`)",
                        a.severity,
                        a.long_str(),
                        a.short_str(),
                        a.factor,
                        a.factor,
                        budget * 100.0,
                        a.factor * budget * 100.0,
                        a.severity
                    ),
                );
            }
        }
    }
    problems
}
