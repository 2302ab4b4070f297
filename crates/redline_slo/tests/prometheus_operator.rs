//! `slo generate --format prometheus-operator`: `PrometheusRule` objects
//! whose structure is what the prometheus-operator's CRD
//! (`monitoring.coreos.com/v1`) requires, whose `spec` passes
//! `promtool check rules`, and whose groups are exactly the rule file's.

mod common;
use clap::{CommandFactory, Parser};
use common::{fixture, require, slo, tool};
use serde_json::{Map, Value};
use std::process::Command;

fn documents(text: &str) -> Vec<Value> {
    redline_yaml::parse(text)
        .unwrap_or_else(|e| panic!("{e:?}:\n{text}"))
        .iter()
        .map(|d| redline_yaml::to_json(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

fn object<'a>(v: &'a Value, what: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {v}"))
}

/// Only the fields the CRD's schema knows (the operator's CRD prunes or
/// rejects others), with the required ones present.
fn fields(v: &Value, what: &str, allowed: &[&str], required: &[&str]) {
    let m = object(v, what);
    for k in m.keys() {
        assert!(allowed.contains(&k.as_str()), "{what}: unknown field `{k}`");
    }
    for k in required {
        assert!(m.contains_key(*k), "{what}: missing `{k}`");
    }
}

fn string_map(v: &Value, what: &str) {
    for (k, x) in object(v, what) {
        assert!(x.is_string(), "{what}.{k} is not a string: {x}");
    }
}

fn dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !p.starts_with('-')
                && !p.ends_with('-')
        })
}

/// The structure of a PrometheusRule as the CRD's OpenAPI schema states
/// it: apiVersion/kind, metadata.name a DNS subdomain, spec.groups[] with
/// a unique `name` and `rules[]`, each rule an `expr` and exactly one of
/// `record` and `alert`, labels and annotations string maps.
fn check_prometheus_rule(v: &Value) {
    fields(
        v,
        "object",
        &["apiVersion", "kind", "metadata", "spec"],
        &["apiVersion", "kind", "metadata", "spec"],
    );
    assert_eq!(v["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(v["kind"], "PrometheusRule");
    let name = v["metadata"]["name"]
        .as_str()
        .expect("metadata.name is a string");
    assert!(dns_subdomain(name), "metadata.name `{name}`");
    if let Some(ns) = v["metadata"].get("namespace") {
        let ns = ns.as_str().expect("metadata.namespace is a string");
        assert!(
            dns_subdomain(ns) && !ns.contains('.') && ns.len() <= 63,
            "{ns}"
        );
    }
    string_map(&v["metadata"]["labels"], "metadata.labels");
    fields(&v["spec"], "spec", &["groups"], &["groups"]);
    let groups = v["spec"]["groups"]
        .as_array()
        .expect("spec.groups is a list");
    assert!(!groups.is_empty());
    let mut names = std::collections::BTreeSet::new();
    for g in groups {
        fields(
            g,
            "group",
            &[
                "name",
                "interval",
                "rules",
                "partial_response_strategy",
                "limit",
                "query_offset",
                "labels",
            ],
            &["name", "rules"],
        );
        let n = g["name"].as_str().expect("group name is a string");
        assert!(!n.is_empty() && names.insert(n.to_string()), "group `{n}`");
        for r in g["rules"].as_array().expect("rules is a list") {
            fields(
                r,
                "rule",
                &[
                    "record",
                    "alert",
                    "expr",
                    "for",
                    "keep_firing_for",
                    "labels",
                    "annotations",
                ],
                &["expr"],
            );
            assert!(r["expr"].is_string(), "{r}");
            assert!(
                r["record"].is_string() != r["alert"].is_string(),
                "a rule is either a record or an alert: {r}"
            );
            for m in ["labels", "annotations"] {
                if let Some(x) = r.get(m) {
                    string_map(x, m);
                }
            }
        }
    }
}

fn promtool_check(spec: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("spec.json");
    std::fs::write(&p, serde_json::to_string_pretty(spec).unwrap()).unwrap();
    let o = Command::new(require("promtool"))
        .args(["check", "rules"])
        .arg(&p)
        .output()
        .expect("promtool runs");
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && text.contains("SUCCESS"), "{text}");
}

#[test]
fn prometheus_rule_objects_per_service() {
    let files = [fixture("sloth.yaml"), fixture("openslo.yaml")];
    let (code, text, err) = slo(&[
        "generate",
        &files[0],
        &files[1],
        "--format",
        "prometheus-operator",
        "--namespace",
        "monitoring",
        "--label",
        "release=prometheus",
    ]);
    assert_eq!(code, 0, "{err}");
    let objects = documents(&text);
    let (code, plain, err) = slo(&["generate", &files[0], &files[1]]);
    assert_eq!(code, 0, "{err}");
    let plain = documents(&plain);
    let services = ["checkout", "search"];
    assert_eq!(objects.len(), services.len(), "{text}");
    let mut groups = Vec::new();
    for (o, service) in objects.iter().zip(services) {
        check_prometheus_rule(o);
        promtool_check(&o["spec"]);
        assert_eq!(o["metadata"]["name"], format!("redline-slo-{service}"));
        assert_eq!(o["metadata"]["namespace"], "monitoring");
        assert_eq!(o["metadata"]["labels"]["release"], "prometheus");
        assert_eq!(
            o["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "redline"
        );
        for g in o["spec"]["groups"].as_array().unwrap() {
            assert!(
                g["name"].as_str().unwrap().contains(service),
                "{service}: {g}"
            );
            groups.push(g.clone());
        }
    }
    // The same groups as the rule file, in the same order.
    assert_eq!(Value::Array(groups), plain[0]["groups"]);
    // Deterministic.
    let (_, again, _) = slo(&[
        "generate",
        &files[0],
        &files[1],
        "--format",
        "prometheus-operator",
        "--namespace",
        "monitoring",
        "--label",
        "release=prometheus",
    ]);
    assert_eq!(text, again);
}

#[test]
fn one_named_object_without_namespace() {
    let (code, text, err) = slo(&[
        "generate",
        &fixture("sloth.yaml"),
        &fixture("openslo.yaml"),
        "--format",
        "prometheus-operator",
        "--name",
        "team-slos",
    ]);
    assert_eq!(code, 0, "{err}");
    let objects = documents(&text);
    assert_eq!(objects.len(), 1, "{text}");
    check_prometheus_rule(&objects[0]);
    promtool_check(&objects[0]["spec"]);
    assert_eq!(objects[0]["metadata"]["name"], "team-slos");
    assert!(objects[0]["metadata"].get("namespace").is_none());
    assert_eq!(
        objects[0]["metadata"]["labels"]["app.kubernetes.io/component"],
        "SLO"
    );
}

#[test]
fn bad_metadata_is_refused_with_the_flag() {
    let spec = fixture("sloth.yaml");
    for (args, expected) in [
        (
            vec!["--namespace", "monitoring"],
            "--namespace sets PrometheusRule metadata: add `--format prometheus-operator`",
        ),
        (
            vec!["--format", "prometheus-operator", "--namespace", "Mon"],
            "--namespace `Mon`: must be lower-case",
        ),
        (
            vec!["--format", "prometheus-operator", "--name", "a_b"],
            "--name `a_b`: must be lower-case",
        ),
        (
            vec!["--format", "prometheus-operator", "--label", "release"],
            "--label `release`: expected KEY=VALUE",
        ),
        (
            vec!["--format", "prometheus-operator", "--label", "x=a b"],
            "--label `x=a b`: the value must be",
        ),
    ] {
        let mut all = vec!["generate", spec.as_str()];
        all.extend(args.iter().copied());
        let (code, out, err) = slo(&all);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: redline_slo::cli::SloArgs,
}

/// The README's list of `generate` options says what `--help` says.
#[test]
fn readme_options_match_help() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let cmd = Cli::command();
    let generate = cmd
        .get_subcommands()
        .find(|c| c.get_name() == "generate")
        .expect("a generate subcommand");
    let mut checked = 0;
    for arg in generate.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if !["format", "name", "namespace", "label"].contains(&long) {
            continue;
        }
        let help = arg.get_help().expect("documented").to_string();
        let flag = format!("`--{long}");
        assert!(
            readme
                .lines()
                .any(|l| l.contains(&flag) && l.contains(&help)),
            "README has no line with {flag}` and its help `{help}`"
        );
        checked += 1;
    }
    assert_eq!(checked, 4);
}

/// The structural check accepts what Sloth v0.16 itself writes for a
/// `PrometheusServiceLevel`: it holds the CRD's structure, not redline's
/// habits.
#[test]
fn the_structure_check_accepts_sloths_own_prometheus_rule() {
    let Some(sloth) = tool("sloth") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("psl.yaml");
    std::fs::write(
        &spec,
        r#"apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: shop-slos
  namespace: monitoring
spec:
  service: shop
  labels: {owner: shop-team}
  slos:
    - name: requests-availability
      objective: 99.9
      sli:
        events:
          errorQuery: sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total{job="shop"}[{{.window}}]))
      alerting:
        name: ShopHighErrorRate
        pageAlert: {labels: {severity: critical}}
        ticketAlert: {labels: {severity: warning}}
"#,
    )
    .unwrap();
    let out = dir.path().join("rule.yaml");
    let o = Command::new(sloth)
        .args(["generate", "-i"])
        .arg(&spec)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("sloth runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let objects = documents(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(objects.len(), 1);
    check_prometheus_rule(&objects[0]);
    promtool_check(&objects[0]["spec"]);
    assert_eq!(objects[0]["metadata"]["name"], "shop-slos");
}

const PSLS: &str = r#"apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: shop-slos
  namespace: monitoring
  labels: {release: prometheus, app.kubernetes.io/managed-by: someone-else}
  annotations: {team.example.com/owner: shop-team}
spec:
  service: shop
  slos:
    - name: requests-availability
      objective: 99.9
      sli: {raw: {errorRatioQuery: 'sum(rate(e{job="shop"}[{{.window}}])) / sum(rate(t{job="shop"}[{{.window}}]))'}}
      alerting: {name: ShopAvailability}
---
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: cart-slos
spec:
  service: cart
  slos:
    - name: requests-availability
      objective: 99.9
      sli: {raw: {errorRatioQuery: 'sum(rate(e{job="cart"}[{{.window}}])) / sum(rate(t{job="cart"}[{{.window}}]))'}}
      alerting: {name: CartAvailability}
"#;

/// What a `PrometheusRule`'s metadata says, the manager's name left out
/// (`sloth` or `redline`).
fn metadata(o: &Value) -> Value {
    let mut m = o["metadata"].clone();
    if let Some(l) = m.get_mut("labels").and_then(Value::as_object_mut) {
        l.remove("app.kubernetes.io/managed-by");
    }
    m
}

/// A `PrometheusServiceLevel`'s `PrometheusRule` takes its name,
/// namespace, labels and annotations, as Sloth v0.16's: both are run on
/// the same resources and their metadata compared. `--namespace` and
/// `--name` still decide when given; other formats keep
/// `redline-slo-SERVICE`.
#[test]
fn a_prometheus_service_levels_rule_has_its_metadata_as_sloths() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("psl.yaml");
    std::fs::write(&spec, PSLS).unwrap();
    let spec = spec.display().to_string();
    let (code, text, err) = slo(&["generate", &spec, "--format", "prometheus-operator"]);
    assert_eq!(code, 0, "{err}");
    let ours = documents(&text);
    assert_eq!(ours.len(), 2, "{text}");
    for o in &ours {
        check_prometheus_rule(o);
        promtool_check(&o["spec"]);
        assert_eq!(
            o["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "redline"
        );
    }
    assert_eq!(ours[0]["metadata"]["name"], "shop-slos");
    assert_eq!(ours[0]["metadata"]["namespace"], "monitoring");
    assert_eq!(ours[0]["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(
        ours[0]["metadata"]["annotations"]["team.example.com/owner"],
        "shop-team"
    );
    assert_eq!(ours[1]["metadata"]["name"], "cart-slos");
    assert!(ours[1]["metadata"].get("namespace").is_none(), "{text}");

    if let Some(sloth) = tool("sloth") {
        let out = dir.path().join("sloth.yaml");
        let o = Command::new(sloth)
            .args(["generate", "-i", &spec, "-o"])
            .arg(&out)
            .output()
            .expect("sloth runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let theirs = documents(&std::fs::read_to_string(&out).unwrap());
        assert_eq!(theirs.len(), ours.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(metadata(a), metadata(b), "redline's, then Sloth's");
        }
    }

    // The flags decide when given.
    let (code, text, err) = slo(&[
        "generate",
        &spec,
        "--format",
        "prometheus-operator",
        "--namespace",
        "slo",
    ]);
    assert_eq!(code, 0, "{err}");
    let objects = documents(&text);
    assert!(
        objects.iter().all(|o| o["metadata"]["namespace"] == "slo"),
        "{text}"
    );
    let (code, text, err) = slo(&[
        "generate",
        &spec,
        "--format",
        "prometheus-operator",
        "--name",
        "all-slos",
    ]);
    assert_eq!(code, 0, "{err}");
    let objects = documents(&text);
    assert_eq!(objects.len(), 1, "{text}");
    assert_eq!(objects[0]["metadata"]["name"], "all-slos");
    // The two resources' namespaces differ: none is chosen.
    assert!(objects[0]["metadata"].get("namespace").is_none(), "{text}");
    // A prometheus/v1 spec has no metadata: one object per service.
    let (code, text, err) = slo(&[
        "generate",
        &fixture("sloth.yaml"),
        "--format",
        "prometheus-operator",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        documents(&text)[0]["metadata"]["name"],
        "redline-slo-checkout"
    );
}
