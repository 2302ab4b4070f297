//! The HTML report: per SLO, the error ratio, the remaining budget over the
//! window and the burn rates against the alert thresholds as inline SVG,
//! deploy events as markers, and the fast-burn attribution table. One
//! self-contained file: no scripts, fonts or images from the network.

use crate::duration;
use crate::events::Event;
use crate::prom::{Client, PromError};
use crate::spec::{Sli, Slo};
use crate::status::{self, rfc3339};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The resolution of the report: each point is the 5m rate ending there.
pub const STEP: i64 = 300;

/// A period of fast burn: the page alert condition held, extended back to
/// where the 5m burn rate first rose above the lowest page factor.
#[derive(Debug, Clone, PartialEq)]
pub struct BurnPeriod {
    pub start: i64,
    pub end: i64,
    pub peak_burn: f64,
    /// Share of the window's error budget spent during the period, percent.
    pub budget_spent_pct: f64,
    /// Deploys in the hour before `start` (and up to it), latest first.
    pub suspects: Vec<Event>,
    /// The most likely deploy (the first suspect) traced to its commits
    /// and the red-line findings they introduced.
    pub trace: Option<crate::trace::Attribution>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SloReport {
    pub slo_title: String,
    pub objective: f64,
    pub window: String,
    pub start: i64,
    pub end: i64,
    /// (time, 5m error ratio)
    pub ratio: Vec<(i64, f64)>,
    /// (time, remaining budget % of this window)
    pub remaining: Vec<(i64, f64)>,
    /// Burn-rate series per alert window, e.g. "1h" → points.
    pub burns: Vec<(String, Vec<(i64, f64)>)>,
    pub thresholds: Vec<(String, f64)>,
    pub periods: Vec<BurnPeriod>,
    pub events: Vec<Event>,
    /// The first instant of the window with data: the charts start there
    /// (`start` when the whole window has data).
    pub data_from: i64,
    /// Said above the charts: too little data to chart.
    pub note: Option<String>,
    /// A calendar-aligned window: when the current period ends (the
    /// charts run to it) and the zone its periods are aligned in.
    pub period_end: Option<i64>,
    pub time_zone: Option<String>,
}

/// Builds the data of one SLO's report from two range queries (errors and
/// totals over 5m at a 5m step): every longer window is a sum of those.
pub fn build(client: &Client, slo: &Slo, at: i64, events: &[Event]) -> Result<SloReport, String> {
    build_with(client, slo, at, events, false)
}

/// [`build`]; with `allow_no_traffic`, an SLO whose queries return no
/// series gets a report that says so instead of an error (as `status
/// --allow-no-traffic` passes it).
pub fn build_with(
    client: &Client,
    slo: &Slo,
    at: i64,
    events: &[Event],
    allow_no_traffic: bool,
) -> Result<SloReport, String> {
    let ctx = |e: PromError| format!("{}/{} ({}): {e}", slo.service, slo.name, slo.path);
    let budget = slo.error_budget();
    let alerts = slo.alert_windows();
    let longest = alerts.iter().map(|a| a.long).max().unwrap_or(0) as i64;
    let end = at - at.rem_euclid(STEP);
    // A calendar window: the current period so far (its first step may
    // reach back into the period before, as in `status`).
    let (start, period_end) = match &slo.calendar {
        Some(c) => {
            let p = c
                .period_at(at)
                .map_err(|e| format!("{}/{} ({}): {e}", slo.service, slo.name, slo.path))?;
            (p.start.min(end - STEP), Some(p.end))
        }
        None => (end - slo.window_secs as i64, None),
    };
    let window = match &slo.calendar {
        Some(c) => c.duration(),
        None => slo.window(),
    };
    let time_zone = slo.calendar.as_ref().map(|c| c.tz.name().to_string());
    let fetch_from = start - longest;
    // Per step: (errors, total) proportional to the increases of the 5m ending there.
    let mut points: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    match &slo.sli {
        Sli::Events { error, total } => {
            let t = client
                .query_range(&total.at("5m"), fetch_from, end, STEP)
                .map_err(ctx)?;
            let e = client
                .query_range(&error.at("5m"), fetch_from, end, STEP)
                .map_err(ctx)?;
            if t.is_empty() {
                return young(
                    client,
                    slo,
                    at,
                    start,
                    end,
                    &total.at("5m"),
                    fetch_from,
                    allow_no_traffic,
                );
            }
            // As in `status`: no error series at all is no data, not zero
            // errors. A step without an error sample (the series did not
            // exist yet) counts as no errors.
            if e.is_empty() {
                return Err(ctx(PromError::NoData {
                    query: error.at("5m"),
                }));
            }
            // A NaN, infinite or negative count is a broken query, not
            // zero errors: refuse it, naming the query and the time.
            let checked = |q: String, series: &[crate::prom::Point]| -> Result<(), String> {
                match series
                    .iter()
                    .find_map(|(ts, v)| status::bad_count(*v).map(|why| (*ts, *v, why)))
                {
                    Some((ts, v, why)) => Err(ctx(PromError::Config(format!(
                        "at {}: {}",
                        rfc3339(ts),
                        status::bad_answer(&q, v, why)
                    )))),
                    None => Ok(()),
                }
            };
            checked(total.at("5m"), &t)?;
            checked(error.at("5m"), &e)?;
            for (ts, v) in t {
                points.insert(ts, (0.0, v));
            }
            for (ts, v) in e {
                if let Some(p) = points.get_mut(&ts) {
                    p.0 = v;
                }
            }
        }
        Sli::Raw { error_ratio } => {
            let r = client
                .query_range(&error_ratio.at("5m"), fetch_from, end, STEP)
                .map_err(ctx)?;
            if r.is_empty() {
                return young(
                    client,
                    slo,
                    at,
                    start,
                    end,
                    &error_ratio.at("5m"),
                    fetch_from,
                    allow_no_traffic,
                );
            }
            if let Some((ts, v, why)) = r
                .iter()
                .find_map(|(ts, v)| status::bad_ratio(*v).map(|why| (*ts, *v, why)))
            {
                return Err(ctx(PromError::Config(format!(
                    "at {}: {}",
                    rfc3339(ts),
                    status::bad_answer(&error_ratio.at("5m"), v, why)
                ))));
            }
            for (ts, v) in r {
                // NaN is 0/0: no traffic in that step, not zero errors.
                points.insert(ts, if v.is_nan() { (0.0, 0.0) } else { (v, 1.0) });
            }
        }
    }
    // Dense arrays on the step grid; missing points count as no traffic.
    let n = ((end - fetch_from) / STEP + 1) as usize;
    let times: Vec<i64> = (0..n).map(|i| fetch_from + i as i64 * STEP).collect();
    let clean = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
    let errs: Vec<f64> = times
        .iter()
        .map(|t| points.get(t).map(|p| clean(p.0)).unwrap_or(0.0))
        .collect();
    let tots: Vec<f64> = times
        .iter()
        .map(|t| points.get(t).map(|p| clean(p.1)).unwrap_or(0.0))
        .collect();
    let mut ce = vec![0.0; n + 1];
    let mut ct = vec![0.0; n + 1];
    for i in 0..n {
        ce[i + 1] = ce[i] + errs[i];
        ct[i + 1] = ct[i] + tots[i];
    }
    // Error ratio over the `k` steps ending at index i.
    let window_ratio = |i: usize, k: usize| -> Option<f64> {
        let from = (i + 1).saturating_sub(k);
        let t = ct[i + 1] - ct[from];
        (t > 0.0).then(|| (ce[i + 1] - ce[from]) / t)
    };
    let first = ((start - fetch_from) / STEP) as usize;
    // The charts start at the first point with data: nothing is drawn
    // over the part of the window before it (no flat 100% line).
    let first_point = points.keys().next().copied().unwrap_or(end);
    let data_from = if first_point <= start + STEP {
        start
    } else {
        first_point - STEP
    };
    let covered = ((first_point.max(start) - fetch_from) / STEP) as usize;
    let in_window = covered.min(n)..n;
    let steps = |secs: u64| ((secs as i64 / STEP).max(1)) as usize;

    let ratio: Vec<(i64, f64)> = in_window
        .clone()
        .filter_map(|i| window_ratio(i, 1).map(|r| (times[i], r)))
        .collect();
    let window_total = ct[n] - ct[first];
    // No request in the window: there is no budget to chart (never a flat
    // 100% line).
    let remaining: Vec<(i64, f64)> = in_window
        .clone()
        .filter(|_| window_total > 0.0)
        .map(|i| {
            let spent = if window_total > 0.0 {
                (ce[i + 1] - ce[first]) / (budget * window_total)
            } else {
                0.0
            };
            (times[i], 100.0 - spent * 100.0)
        })
        .collect();
    let mut burns = Vec::new();
    let mut burn_windows: Vec<u64> = alerts.iter().map(|a| a.long).collect();
    burn_windows.dedup();
    for w in &burn_windows {
        let series = in_window
            .clone()
            .filter_map(|i| window_ratio(i, steps(*w)).map(|r| (times[i], r / budget)))
            .collect();
        burns.push((duration::format(*w), series));
    }
    let thresholds = alerts
        .iter()
        .map(|a| {
            (
                format!("{} {}x ({})", a.severity, a.factor, a.long_str()),
                a.factor,
            )
        })
        .collect();

    // Fast-burn periods.
    let page: Vec<_> = alerts
        .iter()
        .filter(|a| a.severity == "page")
        .copied()
        .collect();
    let min_page_factor = page.iter().map(|a| a.factor).fold(f64::INFINITY, f64::min);
    // A condition with a `for:` (OpenSLO `alertAfter`) fires once it has
    // held at every step of that duration.
    let firing = |i: usize| {
        page.iter().any(|a| {
            let th = a.factor * budget;
            let holds = |j: usize| matches!((window_ratio(j, steps(a.long)), window_ratio(j, steps(a.short))), (Some(l), Some(s)) if l > th && s > th);
            let back = a.alert_after.div_ceil(STEP as u64) as usize;
            i >= back && (i - back..=i).all(holds)
        })
    };
    let short_burn = |i: usize| window_ratio(i, 1).map(|r| r / budget).unwrap_or(0.0);
    let mut periods = Vec::new();
    let mut i = first;
    while i < n {
        if !firing(i) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < n && firing(j + 1) {
            j += 1;
        }
        let mut s = i;
        while s > first && short_burn(s - 1) > min_page_factor {
            s -= 1;
        }
        // The 5m point at `s` covers the five minutes before it.
        let start_t = times[s] - STEP;
        let peak = (s..=j).map(short_burn).fold(0.0, f64::max);
        let spent = if window_total > 0.0 {
            (ce[j + 1] - ce[s]) / (budget * window_total) * 100.0
        } else {
            0.0
        };
        let mut suspects: Vec<Event> = events
            .iter()
            .filter(|e| e.time >= start_t - 3_600 && e.time <= start_t + STEP)
            .filter(|e| e.service.as_deref().is_none_or(|svc| svc == slo.service))
            .cloned()
            .collect();
        suspects.sort_by_key(|e| std::cmp::Reverse(e.time));
        // Merge with the previous period if they touch.
        match periods.last_mut() {
            Some(BurnPeriod { end, .. }) if *end >= start_t => *end = times[j],
            _ => periods.push(BurnPeriod {
                start: start_t,
                end: times[j],
                peak_burn: peak,
                budget_spent_pct: spent,
                suspects,
                trace: None,
            }),
        }
        i = j + 1;
    }
    let events = events
        .iter()
        .filter(|e| e.time >= start && e.time <= end)
        .filter(|e| e.service.as_deref().is_none_or(|svc| svc == slo.service))
        .cloned()
        .collect();
    Ok(SloReport {
        slo_title: format!("{}/{}", slo.service, slo.name),
        objective: slo.objective,
        window: window.clone(),
        start,
        end,
        ratio,
        remaining,
        burns,
        thresholds,
        periods,
        events,
        data_from,
        note: if window_total <= 0.0 {
            Some(format!(
                "no traffic: no request in the {window} {} (`{}` counts none at any step), so there is no budget to chart",
                if period_end.is_some() {
                    "period so far"
                } else {
                    "window"
                },
                match &slo.sli {
                    Sli::Events { total, .. } => total.at("5m"),
                    Sli::Raw { error_ratio } => error_ratio.at("5m"),
                }
            ))
        } else {
            (data_from > start).then(|| {
                format!(
                    "data from {} only: {} of the {window} {}",
                    rfc3339(data_from),
                    duration::format((end - data_from).max(0) as u64),
                    if period_end.is_some() {
                        "period so far"
                    } else {
                        "window"
                    }
                )
            })
        },
        period_end,
        time_zone,
    })
}

/// The 5m range query had no point: the data may be younger than one
/// step. The window's own query says whether there is any data at all: if
/// so the report has nothing to chart yet (and says so); if not, the error
/// names both queries that were empty.
#[allow(clippy::too_many_arguments)]
fn young(
    client: &Client,
    slo: &Slo,
    at: i64,
    start: i64,
    end: i64,
    range_query: &str,
    fetch_from: i64,
    allow_no_traffic: bool,
) -> Result<SloReport, String> {
    // The window, or the calendar period so far.
    let w = duration::format((end - start).max(STEP) as u64);
    let (window, period_end) = match &slo.calendar {
        Some(c) => (c.duration(), c.period_at(at).ok().map(|p| p.end)),
        None => (slo.window(), None),
    };
    let instant = match &slo.sli {
        Sli::Events { total, .. } => total.at(&w),
        Sli::Raw { error_ratio } => error_ratio.at(&w),
    };
    let head = format!("{}/{} ({})", slo.service, slo.name, slo.path);
    let answer = match client.query_one(&instant, at) {
        // As `status --allow-no-traffic`: a new service, said, not an error.
        Err(PromError::NoData { .. }) if allow_no_traffic => Ok(format!(
            "no traffic: `{range_query}` has no point from {} to {} and `{instant}` returned no series (a new service, or a wrong metric name); written because of --allow-no-traffic",
            rfc3339(fetch_from),
            rfc3339(end)
        )),
        Ok(_) => Ok(format!(
            "less than one 5m step of data: nothing to chart yet (`{range_query}` has no point from {} to {}, `{instant}` has data)",
            rfc3339(fetch_from),
            rfc3339(end)
        )),
        Err(e) => Err(e),
    };
    match answer {
        Ok(note) => Ok(SloReport {
            slo_title: format!("{}/{}", slo.service, slo.name),
            objective: slo.objective,
            window,
            start,
            end,
            ratio: Vec::new(),
            remaining: Vec::new(),
            burns: Vec::new(),
            thresholds: Vec::new(),
            periods: Vec::new(),
            events: Vec::new(),
            data_from: at,
            note: Some(note),
            period_end,
            time_zone: slo.calendar.as_ref().map(|c| c.tz.name().to_string()),
        }),
        Err(PromError::NoData { .. }) => Err(format!(
            "{head}: no data: `{range_query}` has no point from {} to {}, and `{instant}` returned no series at {}; check the metric names and labels, and that Prometheus has samples for the window",
            rfc3339(fetch_from),
            rfc3339(end),
            rfc3339(at)
        )),
        Err(e) => Err(format!("{head}: {e}")),
    }
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const W: f64 = 960.0;
const H: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 28.0;
const COLORS: [&str; 4] = ["#c0392b", "#2471a3", "#7d3c98", "#117a65"];

/// Keeps at most `max` points, taking each bucket's maximum so that spikes
/// survive.
fn downsample(points: &[(i64, f64)], max: usize) -> Vec<(i64, f64)> {
    if points.len() <= max {
        return points.to_vec();
    }
    let per = points.len().div_ceil(max);
    points
        .chunks(per)
        .filter_map(|c| c.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)))
        .collect()
}

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

fn fmt_y(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').to_string()
    }
}

struct Chart<'a> {
    title: &'a str,
    unit: &'a str,
    series: Vec<(String, Vec<(i64, f64)>)>,
    lines: Vec<(String, f64)>,
    y_min: Option<f64>,
    /// Log scale from 0.1: burn rates span 0.1x to 100x and the thresholds
    /// (1, 3, 6, 14.4) must stay apart.
    log: bool,
}

fn svg_chart(c: &Chart, r: &SloReport, events: &[Event], periods: &[BurnPeriod]) -> String {
    // A calendar period's chart runs to the period's end.
    let (start, end) = (r.start, r.period_end.unwrap_or(r.end).max(r.end));
    let mut max = c
        .series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.1))
        .fold(0.0, f64::max);
    for (_, v) in &c.lines {
        max = max.max(*v);
    }
    let min = c.y_min.unwrap_or(0.0).min(
        c.series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|x| x.1))
            .fold(0.0, f64::min),
    );
    let max = nice_max(max);
    let min = if min < 0.0 { -nice_max(-min) } else { 0.0 };
    let (min, max) = if c.log {
        (0.1, max.max(20.0))
    } else {
        (min, max)
    };
    let span_t = (end - start).max(1) as f64;
    let x = |t: i64| LEFT + (t - start) as f64 / span_t * (W - LEFT - RIGHT);
    let scale = |v: f64| if c.log { v.max(min).log10() } else { v };
    let y = |v: f64| {
        TOP + (scale(max) - scale(v.clamp(min, max))) / (scale(max) - scale(min))
            * (H - TOP - BOTTOM)
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}">"#,
        escape(c.title)
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{W}" height="{H}" fill="#fff"/>"##
    );
    if r.data_from > start {
        // The part of the window without data: shaded, nothing drawn on it.
        let to = r.data_from.min(end);
        let _ = write!(
            s,
            r##"<rect class="nodata" x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="#eeeeee"><title>no data before {}</title></rect><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#888">no data</text>"##,
            (x(to) - LEFT).max(0.0),
            H - TOP - BOTTOM,
            rfc3339(r.data_from),
            (LEFT + x(to)) / 2.0,
            TOP + (H - TOP - BOTTOM) / 2.0
        );
    }
    if end > r.end {
        // The rest of the calendar period: not come yet.
        let _ = write!(
            s,
            r##"<rect class="future" x="{:.1}" y="{TOP}" width="{:.1}" height="{:.1}" fill="#f7f7f7"><title>the period goes on to {}</title></rect>"##,
            x(r.end),
            (x(end) - x(r.end)).max(0.0),
            H - TOP - BOTTOM,
            rfc3339(end)
        );
    }
    for p in periods {
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{TOP}" width="{:.1}" height="{:.1}" fill="#f5b7b1" opacity="0.5"><title>fast burn {} – {}</title></rect>"##,
            x(p.start),
            (x(p.end) - x(p.start)).max(2.0),
            H - TOP - BOTTOM,
            rfc3339(p.start),
            rfc3339(p.end)
        );
    }
    // Grid and axes.
    let ticks: Vec<f64> = if c.log {
        let mut t = vec![0.1, 1.0, 10.0];
        if max > 100.0 {
            t.push(100.0);
        }
        t.push(max);
        t
    } else {
        (0..=4)
            .map(|i| min + (max - min) * i as f64 / 4.0)
            .collect()
    };
    for v in ticks {
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#444">{}{}</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            yy + 4.0,
            fmt_y(v),
            escape(c.unit)
        );
    }
    let days = span_t / 86_400.0;
    let tick = if days > 14.0 {
        7 * 86_400
    } else if days > 3.0 {
        86_400
    } else {
        6 * 3_600
    };
    let mut t = start - start.rem_euclid(tick) + tick;
    while t < end {
        let xx = x(t);
        let label = chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let _ = write!(
            s,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{TOP}" y2="{:.1}" stroke="#eee"/><text x="{xx:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#444">{label}</text>"##,
            H - BOTTOM,
            H - 10.0
        );
        t += tick;
    }
    for (i, (label, v)) in c.lines.iter().enumerate() {
        let yy = y(*v);
        // A threshold per series (burn rates) takes its series' colour.
        let color = if c.lines.len() == c.series.len() {
            COLORS[i % COLORS.len()]
        } else {
            "#555"
        };
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="{}" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="{}">{}</text>"##,
            W - RIGHT,
            color,
            W - RIGHT - 2.0,
            yy - 3.0,
            color,
            escape(label)
        );
    }
    for (i, (name, pts)) in c.series.iter().enumerate() {
        let pts = downsample(pts, 1200);
        if pts.is_empty() {
            continue;
        }
        let mut d = String::new();
        for (k, (t, v)) in pts.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if k == 0 { "M" } else { " L" },
                x(*t),
                y(*v)
            );
        }
        let _ = write!(
            s,
            r#"<path d="{d}" fill="none" stroke="{}" stroke-width="1.5"><title>{}</title></path>"#,
            COLORS[i % COLORS.len()],
            escape(name)
        );
    }
    for e in events {
        let xx = x(e.time);
        let _ = write!(
            s,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{TOP}" y2="{:.1}" stroke="#1e8449" stroke-width="1.5"/><polygon points="{:.1},{TOP} {:.1},{TOP} {xx:.1},{:.1}" fill="#1e8449"><title>deploy {} {}: {}</title></polygon>"##,
            H - BOTTOM,
            xx - 5.0,
            xx + 5.0,
            TOP + 8.0,
            escape(&rfc3339(e.time)),
            escape(&e.commit),
            escape(&e.description)
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="none" stroke="#888"/></svg>"##,
        W - LEFT - RIGHT,
        H - TOP - BOTTOM
    );
    s
}

/// The anchor of a finding in the findings table below the attribution.
fn finding_id(slo_title: &str, t: &crate::trace::Attribution, i: usize) -> String {
    let slug: String = format!("{slo_title}-{}", crate::trace::short(&t.deploy.commit))
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("finding-{slug}-{}", i + 1)
}

/// The attribution cell: the commit range, its commits, and each finding
/// linked to its row in the findings table.
fn trace_cell(t: &crate::trace::Attribution, slo_title: &str) -> String {
    use crate::trace::short;
    let mut c = String::new();
    if !t.range.is_empty() {
        let since = match &t.previous_deploy {
            Some(p) => format!("since the previous deploy {}", escape(short(&p.commit))),
            None => "its own commit".to_string(),
        };
        let _ = write!(
            c,
            "<div>{} commit{} {since}:</div><ul class=\"commits\">",
            t.commits.len(),
            if t.commits.len() == 1 { "" } else { "s" }
        );
        for k in &t.commits {
            let _ = write!(
                c,
                "<li><code>{}</code> {}</li>",
                escape(short(&k.commit)),
                escape(&k.subject)
            );
        }
        c.push_str("</ul>");
    }
    if t.error.is_some() || t.findings.is_empty() {
        let _ = write!(
            c,
            "<div class=\"trace-summary\">{}</div>",
            escape(&t.summary)
        );
        return c;
    }
    let _ = write!(
        c,
        "<div class=\"trace-summary\">deploy {} introduced {} red-line finding{}:</div><ul class=\"introduced\">",
        escape(short(&t.deploy.commit)),
        t.findings.len(),
        if t.findings.len() == 1 { "" } else { "s" }
    );
    for (i, f) in t.findings.iter().enumerate() {
        let _ = write!(
            c,
            "<li><a href=\"#{}\">{}:{} {}</a></li>",
            finding_id(slo_title, t, i),
            escape(&f.path),
            f.line,
            escape(&f.rule)
        );
    }
    c.push_str("</ul>");
    c
}

pub fn render_html(reports: &[SloReport], generated_at: i64) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>SLO report</title>\n<style>\n");
    h.push_str("body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}h1{font-size:22px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #ccc}h3{font-size:14px;margin:18px 0 4px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}.num{text-align:right}.legend span{margin-right:14px;font-size:12px}.likely{font-weight:bold}.summary{font-size:14px}\n");
    h.push_str("</style></head><body>\n");
    let _ = writeln!(
        h,
        "<h1>SLO report</h1><p>At {}. Deploys are green markers, fast-burn periods red bands.</p>",
        rfc3339(generated_at)
    );
    for r in reports {
        let _ = writeln!(
            h,
            "<section class=\"slo\"><h2>{}</h2>",
            escape(&r.slo_title)
        );
        let remaining = match r.remaining.last() {
            Some(p) => format!("<b>{:.2}%</b>", p.1),
            // No point yet: never shown as a full budget.
            None => "<b>not known yet</b> (no data to compute it from)".to_string(),
        };
        match (r.period_end, &r.time_zone) {
            (Some(period_end), Some(tz)) => {
                let _ = writeln!(
                    h,
                    "<p class=\"summary\">Objective {}% over the current {} calendar period ({} – {}, aligned in {}), shown to {}. Error budget remaining now: {remaining}; it resets at {}.</p>",
                    r.objective,
                    escape(&r.window),
                    rfc3339(r.start),
                    rfc3339(period_end),
                    escape(tz),
                    rfc3339(r.end),
                    rfc3339(period_end),
                );
            }
            _ => {
                let _ = writeln!(
                    h,
                    "<p class=\"summary\">Objective {}% over {} ({} – {}). Error budget remaining at the end: {remaining}.</p>",
                    r.objective,
                    escape(&r.window),
                    rfc3339(r.start),
                    rfc3339(r.end),
                );
            }
        }
        if let Some(note) = &r.note {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(note));
        }
        let charts = [
            Chart {
                title: "Error ratio (5m)",
                unit: "",
                series: vec![("error ratio 5m".into(), r.ratio.clone())],
                lines: vec![("error budget".into(), (100.0 - r.objective) / 100.0)],
                y_min: None,
                log: false,
            },
            Chart {
                title: "Error budget remaining in this window",
                unit: "%",
                series: vec![("remaining %".into(), r.remaining.clone())],
                lines: vec![],
                y_min: Some(0.0),
                log: false,
            },
            Chart {
                title: "Burn rates against the alert thresholds (log scale)",
                unit: "x",
                series: r
                    .burns
                    .iter()
                    .map(|(w, p)| (format!("burn rate {w}"), p.clone()))
                    .collect(),
                lines: r.thresholds.clone(),
                y_min: None,
                log: true,
            },
        ];
        for c in &charts {
            let _ = writeln!(h, "<h3>{}</h3>", escape(c.title));
            if c.series.len() > 1 {
                h.push_str("<div class=\"legend\">");
                for (i, (name, _)) in c.series.iter().enumerate() {
                    let _ = write!(
                        h,
                        "<span style=\"color:{}\">■ {}</span>",
                        COLORS[i % COLORS.len()],
                        escape(name)
                    );
                }
                h.push_str("</div>");
            }
            h.push_str(&svg_chart(c, r, &r.events, &r.periods));
            h.push('\n');
        }
        h.push_str("<h3>Fast-burn periods and the deploys before them</h3>\n");
        if r.periods.is_empty() {
            h.push_str("<p>No fast burn in this window.</p>\n");
        } else {
            h.push_str("<table class=\"attribution\"><tr><th>Start</th><th>End</th><th>Peak 5m burn</th><th>Budget spent</th><th>Deploys in the hour before</th><th>Commits and red-line findings of the most likely deploy</th></tr>\n");
            for p in &r.periods {
                let suspects = if p.suspects.is_empty() {
                    "none found".to_string()
                } else {
                    p.suspects
                        .iter()
                        .enumerate()
                        .map(|(i, e)| {
                            format!(
                                "<div class=\"{}\">{}{} {} — {}</div>",
                                if i == 0 { "likely" } else { "" },
                                if i == 0 { "most likely: " } else { "" },
                                escape(&rfc3339(e.time)),
                                escape(&e.commit),
                                escape(&e.description)
                            )
                        })
                        .collect()
                };
                let code = match &p.trace {
                    Some(t) => trace_cell(t, &r.slo_title),
                    None => "no deploy to trace".to_string(),
                };
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.1}x</td><td class=\"num\">{:.2}%</td><td>{suspects}</td><td>{code}</td></tr>",
                    rfc3339(p.start),
                    rfc3339(p.end),
                    p.peak_burn,
                    p.budget_spent_pct
                );
            }
            h.push_str("</table>\n");
            let mut shown: Vec<&str> = Vec::new();
            for t in r.periods.iter().filter_map(|p| p.trace.as_ref()) {
                if t.findings.is_empty() || shown.contains(&t.range.as_str()) {
                    continue;
                }
                shown.push(&t.range);
                let _ = writeln!(
                    h,
                    "<h3>Red-line findings introduced by deploy {}</h3><table class=\"findings\"><tr><th>Where</th><th>Rule</th><th>Message</th></tr>",
                    escape(crate::trace::short(&t.deploy.commit))
                );
                for (i, f) in t.findings.iter().enumerate() {
                    let _ = writeln!(
                        h,
                        "<tr id=\"{}\"><td>{}:{}:{}</td><td>{}</td><td>{} (<code>redline explain {}</code>)</td></tr>",
                        finding_id(&r.slo_title, t, i),
                        escape(&f.path),
                        f.line,
                        f.column,
                        escape(&f.rule),
                        escape(&f.message),
                        escape(&f.rule)
                    );
                }
                h.push_str("</table>\n");
            }
        }
        if !r.events.is_empty() {
            h.push_str("<h3>Deploys in the window</h3><table class=\"events\"><tr><th>Time</th><th>Commit</th><th>Description</th></tr>\n");
            for e in &r.events {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    rfc3339(e.time),
                    escape(&e.commit),
                    escape(&e.description)
                );
            }
            h.push_str("</table>\n");
        }
        h.push_str("</section>\n");
    }
    h.push_str("</body></html>\n");
    h
}
