//! OpenSLO documents: `openslo/v1` `Service`, `SLO`, `SLI` (inline or by
//! name), `AlertPolicy` and `AlertCondition` (inline or by name; burn-rate
//! conditions become the SLO's alerts), and `openslo/v1alpha` `SLO`s read
//! the way Sloth reads them.

use crate::calendar::{self, Calendar};
use crate::duration;
use crate::spec::{
    Alerting, Cx, DEFAULT_WINDOW_SECS, Query, Registry, Sli, Slo, SpecFormat, check_name,
    has_window_placeholder,
};
use crate::windows::AlertWindow;
use crate::yaml::{Node, Pos};
use std::collections::BTreeMap;

/// The kinds an OpenSLO `metadata` may carry.
const METADATA_KEYS: &[&str] = &["name", "displayName", "labels", "annotations", "namespace"];

impl Cx {
    pub(crate) fn openslo_service(&mut self, doc: &Node) {
        self.map(
            doc,
            "the Service document",
            &["apiVersion", "kind", "metadata", "spec"],
        );
        if let Some(meta) = doc.get("metadata") {
            self.map(meta, "metadata", METADATA_KEYS);
        }
        match doc.get("metadata").and_then(|m| m.get("name")) {
            Some(n) => {
                if let Some(s) = self.string(Some(n), "metadata.name") {
                    check_name(self, &s, n.pos, "service");
                }
            }
            None => self.err(doc.pos, "OpenSLO Service without `metadata.name`".into()),
        }
        if let Some(spec) = doc.get("spec") {
            self.map(spec, "spec", &["description"]);
        }
    }

    pub(crate) fn openslo(&mut self, doc: &Node, reg: &Registry, out: &mut Vec<Slo>) {
        if self
            .map(
                doc,
                "the SLO document",
                &["apiVersion", "kind", "metadata", "spec"],
            )
            .is_none()
        {
            return;
        }
        let Some(meta) = doc.get("metadata") else {
            self.err(doc.pos, "missing `metadata`".into());
            return;
        };
        self.map(meta, "metadata", METADATA_KEYS);
        let name = self.required_string(meta, "name", "metadata.name");
        if let Some((n, p)) = &name {
            check_name(self, n, *p, "SLO name");
        }
        let mut labels = BTreeMap::new();
        if let Some(l) = meta.get("labels").and_then(Node::as_map) {
            // OpenSLO labels may be lists of values; keep the string ones.
            for (k, v) in l {
                if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                    labels.insert(k.to_string(), v.to_string());
                }
            }
        }
        let Some(spec) = doc.get("spec") else {
            self.err(doc.pos, "missing `spec`".into());
            return;
        };
        self.map(
            spec,
            "spec",
            &[
                "description",
                "service",
                "indicator",
                "indicatorRef",
                "timeWindow",
                "budgetingMethod",
                "objectives",
                "alertPolicies",
            ],
        );
        let service = self.required_string(spec, "service", "spec.service");
        if let Some((s, p)) = &service {
            check_name(self, s, *p, "service");
            self.services.push(s.clone());
        }
        if let Some((n, p)) = &name {
            self.name(service.as_ref().map(|s| s.0.as_str()), n, *p);
        }
        let description = self.string(spec.get("description"), "description");
        self.budgeting_method(spec);
        let (window, window_pos, calendar) = self.openslo_window(spec);
        // The SLO's indicator; an objective may have its own (OpenSLO's
        // composite form).
        let (ind, ind_ref) = (spec.get("indicator"), spec.get("indicatorRef"));
        let sli = match (ind, ind_ref) {
            (None, None) => None,
            _ => self.openslo_sli(ind, ind_ref, reg),
        };
        // Objectives: one SLO each.
        let mut objectives: Vec<(f64, Pos, Pos, Option<Sli>)> = Vec::new();
        let items = match spec.get("objectives").map(|o| (o, o.as_seq())) {
            None => {
                self.err(spec.pos, "missing `objectives`".into());
                &[][..]
            }
            Some((_, Some(items))) if !items.is_empty() => items,
            Some((o, _)) => {
                self.err(
                    o.pos,
                    "`objectives` must be a list of at least one objective (e.g. `[{target: 0.999}]`)"
                        .into(),
                );
                &[][..]
            }
        };
        let mut any_bad = false;
        for o in items {
            self.map(
                o,
                "an objective",
                &[
                    "displayName",
                    "target",
                    "targetPercent",
                    "op",
                    "value",
                    "timeSliceTarget",
                    "timeSliceWindow",
                    "indicator",
                    "indicatorRef",
                    "compositeWeight",
                ],
            );
            if let Some(n) = o.get("compositeWeight") {
                self.err(n.pos, "`compositeWeight` weighs the objectives of a composite SLO into one error budget, which redline does not compute: each objective is an SLO of its own, judged on its own (the gate fails when any fails); remove `compositeWeight`".into());
                any_bad = true;
            }
            let objective = if let Some(t) = o.get("target") {
                self.ratio_target(t).map(|v| (v, t.pos))
            } else if let Some(t) = o.get("targetPercent") {
                self.percent(t).map(|v| (v, t.pos))
            } else {
                self.err(
                    o.pos,
                    "missing `target` (e.g. 0.999) in the objective".into(),
                );
                None
            };
            let own = (o.get("indicator"), o.get("indicatorRef"));
            let objective_sli = match own {
                (None, None) => {
                    if ind.is_none() && ind_ref.is_none() {
                        self.err(o.pos, "missing `indicator` or `indicatorRef`: give the SLO one in `spec`, or this objective its own".into());
                        any_bad = true;
                    }
                    sli.clone()
                }
                (i, r) => self.openslo_sli(i, r, reg),
            };
            match objective {
                Some((v, pos)) => objectives.push((v, pos, o.pos, objective_sli)),
                None => any_bad = true,
            }
        }
        let (alerting, alerts) = match (spec.get("alertPolicies"), window) {
            (Some(p), Some(w)) if !p.is_null() => self.alert_policies(p, reg, w),
            (_, Some(w)) => (Alerting::default(), reg.alerts_for(w)),
            (_, None) => (Alerting::default(), Vec::new()),
        };
        let (Some((name, name_pos)), Some((service, _)), Some(window)) = (name, service, window)
        else {
            return;
        };
        // Several objectives: SLO `NAME:INDEX` each, in the order written
        // (`:` is in no SLO name: check_name refuses it).
        let several = items.len() > 1;
        for (i, (objective, objective_pos, pos, sli)) in objectives.into_iter().enumerate() {
            let (name, name_pos) = if several {
                let n = format!("{name}:{i}");
                self.name(Some(&service), &n, pos);
                (n, pos)
            } else {
                (name.clone(), name_pos)
            };
            let Some(sli) = sli else { continue };
            if any_bad {
                continue;
            }
            out.push(Slo {
                path: self.path.clone(),
                format: SpecFormat::OpenSlo,
                pos: if several { pos } else { doc.pos },
                service: service.clone(),
                name,
                name_pos,
                description: description.clone(),
                objective,
                objective_pos,
                window_secs: window,
                window_pos,
                calendar: calendar.clone(),
                k8s: None,
                sli,
                labels: labels.clone(),
                alerting: alerting.clone(),
                alerts: alerts.clone(),
            });
        }
    }

    /// An SLI from an inline `indicator` or an `indicatorRef` to an `SLI`
    /// document; problems in that document are reported in its file.
    fn openslo_sli(
        &mut self,
        ind: Option<&Node>,
        ind_ref: Option<&Node>,
        reg: &Registry,
    ) -> Option<Sli> {
        match (ind, ind_ref) {
            (Some(i), _) => self.openslo_indicator(i),
            (None, Some(r)) => match r.as_str().and_then(|n| reg.slis.get(n)) {
                Some((path, doc)) => {
                    let here = std::mem::replace(&mut self.path, path.clone());
                    let sli = self.openslo_indicator(doc);
                    self.path = here;
                    sli
                }
                None => {
                    self.err(r.pos, format!("indicatorRef `{}` does not name an OpenSLO `SLI` document in the files given", r.as_str().unwrap_or("?")));
                    None
                }
            },
            (None, None) => None,
        }
    }

    fn budgeting_method(&mut self, spec: &Node) {
        let Some(b) = spec.get("budgetingMethod") else {
            return;
        };
        match b.as_str() {
            Some("Occurrences") => {}
            Some(m @ ("Timeslices" | "RatioTimeslices")) => self.err(
                b.pos,
                format!("budgetingMethod `{m}` is not supported: redline's budget, recorded ratios and burn-rate alerts count events (`Occurrences`: bad events / all events over the window); `{m}` counts time slices that meet a target, which needs per-slice evaluation redline does not do"),
            ),
            other => self.err(
                b.pos,
                format!(
                    "unknown budgetingMethod `{}`: OpenSLO v1 has Occurrences, Timeslices and RatioTimeslices, and redline computes `Occurrences`",
                    other.unwrap_or("?")
                ),
            ),
        }
    }

    fn ratio_target(&mut self, t: &Node) -> Option<f64> {
        match t.as_str().and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(v) if v > 0.0 && v < 1.0 => Some((v * 100.0 * 1e9).round() / 1e9),
            _ => {
                self.err(
                    t.pos,
                    "`target` must be a ratio strictly between 0 and 1 (e.g. 0.999)".into(),
                );
                None
            }
        }
    }

    /// `timeWindow`: one rolling window (default 30d), or one
    /// calendar-aligned window ([`crate::calendar`]), whose nominal length
    /// is the window of the generated rules.
    fn openslo_window(&mut self, spec: &Node) -> (Option<u64>, Pos, Option<Calendar>) {
        match spec.get("timeWindow").map(|t| (t, t.as_seq())) {
            None => (Some(DEFAULT_WINDOW_SECS), spec.pos, None),
            Some((_, Some([w]))) => {
                if self
                    .map(w, "timeWindow", &["duration", "isRolling", "calendar"])
                    .is_none()
                {
                    return (None, w.pos, None);
                }
                let calendar = w.get("calendar").filter(|c| !c.is_null());
                let rolling = match w.get("isRolling") {
                    Some(r) => self.bool(Some(r), "isRolling"),
                    // OpenSLO: `false` when `calendar` is present.
                    None => calendar.is_none(),
                };
                let Some(d) = w.get("duration") else {
                    self.err(w.pos, "missing `duration` in timeWindow".into());
                    return (None, w.pos, None);
                };
                match (rolling, calendar) {
                    (true, None) => (self.window(d), d.pos, None),
                    (true, Some(c)) => {
                        self.err(c.pos, "`calendar` with `isRolling: true`: a calendar aligns the periods of a calendar window; remove `calendar` for a rolling window, or set `isRolling: false`".into());
                        (None, w.pos, None)
                    }
                    (false, None) => {
                        let at = w.get("isRolling").map_or(w.pos, |n| n.pos);
                        self.err(at, "`isRolling: false` without `calendar`: a calendar-aligned window needs `calendar: {startTime: \"2022-01-01 00:00:00\", timeZone: UTC}` to say where its periods start".into());
                        (None, w.pos, None)
                    }
                    (false, Some(c)) => match self.calendar(d, c) {
                        Some(cal) => (Some(cal.nominal_secs()), d.pos, Some(cal)),
                        None => (None, d.pos, None),
                    },
                }
            }
            Some((t, _)) => {
                self.err(
                    t.pos,
                    "`timeWindow` must be a list with exactly one window".into(),
                );
                (None, t.pos, None)
            }
        }
    }

    /// A calendar window's `duration` and `calendar`. The nominal length
    /// must be a window redline records (1d to 366d), as for a rolling one.
    fn calendar(&mut self, d: &Node, c: &Node) -> Option<Calendar> {
        self.map(c, "calendar", &["startTime", "timeZone"])?;
        let text = d.as_str().unwrap_or("");
        let unit = match calendar::parse_duration(text) {
            Ok(u) => Some(u),
            Err(why) => {
                self.err(d.pos, why);
                None
            }
        };
        let start = match c.get("startTime") {
            Some(n) => match calendar::parse_start(n.as_str().unwrap_or("")) {
                Ok(t) => Some(t),
                Err(why) => {
                    self.err(n.pos, why);
                    None
                }
            },
            None => {
                self.err(c.pos, "missing `startTime` in calendar: the periods are aligned to it (e.g. `startTime: \"2022-01-01 00:00:00\"` for months starting on the 1st at midnight)".into());
                None
            }
        };
        let tz = match c.get("timeZone") {
            Some(n) => match calendar::parse_zone(n.as_str().unwrap_or("")) {
                Ok(t) => Some(t),
                Err(why) => {
                    self.err(n.pos, why);
                    None
                }
            },
            // OpenSLO names no default; UTC is the zone without offsets.
            None => Some(chrono_tz::UTC),
        };
        let ((count, unit), start, tz) = (unit?, start?, tz?);
        let cal = Calendar {
            count,
            unit,
            start,
            tz,
        };
        let nominal = cal.nominal_secs();
        if !(86_400..=366 * 86_400).contains(&nominal) {
            self.err(d.pos, format!("calendar window `{text}` is out of range: its nominal length ({}) must be between 1d and 366d, as for a rolling window (e.g. 1w, 1M, 1Q, 1Y)", duration::format(nominal)));
            return None;
        }
        Some(cal)
    }

    /// `alertPolicies`: each an `alertPolicyRef` or an inline
    /// `AlertPolicy`; their burn-rate conditions become the SLO's alerts.
    /// A severity no condition names gets no alert.
    fn alert_policies(
        &mut self,
        node: &Node,
        reg: &Registry,
        window_secs: u64,
    ) -> (Alerting, Vec<AlertWindow>) {
        let mut alerting = Alerting::default();
        let mut alerts = Vec::new();
        let Some(items) = node.as_seq() else {
            self.err(
                node.pos,
                format!("`alertPolicies` must be a list, found a {}", node.kind()),
            );
            return (alerting, reg.alerts_for(window_secs));
        };
        for item in items {
            let policy = match item.get("alertPolicyRef") {
                Some(r) => match r.as_str().and_then(|n| reg.policies.get(n)) {
                    Some((path, doc)) => Some((path.clone(), doc.clone())),
                    None => {
                        self.err(r.pos, format!("alertPolicyRef `{}` does not name an OpenSLO `AlertPolicy` document in the files given", r.as_str().unwrap_or("?")));
                        None
                    }
                },
                None => Some((self.path.clone(), item.clone())),
            };
            let Some((path, policy)) = policy else {
                continue;
            };
            let here = std::mem::replace(&mut self.path, path);
            self.alert_policy(&policy, reg, window_secs, &mut alerts);
            self.path = here;
        }
        alerting.page.disable = !alerts.iter().any(|a| a.severity == "page");
        alerting.ticket.disable = !alerts.iter().any(|a| a.severity == "ticket");
        alerting.page.pos = node.pos;
        alerting.ticket.pos = node.pos;
        (alerting, alerts)
    }

    fn alert_policy(
        &mut self,
        doc: &Node,
        reg: &Registry,
        window_secs: u64,
        out: &mut Vec<AlertWindow>,
    ) {
        if self
            .map(
                doc,
                "an AlertPolicy",
                &["apiVersion", "kind", "metadata", "spec"],
            )
            .is_none()
        {
            return;
        }
        if let Some(k) = doc.get("kind")
            && k.as_str() != Some("AlertPolicy")
        {
            self.err(k.pos, format!("an entry of `alertPolicies` is an `AlertPolicy` or an `alertPolicyRef`, not a `{}`", k.as_str().unwrap_or("?")));
            return;
        }
        let Some(spec) = doc.get("spec") else {
            self.err(doc.pos, "AlertPolicy without `spec`".into());
            return;
        };
        self.map(
            spec,
            "the AlertPolicy spec",
            &[
                "description",
                "alertWhenNoData",
                "alertWhenResolved",
                "alertWhenBreaching",
                "conditions",
                "notificationTargets",
            ],
        );
        if let Some(n) = spec.get("alertWhenNoData")
            && self.bool(Some(n), "alertWhenNoData")
        {
            self.err(n.pos, "`alertWhenNoData: true` is not supported: redline's alerts compare recorded burn rates, and with no data there is no burn rate to compare, so they stay silent; alert on missing data with a separate `absent()` rule".into());
        }
        // `alertWhenResolved` is about notifications (Alertmanager's
        // `send_resolved`), not about when the alert fires.
        let breaching = match spec.get("alertWhenBreaching") {
            Some(n) => self.bool(Some(n), "alertWhenBreaching"),
            None => true,
        };
        let Some(conditions) = spec.get("conditions") else {
            self.err(spec.pos, "AlertPolicy without `conditions`".into());
            return;
        };
        let Some(items) = conditions.as_seq() else {
            self.err(conditions.pos, "`conditions` must be a list".into());
            return;
        };
        for item in items {
            let cond = match item.get("conditionRef") {
                Some(r) => match r.as_str().and_then(|n| reg.conditions.get(n)) {
                    Some((path, doc)) => Some((path.clone(), doc.clone())),
                    None => {
                        self.err(r.pos, format!("conditionRef `{}` does not name an OpenSLO `AlertCondition` document in the files given", r.as_str().unwrap_or("?")));
                        None
                    }
                },
                None => Some((self.path.clone(), item.clone())),
            };
            let Some((path, cond)) = cond else { continue };
            let here = std::mem::replace(&mut self.path, path);
            if let Some(a) = self.alert_condition(&cond, window_secs)
                && breaching
            {
                out.push(a);
            }
            self.path = here;
        }
    }

    /// A burn-rate `AlertCondition`: the burn rate over `lookbackWindow`
    /// above `threshold`. It is one window, so the alert's long and short
    /// windows are both `lookbackWindow`.
    fn alert_condition(&mut self, doc: &Node, window_secs: u64) -> Option<AlertWindow> {
        self.map(
            doc,
            "an AlertCondition",
            &["apiVersion", "kind", "metadata", "spec"],
        )?;
        let Some(spec) = doc.get("spec") else {
            self.err(doc.pos, "AlertCondition without `spec`".into());
            return None;
        };
        self.map(
            spec,
            "the AlertCondition spec",
            &["description", "severity", "condition"],
        )?;
        let (severity, sev_pos) = self.required_string(spec, "severity", "severity")?;
        let severity: &'static str = match severity.as_str() {
            "page" => "page",
            "ticket" => "ticket",
            other => {
                self.err(sev_pos, format!("severity `{other}` is not one redline alerts on: redline's alerts are `page` (fails the deploy gate) or `ticket`, carried as the `redline_severity` label; name the condition's severity `page` or `ticket`"));
                return None;
            }
        };
        let Some(c) = spec.get("condition") else {
            self.err(spec.pos, "AlertCondition without `condition`".into());
            return None;
        };
        self.map(
            c,
            "condition",
            &["kind", "op", "threshold", "lookbackWindow", "alertAfter"],
        )?;
        if let Some(k) = c.get("kind")
            && k.as_str() != Some("burnrate")
        {
            self.err(
                k.pos,
                format!(
                    "condition kind `{}` is not supported: OpenSLO v1 defines `burnrate`",
                    k.as_str().unwrap_or("?")
                ),
            );
            return None;
        }
        match c.get("op").and_then(Node::as_str) {
            Some("gt" | "gte") => {}
            Some(op @ ("lt" | "lte")) => {
                self.err(c.get("op").map_or(c.pos, |n| n.pos), format!("op `{op}` alerts while the burn rate is below the threshold; redline's burn-rate alerts fire when it is above (`gt` or `gte`)"));
                return None;
            }
            Some(op) => {
                self.err(
                    c.get("op").map_or(c.pos, |n| n.pos),
                    format!("unknown op `{op}`: OpenSLO has lte, gte, lt and gt"),
                );
                return None;
            }
            None => {
                self.err(
                    c.pos,
                    "missing `op` (`gt` or `gte`) in the condition".into(),
                );
                return None;
            }
        }
        let threshold = match c.get("threshold") {
            Some(t) => match t.as_str().and_then(|s| s.trim().parse::<f64>().ok()) {
                Some(v) if v > 0.0 && v.is_finite() => v,
                _ => {
                    self.err(
                        t.pos,
                        "`threshold` must be a positive burn rate (e.g. 14.4)".into(),
                    );
                    return None;
                }
            },
            None => {
                self.err(c.pos, "missing `threshold` in the condition".into());
                return None;
            }
        };
        let Some(lw) = c.get("lookbackWindow") else {
            self.err(c.pos, "missing `lookbackWindow` in the condition".into());
            return None;
        };
        let text = lw.as_str().unwrap_or("");
        let lookback = match duration::parse(text) {
            Some(s) if s >= 60 && s % 60 == 0 && s < window_secs => s,
            _ => {
                self.err(lw.pos, format!("`lookbackWindow` `{text}` must be a duration of whole minutes, at least 1m and shorter than the SLO window"));
                return None;
            }
        };
        // The alert's `for:` (Prometheus: the condition held at every
        // evaluation for that long).
        let alert_after = match c.get("alertAfter") {
            None => 0,
            Some(a) => {
                let text = a.as_str().unwrap_or("");
                match duration::parse(text) {
                    Some(s) if s < window_secs => s,
                    Some(_) => {
                        self.err(a.pos, format!("`alertAfter: {text}` is as long as the SLO window or longer: the alert could only fire after the whole window burned; give a duration shorter than the window (e.g. 5m)"));
                        return None;
                    }
                    None => {
                        self.err(a.pos, format!("`alertAfter` `{text}` is not a duration: write one such as 0m, 5m or 1h"));
                        return None;
                    }
                }
            }
        };
        Some(AlertWindow {
            severity,
            long: lookback,
            short: lookback,
            factor: threshold,
            alert_after,
        })
    }

    /// An `openslo/v1alpha` SLO, as Sloth reads it: each objective is an SLO
    /// named `NAME-INDEX` whose error ratio is `1 - (good / total)`, over
    /// `timeWindows[0].count` days, with no alerts.
    pub(crate) fn openslo_v1alpha(
        &mut self,
        doc: &Node,
        default_window: u64,
        reg: &Registry,
        out: &mut Vec<Slo>,
    ) {
        let Some(meta) = doc.get("metadata") else {
            self.err(doc.pos, "missing `metadata`".into());
            return;
        };
        let Some((name, name_pos)) = self.required_string(meta, "name", "metadata.name") else {
            return;
        };
        let Some(spec) = doc.get("spec") else {
            self.err(doc.pos, "missing `spec`".into());
            return;
        };
        let Some((service, _)) = self.required_string(spec, "service", "spec.service") else {
            return;
        };
        check_name(self, &service, spec.pos, "service");
        self.services.push(service.clone());
        let description = self.string(spec.get("description"), "description");
        let mut window = default_window;
        let mut window_pos = spec.pos;
        if let Some(tw) = spec.get("timeWindows") {
            match tw.as_seq() {
                None | Some([]) => {}
                Some([w]) => {
                    window_pos = w.pos;
                    if w.get_str("unit").map(str::to_ascii_lowercase).as_deref() != Some("day") {
                        self.err(
                            w.pos,
                            "only `unit: Day` time windows are supported (as in Sloth)".into(),
                        );
                        return;
                    }
                    match w.get_str("count").and_then(|c| c.parse::<u64>().ok()) {
                        Some(c) if (1..=366).contains(&c) => window = c * 86_400,
                        _ => {
                            self.err(
                                w.pos,
                                "`count` must be a number of days between 1 and 366".into(),
                            );
                            return;
                        }
                    }
                }
                Some(_) => {
                    self.err(
                        tw.pos,
                        "only 1 time window is supported (as in Sloth)".into(),
                    );
                    return;
                }
            }
        }
        let Some(objectives) = spec.get("objectives").and_then(Node::as_seq) else {
            self.err(
                spec.pos,
                "at least one objective is required (`objectives`)".into(),
            );
            return;
        };
        if objectives.is_empty() {
            self.err(
                spec.pos,
                "at least one objective is required (`objectives`)".into(),
            );
        }
        for (idx, o) in objectives.iter().enumerate() {
            let slo_name = format!("{name}-{idx}");
            self.name(Some(&service), &slo_name, name_pos);
            let Some(ratio) = o.get("ratioMetrics") else {
                self.err(
                    o.pos,
                    "missing `ratioMetrics`: Sloth and redline read `v1alpha` ratio objectives"
                        .into(),
                );
                continue;
            };
            let q = |cx: &mut Cx, key: &str| -> Option<Query> {
                let Some(m) = ratio.get(key) else {
                    cx.err(ratio.pos, format!("missing `{key}` in ratioMetrics"));
                    return None;
                };
                if !matches!(m.get_str("source"), Some("prometheus" | "sloth")) {
                    cx.err(m.pos, format!("`{key}` needs `source: prometheus` (Sloth reads `prometheus` or `sloth` sources)"));
                    return None;
                }
                if m.get_str("queryType") != Some("promql") {
                    cx.err(m.pos, format!("`{key}` needs `queryType: promql`"));
                    return None;
                }
                cx.raw_query(m.get("query"), m, "query")
            };
            let good = q(self, "good");
            let total = q(self, "total");
            let objective = match o.get("target") {
                Some(t) => self.ratio_target(t),
                None => {
                    self.err(
                        o.pos,
                        "missing `target` (e.g. 0.999) in the objective".into(),
                    );
                    None
                }
            };
            let (Some(good), Some(total), Some(objective)) = (good, total, objective) else {
                continue;
            };
            let q = Query {
                text: format!(
                    "1 - (\n  (\n    {}\n  )\n  /\n  (\n    {}\n  )\n)",
                    good.text, total.text
                ),
                pos: good.pos,
            };
            self.check_query(&q, "the objective's good/total query");
            let mut alerting = Alerting::default();
            alerting.page.disable = true;
            alerting.ticket.disable = true;
            out.push(Slo {
                path: self.path.clone(),
                format: SpecFormat::OpenSlo,
                pos: o.pos,
                service: service.clone(),
                name: slo_name,
                name_pos,
                description: description.clone(),
                objective,
                objective_pos: o.get("target").map_or(o.pos, |n| n.pos),
                window_secs: window,
                window_pos,
                calendar: None,
                k8s: None,
                sli: Sli::Raw { error_ratio: q },
                labels: BTreeMap::new(),
                alerting,
                alerts: reg.alerts_for(window),
            });
        }
    }

    pub(crate) fn openslo_indicator(&mut self, ind: &Node) -> Option<Sli> {
        let spec = match ind.get("spec") {
            Some(s) => s,
            None => {
                self.err(ind.pos, "the indicator has no `spec`".into());
                return None;
            }
        };
        let Some(ratio) = spec.get("ratioMetric") else {
            let p = spec
                .get("thresholdMetric")
                .map(|n| n.pos)
                .unwrap_or(spec.pos);
            self.err(p, "only `ratioMetric` indicators are supported: a `thresholdMetric` SLI judges a metric's value against the objective's `op`/`value` (a latency, a utilisation), which is not a count of good and bad events, and redline's budgets, rules and alerts are ratios of event counts; write the SLI as a `ratioMetric` (e.g. requests under the threshold, from a histogram bucket, as `good`, and all requests as `total`)".into());
            return None;
        };
        self.map(
            ratio,
            "ratioMetric",
            &["counter", "good", "bad", "total", "rawType", "raw"],
        );
        let total = self.openslo_query(ratio.get("total"), ratio, "total");
        let good = ratio.get("good");
        let bad = ratio.get("bad");
        if let Some(raw) = ratio.get("raw") {
            let q = self.openslo_query(Some(raw), ratio, "raw")?;
            if ratio.get("rawType").and_then(Node::as_str) == Some("success") {
                return Some(Sli::Raw {
                    error_ratio: Query {
                        text: format!("1 - ({})", q.text),
                        pos: q.pos,
                    },
                });
            }
            return Some(Sli::Raw { error_ratio: q });
        }
        let total = total?;
        match (good, bad) {
            (_, Some(b)) => {
                let bad = self.openslo_query(Some(b), ratio, "bad")?;
                Some(Sli::Events { error: bad, total })
            }
            (Some(g), None) => {
                let good = self.openslo_query(Some(g), ratio, "good")?;
                Some(Sli::Events {
                    error: Query {
                        text: format!("({}) - ({})", total.text, good.text),
                        pos: good.pos,
                    },
                    total,
                })
            }
            (None, None) => {
                self.err(
                    ratio.pos,
                    "ratioMetric needs `good` or `bad` next to `total`".into(),
                );
                None
            }
        }
    }

    /// `{metricSource: {type: Prometheus, spec: {query: ...}}}`. A bare
    /// counter selector becomes `sum(rate(SELECTOR[{{.window}}]))`.
    pub(crate) fn openslo_query(
        &mut self,
        node: Option<&Node>,
        parent: &Node,
        what: &str,
    ) -> Option<Query> {
        let Some(node) = node else {
            self.err(parent.pos, format!("missing `{what}`"));
            return None;
        };
        let Some(src) = node.get("metricSource") else {
            self.err(node.pos, format!("`{what}` needs a `metricSource`"));
            return None;
        };
        if let Some(t) = src.get("type")
            && t.as_str() != Some("Prometheus")
        {
            self.err(
                t.pos,
                format!(
                    "metricSource type `{}` is not supported: redline generates Prometheus rules and queries a Prometheus-compatible API, so it reads `type: Prometheus` queries",
                    t.as_str().unwrap_or("?")
                ),
            );
            return None;
        }
        let Some(spec) = src.get("spec") else {
            self.err(src.pos, "metricSource needs a `spec` with a `query`".into());
            return None;
        };
        let q = self.raw_query(spec.get("query"), spec, "query")?;
        if !has_window_placeholder(&q.text)
            && let Ok(promql_parser::parser::Expr::VectorSelector(_)) =
                crate::check::parse_promql(&q.text)
        {
            return Some(Query {
                text: format!("sum(rate({}[{{{{.window}}}}]))", q.text),
                pos: q.pos,
            });
        }
        self.check_query(&q, "query");
        Some(q)
    }
}
