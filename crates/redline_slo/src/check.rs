//! Checks across loaded SLOs: names are unique across files, alerts can
//! fire. (Queries are checked while loading, valid SLO or not.)

use crate::spec::{Slo, SloName, SpecProblem};
use std::collections::BTreeMap;

/// Every problem with the loaded SLOs (the loaders' own problems are
/// reported separately).
pub fn check(slos: &[Slo], names: &[SloName]) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<(&str, &str), &SloName> = BTreeMap::new();
    for n in names {
        match seen.get(&(n.service.as_str(), n.name.as_str())) {
            Some(first) => problems.push(SpecProblem {
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
    // `service-name` ids are unique only if no two (service, name) pairs
    // join to the same text (service `a-b` with SLO `c`, service `a` with
    // SLO `b-c`): their rules and alerts would mix.
    let mut ids: BTreeMap<String, &Slo> = BTreeMap::new();
    for slo in slos {
        match ids.get(&slo.id()) {
            Some(first) if (first.service != slo.service) || (first.name != slo.name) => {
                problems.push(SpecProblem {
                    path: slo.path.clone(),
                    pos: slo.name_pos,
                    message: format!(
                        "SLO `{}` of service `{}` has the id `{}` (service-name) of SLO `{}` of service `{}` at {}:{}:{}: their recording rules and alerts would mix; rename one",
                        slo.name,
                        slo.service,
                        slo.id(),
                        first.name,
                        first.service,
                        first.path,
                        first.name_pos.line,
                        first.name_pos.column
                    ),
                });
            }
            Some(_) => {}
            None => {
                ids.insert(slo.id(), slo);
            }
        }
    }
    for slo in slos {
        let mut err = |pos, message: String| {
            problems.push(SpecProblem {
                path: slo.path.clone(),
                pos,
                message,
            })
        };
        rule_problems(slo, &mut err);
        let budget = slo.error_budget();
        for a in slo.alert_windows() {
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
                        "the {} alert ({} and {} windows at {}x burn) can never fire: {}x the error budget of {:.4}% is {:.1}%, above a 100% error ratio; raise the objective or disable the alert ({})",
                        a.severity,
                        a.long_str(),
                        a.short_str(),
                        a.factor,
                        a.factor,
                        budget * 100.0,
                        a.factor * budget * 100.0,
                        slo.format.disable_alert_hint(a.severity)
                    ),
                );
            }
        }
    }
    problems
}

/// What Prometheus (and `promtool check rules`) refuses in the rules this
/// SLO generates: `__name__` as a label, annotation names that are not
/// label names, and alert label or annotation values that do not parse as
/// Go templates.
fn rule_problems(slo: &Slo, err: &mut dyn FnMut(crate::yaml::Pos, String)) {
    let all_labels = [
        ("labels", &slo.labels, slo.pos),
        ("alerting labels", &slo.alerting.labels, slo.pos),
        (
            "page alert labels",
            &slo.alerting.page.labels,
            slo.alerting.page.pos,
        ),
        (
            "ticket alert labels",
            &slo.alerting.ticket.labels,
            slo.alerting.ticket.pos,
        ),
    ];
    let annotations = [
        ("alerting annotations", &slo.alerting.annotations, slo.pos),
        (
            "page alert annotations",
            &slo.alerting.page.annotations,
            slo.alerting.page.pos,
        ),
        (
            "ticket alert annotations",
            &slo.alerting.ticket.annotations,
            slo.alerting.ticket.pos,
        ),
    ];
    let alerts_on = !(slo.alerting.page.disable && slo.alerting.ticket.disable);
    for (what, map, pos) in all_labels {
        for (k, v) in map {
            if k == "__name__" {
                err(
                    pos,
                    format!(
                        "{what}: `__name__` is the metric name, not a label a rule may set (Prometheus rejects the rule: invalid label name)"
                    ),
                );
            }
            if alerts_on && let Some(why) = template_problem(v) {
                err(
                    pos,
                    format!(
                        "{what}: the value of `{k}` is not a valid alert template ({why}); Prometheus would reject the rule"
                    ),
                );
            }
        }
    }
    for (what, map, pos) in annotations {
        for (k, v) in map {
            if !crate::spec::valid_label_name(k) {
                err(
                    pos,
                    format!(
                        "{what}: `{k}` is not a valid annotation name (letters, digits and `_`, not starting with a digit)"
                    ),
                );
            }
            if alerts_on && let Some(why) = template_problem(v) {
                err(
                    pos,
                    format!(
                        "{what}: `{k}` is not a valid Go template ({why}); Prometheus would reject the rule"
                    ),
                );
            }
        }
    }
}

/// Queries longer than this are refused before parsing: SLI queries are a
/// few hundred bytes, and the PromQL parser's time grows faster than the
/// query (a 100,000-term sum took over a minute).
pub const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Brackets nested deeper than this are refused before parsing (the
/// parser recurses on them).
pub const MAX_QUERY_DEPTH: usize = 64;

/// Where in a query: 1-based line and column (in characters).
fn place(query: &str, offset: usize) -> String {
    let before = &query[..offset.min(query.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    if query.contains('\n') {
        format!("line {line}, column {col} of the query")
    } else {
        format!("column {col} of the query")
    }
}

/// The quote-aware bracket structure of a query: the first problem found
/// (unbalanced or too deep), with where it is.
fn brackets(query: &str) -> Option<String> {
    let mut stack: Vec<(char, usize)> = Vec::new();
    let mut chars = query.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                let mut closed = false;
                while let Some((_, d)) = chars.next() {
                    if d == '\\' && c != '`' {
                        chars.next();
                    } else if d == c {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Some(format!(
                        "the string opened with {c} at {} is not closed",
                        place(query, i)
                    ));
                }
            }
            '#' => {
                // A comment runs to the end of the line.
                while chars.peek().is_some_and(|(_, d)| *d != '\n') {
                    chars.next();
                }
            }
            '(' | '[' | '{' => {
                stack.push((c, i));
                if stack.len() > MAX_QUERY_DEPTH {
                    return Some(format!(
                        "brackets nested more than {MAX_QUERY_DEPTH} deep (at {}); redline does not check queries this deep: split it into recording rules",
                        place(query, i)
                    ));
                }
            }
            ')' | ']' | '}' => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match stack.pop() {
                    Some((open, _)) if open == want => {}
                    Some((open, at)) => {
                        return Some(format!(
                            "`{c}` at {} does not close `{open}` opened at {}",
                            place(query, i),
                            place(query, at)
                        ));
                    }
                    None => {
                        return Some(format!("`{c}` at {} closes nothing", place(query, i)));
                    }
                }
            }
            _ => {}
        }
    }
    stack
        .last()
        .map(|(open, at)| format!("`{open}` opened at {} is never closed", place(query, *at)))
}

/// A binary operator the query ends with, which leaves it without an operand.
fn trailing_operator(query: &str) -> Option<String> {
    let t = query.trim_end();
    const OPS: &[&str] = &[
        "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "^", ">", "<", " and", " or", " unless",
    ];
    OPS.iter().find(|op| t.ends_with(*op)).map(|op| {
        format!(
            "the query ends with `{}` at {}: an operand is missing",
            op.trim(),
            place(query, t.len() - op.trim().len())
        )
    })
}

/// Parses a PromQL query (its window already filled in) within bounds:
/// at most [`MAX_QUERY_BYTES`] and [`MAX_QUERY_DEPTH`] levels of brackets,
/// checked in one pass before the parser runs. Errors say why and where
/// (line and column inside the query); the parser's own message, which for
/// most grammar errors is only "invalid promql query", is kept when there
/// is nothing better to say.
pub fn parse_promql(query: &str) -> Result<promql_parser::parser::Expr, String> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(format!(
            "the query is {} bytes, over the {} KiB that redline checks; move parts of it into recording rules",
            query.len(),
            MAX_QUERY_BYTES / 1024
        ));
    }
    if let Some(problem) = brackets(query) {
        return Err(problem);
    }
    promql_parser::parser::parse(query).map_err(|e| {
        let e = e.trim().replace('\n', " ");
        if e != "invalid promql query" {
            return e;
        }
        trailing_operator(query)
            .or_else(|| unexpected_token(query))
            .unwrap_or_else(|| {
                "the PromQL parser rejects it without saying where (check for a missing operator or operand between terms, a misspelt function, or a misplaced `by`/`without`)".into()
            })
    })
}

/// The grammar error the parser reports with no detail ("invalid promql
/// query": promql-parser does not expose its LR parser's error), located
/// the way an LR parser finds it: at the first token that no valid query
/// can continue. Each prefix of the query, cut after a token, is probed
/// with completions (an operand, a label value, a duration, a grouping
/// clause, the closing brackets it still needs); a prefix that some
/// completion turns into a query the grammar accepts is viable. The first
/// token whose prefix is not viable is the one the grammar rejects. Being
/// viable is monotone in the prefix, so a binary search needs
/// O(log tokens) probes.
fn unexpected_token(query: &str) -> Option<String> {
    let tokens = query_tokens(query);
    if tokens.is_empty() {
        return None;
    }
    // Invariant: the prefix through token `lo - 1` is viable (the empty
    // prefix is), the prefix through token `hi` is not (the whole query).
    let (mut lo, mut hi) = (0usize, tokens.len() - 1);
    if viable(query, tokens[hi].1) {
        let (start, end) = tokens[hi];
        return Some(format!(
            "the query stops after `{}` at {}: it needs more (an operand, or the rest of the clause)",
            &query[start..end],
            place(query, start)
        ));
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        if viable(query, tokens[mid].1) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let (start, end) = tokens[lo];
    let text = &query[start..end];
    let what = if lo > 0
        && starts_operand(text)
        && ends_operand(&query[tokens[lo - 1].0..tokens[lo - 1].1])
    {
        ": an operator (or a comma) is missing before it"
    } else {
        ""
    };
    Some(format!(
        "unexpected `{text}` at {}{what}",
        place(query, start)
    ))
}

fn starts_operand(t: &str) -> bool {
    t.starts_with(|c: char| {
        c.is_alphanumeric() || c == '_' || c == '"' || c == '\'' || c == '`' || c == '('
    })
}

fn ends_operand(t: &str) -> bool {
    t.ends_with(|c: char| {
        c.is_alphanumeric()
            || c == '_'
            || c == '"'
            || c == '\''
            || c == '`'
            || c == ')'
            || c == ']'
            || c == '}'
    })
}

/// Whether some completion of `query[..cut]` is a query the grammar
/// accepts (an error other than the parser's bare grammar error, such as a
/// type error, still means the grammar accepted it; a lexer error means
/// the completion did not fit).
fn viable(query: &str, cut: usize) -> bool {
    const FILLERS: &[&str] = &[
        "", " x", "x", " 1", "(x)", " (x)", " (a) (x)", "=\"a\"", "\"a\"", "5m", "m", " 5m",
        "[5m]", ", x", " a=\"a\"",
    ];
    const TAILS: &[&str] = &["", " (x)", " x"];
    let prefix = &query[..cut];
    let closers = closers(prefix);
    FILLERS.iter().any(|filler| {
        TAILS.iter().any(|tail| {
            let candidate = format!("{prefix}{filler}{closers}{tail}");
            // The lexer's own errors (a bad token in a label matcher, an
            // unclosed bracket) mean the completion is wrong, not that the
            // grammar accepted it; other errors (types, arity, unknown
            // function) come after the grammar accepted the query.
            promql_parser::parser::lexer(&candidate).is_ok()
                && !matches!(promql_parser::parser::parse(&candidate), Err(e) if e == "invalid promql query")
        })
    })
}

/// The closing brackets an unfinished query still needs, innermost first.
fn closers(prefix: &str) -> String {
    let mut stack = Vec::new();
    for (start, end) in query_tokens(prefix) {
        match &prefix[start..end] {
            "(" => stack.push(')'),
            "[" => stack.push(']'),
            "{" => stack.push('}'),
            ")" | "]" | "}" => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.iter().rev().collect()
}

/// The query's tokens as byte ranges: strings, words (names, numbers,
/// durations), the two-character operators, and single punctuation; blanks
/// and `#` comments are skipped.
fn query_tokens(query: &str) -> Vec<(usize, usize)> {
    let bytes = query.as_bytes();
    let word =
        |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':' || b == b'.' || b >= 0x80;
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if b == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if matches!(b, b'"' | b'\'' | b'`') {
            i += 1;
            while i < bytes.len() && bytes[i] != b {
                if bytes[i] == b'\\' && b != b'`' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(bytes.len());
        } else if word(b) {
            while i < bytes.len() && word(bytes[i]) {
                i += 1;
            }
        } else if i + 1 < bytes.len()
            && matches!(
                &bytes[i..i + 2],
                b"==" | b"!=" | b">=" | b"<=" | b"=~" | b"!~"
            )
        {
            i += 2;
        } else {
            i += 1;
            // Stay on a character boundary.
            while i < bytes.len() && !query.is_char_boundary(i) {
                i += 1;
            }
        }
        tokens.push((start, i));
    }
    tokens
}

#[cfg(test)]
mod query_tests {
    use super::*;

    #[test]
    fn parse_errors_say_why_and_where() {
        let err = |q: &str| parse_promql(q).unwrap_err();
        assert!(parse_promql("sum(rate(x[5m]))").is_ok());
        let e = err("sum(rate(\n  x{code=~\"5..\"}[5m]\n)");
        assert!(
            e.contains("`(` opened at line 1, column 4 of the query is never closed"),
            "{e}"
        );
        let e = err("sum(rate(x[5m]))\n  /\n");
        assert!(e.contains("ends with `/` at line 2, column 3"), "{e}");
        let e = err("sum(x))");
        assert!(
            e.contains("`)` at column 7 of the query closes nothing"),
            "{e}"
        );
        let e = err("sum(x{a=\"b})");
        assert!(e.contains("not closed"), "{e}");
        let e = err("sum(x y)");
        assert_eq!(
            e,
            "unexpected `y` at column 7 of the query: an operator (or a comma) is missing before it"
        );
    }

    #[test]
    fn grammar_errors_name_the_token_the_grammar_rejects() {
        let err = |q: &str| parse_promql(q).unwrap_err();
        let cases = [
            (
                "sum(rate(a[5m]))\n  sum(rate(b[5m]))",
                "unexpected `sum` at line 2, column 3 of the query: an operator (or a comma) is missing before it",
            ),
            (
                "sum(x) by code",
                "unexpected `code` at column 11 of the query",
            ),
            (
                "x{a=\"b\" c=\"d\"}",
                "unexpected `c` at column 9 of the query: an operator (or a comma) is missing before it",
            ),
            ("sum by (a) x", "unexpected `x` at column 12 of the query"),
            (
                "rate(x[5m]) / / y",
                "unexpected `/` at column 15 of the query",
            ),
            (
                "histogram_quantile(0.9 rate(x[5m]))",
                "unexpected `rate` at column 24 of the query: an operator (or a comma) is missing before it",
            ),
            (
                "x == bool",
                "the query stops after `bool` at column 6 of the query",
            ),
            (
                "foo{a=\"b\"}[5m] x",
                "unexpected `x` at column 16 of the query: an operator (or a comma) is missing before it",
            ),
        ];
        for (query, want) in cases {
            let e = err(query);
            assert!(e.starts_with(want), "{query}: {e}");
        }
        // Valid queries are never probed, and the probe is bounded: a long
        // query with its error at the end is located quickly.
        let long = format!("{} y", vec!["rate(x[5m])"; 1_000].join(" + "));
        let started = std::time::Instant::now();
        let e = err(&long);
        assert!(e.starts_with("unexpected `y`"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn huge_and_deep_queries_are_refused_fast() {
        let started = std::time::Instant::now();
        let long = vec!["x"; 100_000].join(" + ");
        let e = parse_promql(&long).unwrap_err();
        assert!(e.contains("over the 16 KiB"), "{e}");
        let deep = format!("{}x{}", "(".repeat(1_000), ")".repeat(1_000));
        let e = parse_promql(&deep).unwrap_err();
        assert!(e.contains("nested more than 64 deep"), "{e}");
        // Just under the limits: parsed, and quickly.
        let terms = vec!["rate(x[5m])"; 1_100].join(" + ");
        assert!(terms.len() < MAX_QUERY_BYTES);
        assert!(parse_promql(&terms).is_ok());
        let nested = format!("{}x{}", "(".repeat(60), ")".repeat(60));
        assert!(parse_promql(&nested).is_ok());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}

/// Functions an alert's label and annotation templates may call: Go's
/// text/template built-ins and the ones Prometheus adds
/// (prometheus/template/template.go).
const TEMPLATE_FUNCS: &[&str] = &[
    // text/template
    "and",
    "call",
    "html",
    "index",
    "slice",
    "js",
    "len",
    "not",
    "or",
    "print",
    "printf",
    "println",
    "urlquery",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ne",
    // Prometheus
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "now",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "stripPort",
    "stripDomain",
    "urlQueryEscape",
];

/// Variables Prometheus defines before expanding an alert's templates.
const TEMPLATE_VARS: &[&str] = &["$", "$labels", "$externalLabels", "$externalURL", "$value"];

/// Checks the Go template syntax of an alert label or annotation value as
/// Prometheus parses it when it loads the rule (`promtool check rules`
/// does the same): actions closed, control structures balanced, functions
/// and variables known. `None` when it parses.
pub fn template_problem(text: &str) -> Option<String> {
    let mut rest = text;
    let mut blocks: Vec<&'static str> = Vec::new();
    let mut declared: Vec<String> = Vec::new();
    while let Some(open) = rest.find("{{") {
        let mut action = &rest[open + 2..];
        if let Some(a) = action.strip_prefix("- ") {
            action = a;
        }
        // A comment: `{{/* … */}}`.
        if let Some(c) = action.strip_prefix("/*") {
            let Some(end) = c.find("*/") else {
                return Some("unclosed comment".into());
            };
            let after = c[end + 2..].trim_start_matches(" -");
            if !after.starts_with("}}") {
                return Some("comment ends before closing delimiter".into());
            }
            rest = &after[2..];
            continue;
        }
        // The action's end: the first `}}` outside a string.
        let (body, after) = match action_end(action) {
            Ok(i) => (&action[..i], &action[i + 2..]),
            Err(e) => return Some(e),
        };
        let body = body.strip_suffix(" -").unwrap_or(body).trim();
        if let Some(e) = check_action(body, &mut blocks, &mut declared) {
            return Some(e);
        }
        rest = after;
    }
    blocks
        .last()
        .map(|b| format!("unexpected EOF: `{{{{{b}}}}}` has no `{{{{end}}}}`"))
}

/// The offset of the `}}` that ends an action, skipping strings.
fn action_end(action: &str) -> Result<usize, String> {
    let b = action.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'}' if b.get(i + 1) == Some(&b'}') => return Ok(i),
            q @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' && q != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= b.len() {
                    return Err("unterminated quoted string in an action".into());
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    Err("unclosed action: `{{` without `}}`".into())
}

fn check_action(
    body: &str,
    blocks: &mut Vec<&'static str>,
    declared: &mut Vec<String>,
) -> Option<String> {
    let words = match template_words(body) {
        Ok(w) => w,
        Err(e) => return Some(e),
    };
    let Some(first) = words.first() else {
        return Some("missing value for command: an empty action `{{ }}`".into());
    };
    let mut args: &[String] = &words;
    match first.as_str() {
        "end" => {
            if blocks.pop().is_none() {
                return Some("unexpected `{{end}}`".into());
            }
            return (words.len() > 1).then(|| "unexpected words after `end`".into());
        }
        "else" => {
            if !matches!(blocks.last(), Some(&("if" | "range" | "with"))) {
                return Some("unexpected `{{else}}`".into());
            }
            args = &words[1..];
            if args.is_empty() {
                return None;
            }
            if !matches!(args[0].as_str(), "if" | "with") {
                return Some(format!("unexpected `{}` after `else`", args[0]));
            }
            args = &args[1..];
            if args.is_empty() {
                return Some("missing value for `else if`".into());
            }
        }
        "if" | "range" | "with" | "define" | "block" => {
            blocks.push(match first.as_str() {
                "if" => "if",
                "range" => "range",
                "with" => "with",
                "define" => "define",
                _ => "block",
            });
            args = &words[1..];
            if args.is_empty() {
                return Some(format!("missing value for `{first}`"));
            }
            if first == "define" || first == "block" {
                return None;
            }
        }
        "template" => return None,
        "break" | "continue" => {
            return (!blocks.contains(&"range"))
                .then(|| format!("`{{{{{first}}}}}` outside `{{{{range}}}}`"));
        }
        _ => {}
    }
    // Declarations: `$x := pipeline`, `$i, $v := range …`.
    if let Some(pos) = args.iter().position(|w| w == ":=" || w == "=") {
        for v in &args[..pos] {
            let v = v.trim_end_matches(',');
            if !v.starts_with('$') {
                return Some(format!("`{v}` cannot be assigned to"));
            }
            declared.push(v.to_string());
        }
        args = &args[pos + 1..];
        if args.first().is_some_and(|w| w == "range") {
            args = &args[1..];
        }
        if args.is_empty() {
            return Some("missing value after `:=`".into());
        }
    }
    for w in args {
        let w = w.as_str();
        if let Some(var) = w.strip_prefix('$') {
            let name = format!("${}", var.split('.').next().unwrap_or(""));
            if !TEMPLATE_VARS.contains(&name.as_str()) && !declared.contains(&name) {
                return Some(format!("undefined variable `{name}`"));
            }
        } else if w.starts_with(|c: char| c.is_alphabetic() || c == '_')
            && !matches!(w, "nil" | "true" | "false")
            && !TEMPLATE_FUNCS.contains(&w)
        {
            return Some(format!("function `{w}` not defined"));
        }
    }
    None
}

/// The words of an action: identifiers, fields, variables, literals and
/// operators (`|`, `:=`), with parentheses balanced and dropped.
fn template_words(body: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut depth = 0usize;
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                if depth == 0 {
                    return Err("unexpected `)` in an action".into());
                }
                depth -= 1;
                i += 1;
            }
            b'|' => {
                words.push("|".to_string());
                i += 1;
            }
            b':' if b.get(i + 1) == Some(&b'=') => {
                words.push(":=".to_string());
                i += 2;
            }
            b'=' => {
                words.push("=".to_string());
                i += 1;
            }
            b'"' | b'\'' | b'`' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != c {
                    if b[i] == b'\\' && c != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                words.push(body[start..i.min(b.len())].to_string());
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !matches!(
                        b[i],
                        b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b'|' | b','
                    )
                    && !(b[i] == b':' && b.get(i + 1) == Some(&b'='))
                {
                    i += 1;
                }
                let w = &body[start..i];
                let ok = w.bytes().all(|x| {
                    x.is_ascii_alphanumeric() || matches!(x, b'.' | b'$' | b'_' | b'-' | b'+')
                }) || !w.is_ascii();
                if !ok {
                    return Err(format!("unexpected `{w}` in an action"));
                }
                words.push(w.to_string());
            }
        }
    }
    if depth > 0 {
        return Err("unclosed `(` in an action".into());
    }
    Ok(words)
}

#[cfg(test)]
mod template_tests {
    use super::template_problem;

    #[test]
    fn templates_parse_as_prometheus_parses_them() {
        for ok in [
            "plain text",
            "{{ $labels.instance }} is down ({{ $value | humanizePercentage }})",
            "{{- if gt $value 0.5 -}}high{{ else if lt $value 0.1 }}low{{ else }}mid{{ end }}",
            "{{ range $i, $l := $labels }}{{ $i }}={{ $l }}{{ end }}",
            "{{ with query \"up\" }}{{ . | first | value }}{{ end }}",
            "{{/* a comment */}}{{ printf \"%.2f\" $value }}",
            "{{ $x := 1 }}{{ $x }}",
            "{{ \"}}\" }}",
        ] {
            assert_eq!(template_problem(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("{{ $labels.instance", "unclosed action"),
            ("{{ if $value }}x", "unexpected EOF"),
            ("x{{ end }}", "unexpected `{{end}}`"),
            (
                "{{ nosuchfunc $value }}",
                "function `nosuchfunc` not defined",
            ),
            ("{{ $nope }}", "undefined variable `$nope`"),
            ("{{ }}", "missing value"),
            ("{{ (humanize $value }}", "unclosed `(`"),
            ("{{ \"abc }}", "unterminated"),
            ("{{ else }}", "unexpected `{{else}}`"),
        ] {
            let got = template_problem(bad).unwrap_or_default();
            assert!(got.contains(why), "{bad}: {got}");
        }
    }
}
