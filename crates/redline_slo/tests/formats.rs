//! Every input format `redline slo` reads — Sloth `prometheus/v1`, Sloth's
//! `PrometheusServiceLevel` (camelCase, several per file, in a `List`),
//! Sloth `AlertWindows`, Sloth SLI plugins, OpenSLO v1 and v1alpha — maps
//! to the one model; what is refused is refused with the exact reason.
//! The fixtures in tests/fixtures/formats/ are written anew in the shapes
//! of Sloth's and OpenSLO's own examples.

mod common;
use common::{fixture, require, slo};
use redline_slo::spec::{self, DEFAULT_WINDOW_SECS, Loaded, Sli, SpecFormat};

fn formats(name: &str) -> String {
    fixture(&format!("formats/{name}"))
}

fn load_files(names: &[&str], window: u64) -> Loaded {
    let files: Vec<(String, String)> = names
        .iter()
        .map(|n| {
            let p = formats(n);
            let text = std::fs::read_to_string(&p).unwrap();
            (n.to_string(), text)
        })
        .collect();
    spec::load_all(&files, window)
}

/// The problems of one spec text, as `line:col: message`.
fn problems(src: &str) -> Vec<String> {
    spec::load("t.yaml", src, DEFAULT_WINDOW_SECS)
        .problems
        .iter()
        .map(|p| format!("{}:{}: {}", p.pos.line, p.pos.column, p.message))
        .collect()
}

fn only_problem(src: &str) -> String {
    let p = problems(src);
    assert_eq!(p.len(), 1, "{p:#?}");
    p.into_iter().next().unwrap()
}

#[test]
fn prometheus_v1_spec_is_read_whole() {
    let loaded = load_files(&["equiv_prometheus_v1.yaml"], DEFAULT_WINDOW_SECS);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let [avail, raw, plugin] = loaded.slos.as_slice() else {
        panic!("{:?}", loaded.slos)
    };
    assert_eq!(avail.format, SpecFormat::Sloth);
    assert_eq!(avail.labels["owner"], "payments-team");
    assert_eq!(avail.labels["category"], "availability");
    assert_eq!(
        avail.alerting.name.as_deref(),
        Some("PaymentsHighErrorRate")
    );
    assert_eq!(
        avail.alerting.annotations["runbook"],
        "https://runbooks.example/payments"
    );
    assert_eq!(avail.alerting.page.labels["severity"], "critical");
    assert_eq!(
        avail.alerting.page.annotations["summary"],
        "Payments are failing fast"
    );
    assert_eq!(avail.alerting.ticket.labels["severity"], "warning");
    assert!(matches!(avail.sli, Sli::Events { .. }));
    assert!(raw.alerting.page.disable && !raw.alerting.ticket.disable);
    assert!(matches!(raw.sli, Sli::Raw { .. }));
    assert!(plugin.alerting.ticket.disable);
    let Sli::Raw { error_ratio } = &plugin.sli else {
        panic!("a plugin SLI is a raw error ratio")
    };
    // sloth-common/slok-go-http-metrics/latency, exclude_errors on.
    assert_eq!(
        error_ratio.at("5m"),
        "1 - (\n  sum(rate(http_request_duration_seconds_bucket{ handler=\"/pay\",service=\"payments\",code!~\"5..\",le=\"0.25\" }[5m]))\n  /\n  sum(rate(http_request_duration_seconds_count{ handler=\"/pay\",service=\"payments\",code!~\"5..\" }[5m]))\n)"
    );
}

#[test]
fn kubernetes_resources_in_lists_and_documents_are_read() {
    let loaded = load_files(&["equiv_kubernetes.yaml"], DEFAULT_WINDOW_SECS);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let names: Vec<&str> = loaded.slos.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["requests-availability", "settlement-errors", "api-latency"]
    );
    assert!(
        loaded
            .slos
            .iter()
            .all(|s| s.format == SpecFormat::SlothKubernetes)
    );
    // Sloth's own List kind too.
    let text = std::fs::read_to_string(formats("equiv_kubernetes.yaml")).unwrap();
    let second = text.split("\n---\n").nth(1).unwrap();
    let list = format!(
        "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevelList\nitems:\n{}",
        second
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 0 {
                format!("  - {l}\n")
            } else {
                format!("    {l}\n")
            })
            .collect::<String>()
    );
    let loaded = spec::load("list.yaml", &list, DEFAULT_WINDOW_SECS);
    assert!(loaded.problems.is_empty(), "{:?}\n{list}", loaded.problems);
    assert_eq!(loaded.slos.len(), 2);
}

#[test]
fn kubernetes_resource_and_prometheus_v1_generate_identical_rules() {
    let (code, a, err) = slo(&["generate", &formats("equiv_prometheus_v1.yaml")]);
    assert_eq!(code, 0, "{err}");
    let (code, b, err) = slo(&["generate", &formats("equiv_kubernetes.yaml")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(a, b);
    assert!(a.contains("PaymentsHighErrorRate"), "{a}");
}

#[test]
fn every_format_generates_rules_promtool_accepts() {
    let promtool = require("promtool");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rules.yaml");
    let files = [
        "equiv_prometheus_v1.yaml",
        "alert_windows_7d.yaml",
        "openslo_refs.yaml",
        "openslo_slo.yaml",
        "openslo_v1alpha.yaml",
        "openslo_calendar.yaml",
    ]
    .map(formats);
    let mut args = vec!["generate", "--window", "7d", "-o", out.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    let (code, _, err) = slo(&args);
    assert_eq!(code, 0, "{err}");
    let check = std::process::Command::new(promtool)
        .args(["check", "rules"])
        .arg(&out)
        .output()
        .unwrap();
    let rules = std::fs::read_to_string(&out).unwrap();
    assert!(
        check.status.success(),
        "promtool check rules failed:\n{}{}\n{rules}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    // The AlertWindows factors are in the 7d SLOs' alerts: 8% of 7d in 1h.
    assert!(rules.contains("(13.44 * 0.001)"), "{rules}");
    // The calendar month's SLOs: one per objective, the alerts of a 30d
    // window, the condition's alertAfter as `for:`.
    for id in ["ledger-latency:0", "ledger-latency:1"] {
        assert!(
            rules.contains(&format!(
                "slo:sli_error:ratio_rate30d{{redline_id=\"{id}\"}}"
            )),
            "{id}: {rules}"
        );
    }
    assert_eq!(rules.matches("for: 5m").count(), 2, "{rules}");
    assert!(
        rules.contains("is burning its 1M calendar error budget (95% objective)"),
        "{rules}"
    );
    // The OpenSLO policy: one window, threshold as written.
    assert!(rules.contains("slo:sli_error:ratio_rate1h{redline_id=\"catalog-catalog-availability\"} > (13.44 * 0.005)"), "{rules}");
}

#[test]
fn alert_windows_apply_to_slos_of_their_period_as_sloth_applies_them() {
    let loaded = load_files(
        &["alert_windows_7d.yaml", "equiv_prometheus_v1.yaml"],
        7 * 86_400,
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let a = loaded.slos[0].alert_windows();
    let got: Vec<(&str, String, String, f64)> = a
        .iter()
        .map(|w| {
            (
                w.severity,
                w.long_str(),
                w.short_str(),
                (w.factor * 1e6).round() / 1e6,
            )
        })
        .collect();
    // factor = errorBudgetPercent / 100 * sloPeriod / longWindow
    assert_eq!(
        got,
        [
            ("page", "1h".into(), "5m".into(), 13.44),
            ("page", "6h".into(), "30m".into(), 3.5),
            ("ticket", "1d".into(), "2h".into(), 1.4),
            ("ticket", "3d".into(), "6h".into(), 0.98),
        ]
    );
    // Other periods keep redline's windows.
    let loaded = load_files(
        &["alert_windows_7d.yaml", "equiv_prometheus_v1.yaml"],
        DEFAULT_WINDOW_SECS,
    );
    assert_eq!(
        loaded.slos[0].alert_windows(),
        redline_slo::windows::alert_windows(DEFAULT_WINDOW_SECS).to_vec()
    );
    // Short windows below 5m are recorded and alerted on.
    let (code, rules, err) = slo(&[
        "generate",
        &formats("alert_windows_30d_fast.yaml"),
        &formats("equiv_prometheus_v1.yaml"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        rules.contains("record: \"slo:sli_error:ratio_rate2m\""),
        "{rules}"
    );
    assert!(
        rules.contains("record: \"slo:sli_error:ratio_rate1d12h\""),
        "{rules}"
    );
}

#[test]
fn an_alert_windows_file_alone_validates() {
    let (code, out, err) = slo(&["validate", &formats("alert_windows_7d.yaml")]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn openslo_documents_refer_to_each_other_across_files() {
    let loaded = load_files(
        &["openslo_refs.yaml", "openslo_slo.yaml"],
        DEFAULT_WINDOW_SECS,
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let [avail, search] = loaded.slos.as_slice() else {
        panic!("{:?}", loaded.slos)
    };
    assert_eq!(avail.window(), "28d");
    assert_eq!(avail.objective, 99.5);
    let Sli::Events { error, total } = &avail.sli else {
        panic!("bad/total is events")
    };
    assert_eq!(
        error.at("5m"),
        "sum(rate(http_requests_total{job=\"catalog\",code=~\"5..\"}[5m]))"
    );
    assert_eq!(
        total.at("5m"),
        "sum(rate(http_requests_total{job=\"catalog\"}[5m]))"
    );
    let alerts: Vec<(&str, u64, u64, f64)> = avail
        .alert_windows()
        .iter()
        .map(|a| (a.severity, a.long, a.short, a.factor))
        .collect();
    assert_eq!(
        alerts,
        [
            ("page", 3_600, 3_600, 13.44),
            ("ticket", 21_600, 21_600, 2.0)
        ]
    );
    assert!(!avail.alerting.page.disable && !avail.alerting.ticket.disable);
    // No policy: the default alerts for its window (4w = 28d).
    assert_eq!(search.window(), "28d");
    assert_eq!(search.alert_windows().len(), 4);
    // The SLO file alone: the reference is unresolved, and says so.
    let loaded = load_files(&["openslo_slo.yaml"], DEFAULT_WINDOW_SECS);
    let msgs: Vec<&str> = loaded.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "indicatorRef `catalog-errors` does not name an OpenSLO `SLI` document in the files given",
            "alertPolicyRef `catalog-burn` does not name an OpenSLO `AlertPolicy` document in the files given",
        ]
    );
}

#[test]
fn a_policy_with_only_page_conditions_disables_the_ticket_alert() {
    let src = std::fs::read_to_string(formats("openslo_refs.yaml")).unwrap()
        + "---\n"
        + "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: s}\nspec:\n  service: catalog\n  indicatorRef: catalog-errors\n  objectives: [{target: 0.99}]\n  alertPolicies:\n    - kind: AlertPolicy\n      metadata: {name: p}\n      spec:\n        conditions: [{conditionRef: catalog-fast-burn}]\n";
    let loaded = spec::load("t.yaml", &src, DEFAULT_WINDOW_SECS);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let s = &loaded.slos[0];
    assert!(!s.alerting.page.disable && s.alerting.ticket.disable);
    let (code, rules, err) = {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.yaml");
        std::fs::write(&p, &src).unwrap();
        slo(&["generate", p.to_str().unwrap()])
    };
    assert_eq!(code, 0, "{err}");
    assert!(!rules.contains("redline_severity: \"ticket\""), "{rules}");
}

#[test]
fn openslo_v1alpha_is_read_as_sloth_reads_it() {
    let loaded = load_files(&["openslo_v1alpha.yaml"], DEFAULT_WINDOW_SECS);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let s = &loaded.slos[0];
    assert_eq!(s.id(), "checkout-checkout-requests-0");
    assert_eq!(s.window(), "28d");
    assert_eq!(s.objective, 99.9);
    assert!(s.alerting.page.disable && s.alerting.ticket.disable);
    let Sli::Raw { error_ratio } = &s.sli else {
        panic!()
    };
    assert!(error_ratio.text.starts_with(
        "1 - (\n  (\n    sum(rate(http_requests_total{job=\"checkout\",code!~\"5..\"}"
    ));
}

// ---- Messages: the spelling of the format at hand, and no contradiction.

#[test]
fn a_snake_case_key_in_a_kubernetes_resource_gets_the_camel_case_spelling() {
    let p = problems(
        "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: x}\nspec:\n  service: web\n  slos:\n    - name: a\n      objective: 99\n      sli:\n        events:\n          errorQuery: sum(rate(e[{{.window}}]))\n          total_query: sum(rate(t[{{.window}}]))\n",
    );
    assert_eq!(
        p,
        [
            "12:11: unknown key `total_query` in sli.events (`total_query` is how a `prometheus/v1` spec spells it; a `PrometheusServiceLevel` of `sloth.slok.dev/v1` spells it `totalQuery`)",
            "11:11: missing `totalQuery`",
        ]
    );
    // A typo of a camelCase key is answered in camelCase.
    let p = problems(
        "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: x}\nspec:\n  service: web\n  slos:\n    - name: a\n      objective: 99\n      sli: {events: {errorQuery: 'sum(rate(e[{{.window}}]))', totalQuery: 'sum(rate(t[{{.window}}]))'}}\n      alerting: {pageAlrt: {disable: true}}\n",
    );
    assert_eq!(
        p,
        ["10:18: unknown key `pageAlrt` in alerting (did you mean `pageAlert`?)"]
    );
}

#[test]
fn a_camel_case_key_in_a_prometheus_v1_spec_gets_the_snake_case_spelling() {
    let p = problems(
        "version: prometheus/v1\nservice: web\nslos:\n  - name: a\n    objective: 99\n    sli: {raw: {errorRatioQuery: 'sum(rate(e[{{.window}}]))'}}\n",
    );
    assert_eq!(
        p,
        [
            "6:17: unknown key `errorRatioQuery` in sli.raw (`errorRatioQuery` is how a `PrometheusServiceLevel` of `sloth.slok.dev/v1` spells it; a `prometheus/v1` spec spells it `error_ratio_query`)",
            "6:16: missing `error_ratio_query`",
        ]
    );
}

#[test]
fn the_never_firing_alert_hint_uses_the_formats_key() {
    let p = problems(
        "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: x}\nspec:\n  service: web\n  slos:\n    - name: a\n      objective: 90\n      sli: {raw: {errorRatioQuery: 'sum(rate(e[{{.window}}]))'}}\n",
    );
    assert!(p.is_empty(), "{p:?}");
    let loaded = spec::load(
        "t.yaml",
        "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: x}\nspec:\n  service: web\n  slos:\n    - name: a\n      objective: 90\n      sli: {raw: {errorRatioQuery: 'sum(rate(e[{{.window}}]))'}}\n",
        DEFAULT_WINDOW_SECS,
    );
    let checked = redline_slo::check::check(&loaded.slos, &loaded.names);
    assert!(
        checked[0]
            .message
            .ends_with("(`pageAlert: {disable: true}`)"),
        "{checked:?}"
    );
}

#[test]
fn other_sloth_kinds_and_api_versions_are_refused_without_contradiction() {
    assert_eq!(
        only_problem("apiVersion: sloth.slok.dev/v1\nkind: ServiceLevel\nspec: {}\n"),
        "2:7: kind `ServiceLevel` of `sloth.slok.dev/v1` is not an SLO spec: redline reads `PrometheusServiceLevel` (also inside `PrometheusServiceLevelList` or a `v1` `List`) and `AlertWindows`"
    );
    assert_eq!(
        only_problem("apiVersion: openslo/v2alpha\nkind: SLO\n"),
        "1:13: unsupported apiVersion `openslo/v2alpha`: redline reads Sloth's `version: prometheus/v1` specs, Sloth's `sloth.slok.dev/v1` kinds (`PrometheusServiceLevel`, `AlertWindows`), OpenSLO `openslo/v1` and OpenSLO `openslo/v1alpha` SLOs"
    );
    assert_eq!(
        only_problem("version: prometheus/v2\nservice: x\nslos: []\n"),
        "1:10: unsupported Sloth spec version `prometheus/v2`: Sloth and redline read `version: prometheus/v1`"
    );
}

// ---- Refused shapes, each with its reason.

const SLOTH_HEAD: &str = "version: prometheus/v1\nservice: web\n";

#[test]
fn an_sli_plugin_redline_cannot_expand_is_refused_with_the_list() {
    let m = only_problem(&format!(
        "{SLOTH_HEAD}slos:\n  - name: a\n    objective: 99\n    sli:\n      plugin:\n        id: sloth-common/traefik/v2/availability\n        options: {{service_name_regex: web}}\n"
    ));
    assert_eq!(
        m,
        "8:13: SLI plugin `sloth-common/traefik/v2/availability` cannot be expanded: Sloth runs SLI plugins as Go code loaded from `--sli-plugins-path`, which redline does not run; redline writes out the queries of `sloth-common/kubernetes/apiserver/availability`, `sloth-common/kubernetes/apiserver/latency`, `sloth-common/slok-go-http-metrics/availability`, `sloth-common/slok-go-http-metrics/latency`, `sloth-common/istio/v1/availability`, `sloth-common/istio/v1/latency`, `getting_started_availability` only. Write this SLI as `raw` with the error-ratio query the plugin produces"
    );
}

#[test]
fn a_plugins_own_option_errors_are_reported() {
    let m = only_problem(&format!(
        "{SLOTH_HEAD}slos:\n  - name: a\n    objective: 99\n    sli:\n      plugin:\n        id: sloth-common/kubernetes/apiserver/latency\n        options: {{filter: 'verb=GET'}}\n"
    ));
    assert_eq!(
        m,
        "8:13: SLI plugin `sloth-common/kubernetes/apiserver/latency`: the `bucket` option is required (the histogram bucket `le` of the latency target, e.g. `0.25`)"
    );
    let m = only_problem(&format!(
        "{SLOTH_HEAD}slos:\n  - name: a\n    objective: 99\n    sli:\n      plugin:\n        id: sloth-common/kubernetes/apiserver/availability\n        options: {{filter: 'verb=GET'}}\n"
    ));
    assert_eq!(
        m,
        "8:13: SLI plugin `sloth-common/kubernetes/apiserver/availability`: invalid prometheus filter `verb=GET` (the plugin accepts `label=\"value\"` pairs separated by commas)"
    );
}

#[test]
fn plugin_queries_are_the_plugins_templates() {
    let q = |id: &str, opts: &str, labels: &str| {
        let src = format!(
            "version: prometheus/v1\nservice: web\nlabels: {{{labels}}}\nslos:\n  - name: a\n    objective: 99\n    sli: {{plugin: {{id: \"{id}\", options: {{{opts}}}}}}}\n"
        );
        let loaded = spec::load("t.yaml", &src, DEFAULT_WINDOW_SECS);
        assert!(loaded.problems.is_empty(), "{id}: {:?}", loaded.problems);
        match &loaded.slos[0].sli {
            Sli::Raw { error_ratio } => error_ratio.at("5m"),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        q("sloth-common/kubernetes/apiserver/availability", "", ""),
        "sum(rate(apiserver_request_total{ code=~\"(5..|429)\" }[5m]))\n/\nsum(rate(apiserver_request_total{  }[5m]))"
    );
    assert_eq!(
        q(
            "sloth-common/kubernetes/apiserver/latency",
            "bucket: '0.4', filter: 'resource=\"pods\"'",
            ""
        ),
        "(\n  sum(rate(apiserver_request_duration_seconds_count{ resource=\"pods\",verb!=\"WATCH\" }[5m]))\n  -\n  sum(rate(apiserver_request_duration_seconds_bucket{ resource=\"pods\",le=\"0.4\",verb!=\"WATCH\" }[5m]))\n)\n/\nsum(rate(apiserver_request_duration_seconds_count{ resource=\"pods\",verb!=\"WATCH\" }[5m]))"
    );
    assert_eq!(
        q(
            "sloth-common/slok-go-http-metrics/availability",
            "filter: '{service=\"web\"}'",
            ""
        ),
        "sum(rate(http_request_duration_seconds_count{ service=\"web\",code=~\"(5..|429)\" }[5m]))\n/\nsum(rate(http_request_duration_seconds_count{ service=\"web\" }[5m]))"
    );
    assert_eq!(
        q(
            "sloth-common/istio/v1/availability",
            "service: web, namespace: shop",
            ""
        ),
        "(\n  sum(rate(istio_requests_total{ destination_service_name=\"web\",destination_service_namespace=\"shop\",response_code=~\"(5..|429)\" }[5m])) \n  /          \n  (sum(rate(istio_requests_total{ destination_service_name=\"web\",destination_service_namespace=\"shop\" }[5m])) > 0)\n) OR on() vector(0)"
    );
    assert_eq!(
        q(
            "sloth-common/istio/v1/latency",
            "service: web, namespace: shop, bucket: '300', exclude_errors: 'true'",
            ""
        ),
        "1 - ((\n  sum(rate(istio_request_duration_milliseconds_bucket{ code!~\"5..\",destination_service_name=\"web\",destination_service_namespace=\"shop\",le=\"300\" }[5m]))\n  /\n  (sum(rate(istio_request_duration_milliseconds_count{ code!~\"5..\",destination_service_name=\"web\",destination_service_namespace=\"shop\" }[5m])) > 0)\n) OR on() vector(1))"
    );
    assert_eq!(
        q(
            "getting_started_availability",
            "job: myservice, filter: 'f1=\"v1\",f2=\"v2\"'",
            "owner: me, tier: '2'"
        ),
        "sum(rate(http_request_duration_seconds_count{ f1=\"v1\",f2=\"v2\",job=\"myservice\",code=~\"(5..|429)\" }[5m]))\n/\nsum(rate(http_request_duration_seconds_count{ f1=\"v1\",f2=\"v2\",job=\"myservice\" }[5m]))"
    );
}

#[test]
fn slo_plugins_that_change_sloths_rules_are_refused() {
    let m = only_problem(&format!(
        "{SLOTH_HEAD}slo_plugins:\n  chain:\n    - id: sloth.dev/core/debug/v1\n    - id: sloth.dev/contrib/rule_intervals/v1\n      config: {{interval: {{default: 30s}}}}\nslos:\n  - name: a\n    objective: 99\n    sli: {{raw: {{error_ratio_query: 'sum(rate(e[{{{{.window}}}}]))'}}}}\n"
    ));
    assert_eq!(
        m,
        "6:11: SLO plugin `sloth.dev/contrib/rule_intervals/v1` sets evaluation intervals on Sloth's rule groups; redline generates its own rules and does not run Sloth's SLO plugins, so the rules would not be what this plugin makes: remove it (redline accepts only Sloth's core `sli_rules`, `metadata_rules`, `alert_rules`, `validate`, `debug` and `noop` plugins, which change nothing in redline's rules)"
    );
}

const OPENSLO_HEAD: &str =
    "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: s}\nspec:\n  service: web\n";
const OPENSLO_SLI: &str = "  indicator:\n    spec:\n      ratioMetric:\n        bad: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(e[{{.window}}]))'}}}\n        total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(t[{{.window}}]))'}}}\n";

#[test]
fn timeslices_are_refused_with_the_reason() {
    let m = only_problem(&format!(
        "{OPENSLO_HEAD}{OPENSLO_SLI}  budgetingMethod: Timeslices\n  objectives: [{{target: 0.99, timeSliceTarget: 0.95, timeSliceWindow: 1m}}]\n"
    ));
    assert_eq!(
        m,
        "11:20: budgetingMethod `Timeslices` is not supported: redline's budget, recorded ratios and burn-rate alerts count events (`Occurrences`: bad events / all events over the window); `Timeslices` counts time slices that meet a target, which needs per-slice evaluation redline does not do"
    );
}

#[test]
fn calendar_windows_are_read_with_their_nominal_length() {
    let src = format!(
        "{OPENSLO_HEAD}{OPENSLO_SLI}  timeWindow:\n    - duration: 1M\n      isRolling: false\n      calendar: {{startTime: 2022-01-01 00:00:00, timeZone: America/New_York}}\n  objectives: [{{target: 0.99}}]\n"
    );
    let loaded = spec::load("t.yaml", &src, DEFAULT_WINDOW_SECS);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let s = &loaded.slos[0];
    let cal = s.calendar.as_ref().expect("a calendar window");
    assert_eq!(cal.duration(), "1M");
    assert_eq!(cal.tz.name(), "America/New_York");
    // The generated rules use the nominal length: a month is 30 days, and
    // the alerts are the SRE Workbook's for 30 days.
    assert_eq!(s.window_secs, 30 * 86_400);
    assert_eq!(
        s.alerts,
        redline_slo::windows::alert_windows(30 * 86_400).to_vec()
    );
    // `isRolling` may be left out when `calendar` is there; UTC is the
    // zone when none is named.
    let quarter = src
        .replace("1M", "1Q")
        .replace("      isRolling: false\n", "")
        .replace(", timeZone: America/New_York", "");
    let loaded = spec::load("t.yaml", &quarter, DEFAULT_WINDOW_SECS);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.slos[0].window_secs, 90 * 86_400);
    assert_eq!(loaded.slos[0].calendar.as_ref().unwrap().tz.name(), "UTC");
}

#[test]
fn calendar_windows_redline_cannot_honour_are_refused_with_the_reason() {
    let window = |w: &str| {
        only_problem(&format!(
            "{OPENSLO_HEAD}{OPENSLO_SLI}  timeWindow:\n{w}  objectives: [{{target: 0.99}}]\n"
        ))
    };
    assert_eq!(
        window(
            "    - duration: 1M\n      calendar: {startTime: '2024-01-01 00:00:00', timeZone: America/New_Yrok}\n"
        ),
        "13:62: unknown timeZone `America/New_Yrok`: not a name of the IANA time zone database (did you mean `America/New_York`?); write one such as America/New_York, Europe/Berlin or UTC"
    );
    assert_eq!(
        window("    - duration: 1M\n      calendar: {startTime: '2024-01-01T00:00:00Z'}\n"),
        "13:29: startTime `2024-01-01T00:00:00Z` carries a UTC offset: OpenSLO's startTime is local time in `timeZone` (e.g. 2022-01-01 00:00:00); drop the offset and name the zone in `timeZone`"
    );
    assert_eq!(
        window("    - duration: 2Y\n      calendar: {startTime: '2024-01-01 00:00:00'}\n"),
        "12:17: calendar window `2Y` is out of range: its nominal length (730d) must be between 1d and 366d, as for a rolling window (e.g. 1w, 1M, 1Q, 1Y)"
    );
    assert_eq!(
        window("    - duration: 12h\n      calendar: {startTime: '2024-01-01 00:00:00'}\n"),
        "12:17: calendar window `12h` is shorter than a day: redline's windows are 1d to 366d; write it in d, w, M, Q or Y (e.g. 1d, 1w, 1M)"
    );
    assert_eq!(
        window("    - duration: 1M\n      calendar: {timeZone: UTC}\n"),
        "13:17: missing `startTime` in calendar: the periods are aligned to it (e.g. `startTime: \"2022-01-01 00:00:00\"` for months starting on the 1st at midnight)"
    );
    assert_eq!(
        window(
            "    - duration: 30d\n      isRolling: true\n      calendar: {startTime: '2024-01-01 00:00:00'}\n"
        ),
        "14:17: `calendar` with `isRolling: true`: a calendar aligns the periods of a calendar window; remove `calendar` for a rolling window, or set `isRolling: false`"
    );
    assert_eq!(
        window("    - duration: 1M\n      isRolling: false\n"),
        "13:18: `isRolling: false` without `calendar`: a calendar-aligned window needs `calendar: {startTime: \"2022-01-01 00:00:00\", timeZone: UTC}` to say where its periods start"
    );
}

#[test]
fn threshold_metrics_are_refused_with_the_reason() {
    let m = only_problem(&format!(
        "{OPENSLO_HEAD}  indicator:\n    spec:\n      thresholdMetric:\n        metricSource: {{type: Prometheus, spec: {{query: 'x'}}}}\n  objectives: [{{op: lt, value: 500, target: 0.99}}]\n"
    ));
    assert_eq!(
        m,
        "9:9: only `ratioMetric` indicators are supported: a `thresholdMetric` SLI judges a metric's value against the objective's `op`/`value` (a latency, a utilisation), which is not a count of good and bad events, and redline's budgets, rules and alerts are ratios of event counts; write the SLI as a `ratioMetric` (e.g. requests under the threshold, from a histogram bucket, as `good`, and all requests as `total`)"
    );
}

#[test]
fn alert_conditions_redline_cannot_honour_are_refused_with_the_reason() {
    let policy = |cond: &str| {
        format!(
            "{OPENSLO_HEAD}{OPENSLO_SLI}  objectives: [{{target: 0.99}}]\n  alertPolicies:\n    - kind: AlertPolicy\n      metadata: {{name: p}}\n      spec:\n        conditions:\n          - kind: AlertCondition\n            metadata: {{name: c}}\n            spec:\n{cond}"
        )
    };
    // alertAfter is the alert's `for:` (tests/alert_after.rs); one as long
    // as the window, or not a duration, is refused.
    let held = spec::load(
        "t.yaml",
        &policy(
            "              severity: page\n              condition: {kind: burnrate, op: gt, threshold: 2, lookbackWindow: 1h, alertAfter: 5m}\n",
        ),
        DEFAULT_WINDOW_SECS,
    );
    assert!(held.problems.is_empty(), "{:?}", held.problems);
    assert_eq!(held.slos[0].alerts[0].alert_after, 300);
    assert_eq!(
        only_problem(&policy(
            "              severity: page\n              condition: {kind: burnrate, op: gt, threshold: 2, lookbackWindow: 1h, alertAfter: 30d}\n"
        )),
        "21:97: `alertAfter: 30d` is as long as the SLO window or longer: the alert could only fire after the whole window burned; give a duration shorter than the window (e.g. 5m)"
    );
    assert_eq!(
        only_problem(&policy(
            "              severity: page\n              condition: {kind: burnrate, op: gt, threshold: 2, lookbackWindow: 1h, alertAfter: soon}\n"
        )),
        "21:97: `alertAfter` `soon` is not a duration: write one such as 0m, 5m or 1h"
    );
    assert_eq!(
        only_problem(&policy(
            "              severity: sev1\n              condition: {kind: burnrate, op: gt, threshold: 2, lookbackWindow: 1h}\n"
        )),
        "20:25: severity `sev1` is not one redline alerts on: redline's alerts are `page` (fails the deploy gate) or `ticket`, carried as the `redline_severity` label; name the condition's severity `page` or `ticket`"
    );
    assert_eq!(
        only_problem(&policy(
            "              severity: page\n              condition: {kind: burnrate, op: lte, threshold: 2, lookbackWindow: 1h}\n"
        )),
        "21:47: op `lte` alerts while the burn rate is below the threshold; redline's burn-rate alerts fire when it is above (`gt` or `gte`)"
    );
}

#[test]
fn several_objectives_are_one_slo_each() {
    // One indicator, two targets: SLOs `s:0` and `s:1`, in the order written.
    let loaded = spec::load(
        "t.yaml",
        &format!(
            "{OPENSLO_HEAD}{OPENSLO_SLI}  objectives: [{{target: 0.99}}, {{displayName: strict, targetPercent: 99.9}}]\n"
        ),
        DEFAULT_WINDOW_SECS,
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let got: Vec<(String, String, f64)> = loaded
        .slos
        .iter()
        .map(|s| (s.name.clone(), s.id(), s.objective))
        .collect();
    assert_eq!(
        got,
        [
            ("s:0".to_string(), "web-s:0".to_string(), 99.0),
            ("s:1".to_string(), "web-s:1".to_string(), 99.9),
        ]
    );
    assert_eq!(loaded.slos[0].sli, loaded.slos[1].sli);
    // Their rules are apart: one group set per id.
    let rules = redline_slo::prometheus_rules::generate(&loaded.slos);
    assert!(
        rules.contains("redline-slo-alerts-web-s:0")
            && rules.contains("redline-slo-alerts-web-s:1"),
        "{rules}"
    );

    // Objectives with their own indicator (OpenSLO's composite form), e.g.
    // two latency thresholds: each SLO has its objective's SLI.
    let sli = |name: &str, le: &str| {
        format!(
            "apiVersion: openslo/v1\nkind: SLI\nmetadata: {{name: {name}}}\nspec:\n  ratioMetric:\n    good: {{metricSource: {{type: Prometheus, spec: {{query: 'sum(rate(latency_bucket{{le=\"{le}\"}}[{{{{.window}}}}]))'}}}}}}\n    total: {{metricSource: {{type: Prometheus, spec: {{query: 'sum(rate(latency_count[{{{{.window}}}}]))'}}}}}}\n---\n"
        )
    };
    let src = format!(
        "{}{}{OPENSLO_HEAD}  objectives:\n    - {{target: 0.99, indicatorRef: fast}}\n    - {{target: 0.999, indicatorRef: slow}}\n",
        sli("fast", "0.1"),
        sli("slow", "1")
    );
    let loaded = spec::load("t.yaml", &src, DEFAULT_WINDOW_SECS);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let errors: Vec<String> = loaded
        .slos
        .iter()
        .map(|s| match &s.sli {
            Sli::Events { error, .. } => error.at("5m"),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        errors[0].contains("le=\"0.1\"") && errors[1].contains("le=\"1\""),
        "{errors:?}"
    );

    // A composite budget is not computed; an objective without any
    // indicator says so.
    assert_eq!(
        only_problem(&format!(
            "{OPENSLO_HEAD}{OPENSLO_SLI}  objectives: [{{target: 0.99, compositeWeight: 2}}, {{target: 0.999}}]\n"
        )),
        "11:48: `compositeWeight` weighs the objectives of a composite SLO into one error budget, which redline does not compute: each objective is an SLO of its own, judged on its own (the gate fails when any fails); remove `compositeWeight`"
    );
    assert_eq!(
        only_problem(&format!("{OPENSLO_HEAD}  objectives: [{{target: 0.99}}]\n")),
        "6:16: missing `indicator` or `indicatorRef`: give the SLO one in `spec`, or this objective its own"
    );
}

#[test]
fn slo_ids_cannot_collide() {
    // `:` is what the objectives' names hold, so no SLO name may.
    assert_eq!(
        only_problem(
            "version: prometheus/v1\nservice: web\nslos:\n  - name: s:0\n    objective: 99\n    sli: {raw: {error_ratio_query: 'sum(rate(e[{{.window}}]))'}}\n"
        ),
        "4:11: SLO name `s:0` must not contain `:`: redline names each objective of an OpenSLO SLO with several objectives `NAME:INDEX`, so no other SLO may be named so (Sloth's and OpenSLO's names do not allow `:` either)"
    );
    // service `a-b` + SLO `c` and service `a` + SLO `b-c` are both `a-b-c`.
    let sloth = |service: &str, name: &str| {
        format!(
            "version: prometheus/v1\nservice: {service}\nslos:\n  - name: {name}\n    objective: 99\n    sli: {{raw: {{error_ratio_query: 'sum(rate(e[{{{{.window}}}}]))'}}}}\n"
        )
    };
    let loaded = spec::load_all(
        &[
            ("a.yaml".into(), sloth("a-b", "c")),
            ("b.yaml".into(), sloth("a", "b-c")),
        ],
        DEFAULT_WINDOW_SECS,
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let p: Vec<String> = redline_slo::check::check(&loaded.slos, &loaded.names)
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        p,
        [
            "b.yaml:4:11: error: SLO `b-c` of service `a` has the id `a-b-c` (service-name) of SLO `c` of service `a-b` at a.yaml:4:11: their recording rules and alerts would mix; rename one"
        ]
    );
}

#[test]
fn broken_alert_windows_are_refused_with_positions() {
    let p = problems(
        "apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: 7d\n  page:\n    quick: {errorBudgetPercent: 0, shortWindow: 5m, longWindow: 1h}\n    slow: {errorBudgetPercent: 5, shortWindow: 30m, longWindow: 8d}\n  ticket:\n    quick: {errorBudgetPercent: 10, shortWindow: 2h, longWindow: 1d}\n",
    );
    assert_eq!(
        p,
        [
            "6:33: `page.quick.errorBudgetPercent` must be a percentage of the budget above 0 and at most 100 (e.g. 2)",
            "7:65: `page.slow.longWindow` must be shorter than the `sloPeriod`",
            "9:5: missing `ticket.slow`",
        ]
    );
}

#[test]
fn more_openslo_shapes_are_refused_with_the_reason() {
    let with_source = OPENSLO_SLI.replace(
        "type: Prometheus, spec: {query: 'sum(rate(e",
        "type: Datadog, spec: {query: 'sum(rate(e",
    );
    assert_eq!(
        only_problem(&format!(
            "{OPENSLO_HEAD}{with_source}  objectives: [{{target: 0.99}}]\n"
        )),
        "9:36: metricSource type `Datadog` is not supported: redline generates Prometheus rules and queries a Prometheus-compatible API, so it reads `type: Prometheus` queries"
    );
    assert_eq!(
        only_problem(&format!(
            "{OPENSLO_HEAD}{OPENSLO_SLI}  budgetingMethod: RatioTimeslices\n  objectives: [{{target: 0.99, timeSliceWindow: 1m}}]\n"
        )),
        "11:20: budgetingMethod `RatioTimeslices` is not supported: redline's budget, recorded ratios and burn-rate alerts count events (`Occurrences`: bad events / all events over the window); `RatioTimeslices` counts time slices that meet a target, which needs per-slice evaluation redline does not do"
    );
    assert_eq!(
        only_problem(&format!(
            "{OPENSLO_HEAD}{OPENSLO_SLI}  objectives: [{{target: 0.99, indicatorRef: other}}]\n"
        )),
        "11:45: indicatorRef `other` does not name an OpenSLO `SLI` document in the files given"
    );
    let policy = |spec: &str| {
        format!(
            "{OPENSLO_HEAD}{OPENSLO_SLI}  objectives: [{{target: 0.99}}]\n  alertPolicies:\n    - kind: AlertPolicy\n      metadata: {{name: p}}\n      spec:\n{spec}"
        )
    };
    assert_eq!(
        only_problem(&policy(
            "        alertWhenNoData: true\n        conditions: [{conditionRef: c}]\n---\napiVersion: openslo/v1\nkind: AlertCondition\nmetadata: {name: c}\nspec: {severity: page, condition: {kind: burnrate, op: gt, threshold: 2, lookbackWindow: 1h}}\n"
        )),
        "16:26: `alertWhenNoData: true` is not supported: redline's alerts compare recorded burn rates, and with no data there is no burn rate to compare, so they stay silent; alert on missing data with a separate `absent()` rule"
    );
    assert_eq!(
        only_problem(&policy(
            "        conditions:\n          - kind: AlertCondition\n            metadata: {name: c}\n            spec: {severity: page, condition: {kind: threshold, op: gt, threshold: 2, lookbackWindow: 1h}}\n"
        )),
        "19:54: condition kind `threshold` is not supported: OpenSLO v1 defines `burnrate`"
    );
}

#[test]
fn more_sloth_shapes_are_refused_with_the_reason() {
    assert_eq!(
        only_problem(
            "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: s}\nspec:\n  service: web\n  objectives: [{ratioMetrics: {}, target: 0.9}]\n  timeWindows: [{count: 1, unit: Month}]\n"
        ),
        "7:17: only `unit: Day` time windows are supported (as in Sloth)"
    );
    let windows = std::fs::read_to_string(formats("alert_windows_7d.yaml")).unwrap();
    let other = windows.replace("errorBudgetPercent: 8", "errorBudgetPercent: 9");
    let loaded = spec::load_all(
        &[("a.yaml".into(), windows.clone()), ("b.yaml".into(), other)],
        DEFAULT_WINDOW_SECS,
    );
    let msgs: Vec<String> = loaded.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        msgs,
        [
            "b.yaml:2:1: error: a second AlertWindows for sloPeriod 7d with other windows (the first is at a.yaml:2:1): which to use would be ambiguous (Sloth refuses it too)"
        ]
    );
    // The same windows twice are fine, as in Sloth.
    let loaded = spec::load_all(
        &[
            ("a.yaml".into(), windows.clone()),
            ("b.yaml".into(), windows),
        ],
        DEFAULT_WINDOW_SECS,
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
}
