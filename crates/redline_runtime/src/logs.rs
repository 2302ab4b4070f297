//! Structured-log validation for `redline logs` (README, "`redline logs`"):
//! every line a JSON object with the required fields, a timestamp,
//! a known level, and a stack trace on error entries.
//!
//! Memory stays constant on any input: lines are streamed through one
//! buffer, a line longer than `max_line_bytes` is reported and skipped
//! without being kept, and per-line parsing borrows from the buffer (no
//! tree is built; values that are not checked are skipped by the JSON
//! parser without allocating).

use redline_config::{Document, LogsTable};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, Write};

/// Logger presets: their default field names and level names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The catalog as written: `timestamp`/`ts`/`time`, any known level name
    /// in any case.
    #[default]
    Default,
    /// go.uber.org/zap production config: `ts`, `level` (`debug` … `fatal`),
    /// `stacktrace`.
    Zap,
    /// github.com/rs/zerolog: `time`, `level` (`trace` … `panic`), `stack`.
    Zerolog,
    /// log/slog JSONHandler: `time`, `level` (`DEBUG`, `INFO`, `WARN`,
    /// `ERROR`, with offsets such as `ERROR+4`).
    Slog,
}

/// How level values are judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelRule {
    /// Known names and the ones at error or above.
    Names {
        known: Vec<String>,
        error: Vec<String>,
        case_insensitive: bool,
    },
    /// slog: `DEBUG|INFO|WARN|ERROR` with an optional `+N`/`-N` offset;
    /// error or above is a numeric level ≥ 8.
    Slog,
}

impl LevelRule {
    /// `None` when unknown, else whether it is error or above.
    fn classify(&self, level: &str) -> Option<bool> {
        match self {
            LevelRule::Names {
                known,
                error,
                case_insensitive,
            } => {
                let eq = |a: &String| {
                    if *case_insensitive {
                        a.eq_ignore_ascii_case(level)
                    } else {
                        a == level
                    }
                };
                if !known.iter().any(eq) {
                    return None;
                }
                Some(error.iter().any(eq))
            }
            LevelRule::Slog => {
                let split = level.find(['+', '-']).unwrap_or(level.len());
                let base = match &level[..split] {
                    "DEBUG" => -4i64,
                    "INFO" => 0,
                    "WARN" => 4,
                    "ERROR" => 8,
                    _ => return None,
                };
                let offset = if split == level.len() {
                    0
                } else {
                    let digits = &level[split + 1..];
                    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    let n: i64 = digits.parse().ok()?;
                    if level.as_bytes()[split] == b'-' {
                        -n
                    } else {
                        n
                    }
                };
                Some(base.checked_add(offset)? >= 8)
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            LevelRule::Names { known, .. } => known.join(", "),
            LevelRule::Slog => "DEBUG, INFO, WARN, ERROR (optionally +N/-N)".into(),
        }
    }
}

/// What a valid line must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSchema {
    /// Fields every line needs (`request_id`, `service_name`).
    pub required: Vec<String>,
    /// Any one of these is the timestamp.
    pub timestamp_fields: Vec<String>,
    pub level_field: String,
    pub levels: LevelRule,
    /// Any one of these is a stack trace.
    pub stack_fields: Vec<String>,
    /// Longer lines are reported (`line-too-long`) and not parsed.
    pub max_line_bytes: usize,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl LogSchema {
    pub fn preset(preset: Preset) -> LogSchema {
        let stack = strings(&["stacktrace", "stack", "errorVerbose"]);
        let (timestamps, levels) = match preset {
            Preset::Default => (
                strings(&["timestamp", "ts", "time"]),
                LevelRule::Names {
                    known: strings(&[
                        "trace", "debug", "info", "warn", "warning", "error", "dpanic", "panic",
                        "fatal",
                    ]),
                    error: strings(&["error", "dpanic", "panic", "fatal"]),
                    case_insensitive: true,
                },
            ),
            Preset::Zap => (
                strings(&["ts"]),
                LevelRule::Names {
                    known: strings(&["debug", "info", "warn", "error", "dpanic", "panic", "fatal"]),
                    error: strings(&["error", "dpanic", "panic", "fatal"]),
                    case_insensitive: false,
                },
            ),
            Preset::Zerolog => (
                strings(&["time"]),
                LevelRule::Names {
                    known: strings(&["trace", "debug", "info", "warn", "error", "fatal", "panic"]),
                    error: strings(&["error", "fatal", "panic"]),
                    case_insensitive: false,
                },
            ),
            Preset::Slog => (strings(&["time"]), LevelRule::Slog),
        };
        LogSchema {
            required: strings(&["request_id", "service_name"]),
            timestamp_fields: timestamps,
            level_field: "level".into(),
            levels,
            stack_fields: stack,
            max_line_bytes: 1 << 20,
        }
    }
}

/// `[logs]` of redline.toml: the table as written, its preset read.
#[derive(Debug, Clone, Default)]
pub struct LogsConfig {
    pub preset: Option<Preset>,
    pub table: LogsTable,
}

impl LogsConfig {
    /// The `[logs]` table of `config` (empty when absent).
    pub fn from_config(config: Option<&Document>) -> Result<LogsConfig, String> {
        let Some((doc, table)) = config.and_then(|d| Some((d, d.tables().logs.as_ref()?))) else {
            return Ok(LogsConfig::default());
        };
        Ok(LogsConfig {
            preset: table
                .preset
                .as_ref()
                .map(|p| redline_config::named(doc, p))
                .transpose()?,
            table: table.clone(),
        })
    }

    /// The schema: `preset_override` or the configured preset, then the
    /// configured field names on top.
    pub fn schema(&self, preset_override: Option<Preset>) -> Result<LogSchema, String> {
        let mut s = LogSchema::preset(preset_override.or(self.preset).unwrap_or_default());
        if let Some(r) = &self.table.required_fields {
            s.required = r.clone();
        }
        if let Some(t) = &self.table.timestamp_fields {
            s.timestamp_fields = t.clone();
        }
        if let Some(l) = &self.table.level_field {
            s.level_field = l.clone();
        }
        match (&self.table.levels, &self.table.error_levels) {
            (Some(known), error) => {
                let error = error.clone().unwrap_or_default();
                if let Some(e) = error.iter().find(|e| !known.contains(e)) {
                    return Err(format!(
                        "[logs] error-levels: `{e}` is not in `levels`; add it there"
                    ));
                }
                s.levels = LevelRule::Names {
                    known: known.clone(),
                    error,
                    case_insensitive: false,
                };
            }
            (None, Some(_)) => {
                return Err("[logs] error-levels needs `levels` next to it".into());
            }
            (None, None) => {}
        }
        if let Some(st) = &self.table.stack_fields {
            s.stack_fields = st.clone();
        }
        if let Some(m) = self.table.max_line_bytes {
            if m == 0 {
                return Err("[logs] max-line-bytes must be positive".into());
            }
            s.max_line_bytes = m;
        }
        Ok(s)
    }
}

/// One kind of violation (the summary counts per kind).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Violation {
    InvalidJson,
    NotObject,
    MissingField(String),
    MissingTimestamp,
    MissingLevel,
    UnknownLevel,
    ErrorWithoutStack,
    LineTooLong,
}

impl Violation {
    pub fn label(&self) -> String {
        match self {
            Violation::InvalidJson => "invalid-json".into(),
            Violation::NotObject => "not-an-object".into(),
            Violation::MissingField(f) => format!("missing-{f}"),
            Violation::MissingTimestamp => "missing-timestamp".into(),
            Violation::MissingLevel => "missing-level".into(),
            Violation::UnknownLevel => "unknown-level".into(),
            Violation::ErrorWithoutStack => "error-without-stack".into(),
            Violation::LineTooLong => "line-too-long".into(),
        }
    }
}

/// A violation with what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub violation: Violation,
    pub message: String,
}

/// A key borrowed from the line when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// The level value: a string (borrowed when possible), or something else.
enum LevelValue<'a> {
    Text(Cow<'a, str>),
    Other,
}

impl<'de> LevelValue<'de> {
    /// The value and whether it is present (not `null`, not `""`).
    fn deserialize_with_presence<D: de::Deserializer<'de>>(
        d: D,
    ) -> Result<(bool, LevelValue<'de>), D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = (bool, LevelValue<'de>);
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok((!v.is_empty(), LevelValue::Text(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok((!v.is_empty(), LevelValue::Text(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok((false, LevelValue::Other))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok((false, LevelValue::Other))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok((true, LevelValue::Other))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok((true, LevelValue::Other))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok((true, LevelValue::Other))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok((true, LevelValue::Other))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok((true, LevelValue::Other))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok((true, LevelValue::Other))
            }
        }
        d.deserialize_any(V)
    }
}

/// What one line's top-level object holds, as far as the schema cares.
#[derive(Default)]
struct Facts {
    /// Bit i: `required[i]` present (bits 64 and on in `more_required`,
    /// allocated only for a schema with more than 64 required fields).
    required: u64,
    more_required: Vec<u64>,
    timestamp: bool,
    level: Option<Option<String>>,
    stack: bool,
}

impl Facts {
    fn set_required(&mut self, i: usize) {
        if i < 64 {
            self.required |= 1 << i;
        } else {
            let (word, bit) = (i / 64 - 1, i % 64);
            if self.more_required.len() <= word {
                self.more_required.resize(word + 1, 0);
            }
            self.more_required[word] |= 1 << bit;
        }
    }

    fn has_required(&self, i: usize) -> bool {
        if i < 64 {
            self.required & (1 << i) != 0
        } else {
            self.more_required
                .get(i / 64 - 1)
                .is_some_and(|w| w & (1 << (i % 64)) != 0)
        }
    }
}

/// One field's value as every role needs it: present (not `null`, not
/// `""`), and its text when it is a string (for the level).
struct FieldValue<'a> {
    present: bool,
    text: Option<Cow<'a, str>>,
}

impl<'de> Deserialize<'de> for FieldValue<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (present, text) = match LevelValue::deserialize_with_presence(d)? {
            (p, LevelValue::Text(t)) => (p, Some(t)),
            (p, LevelValue::Other) => (p, None),
        };
        Ok(FieldValue { present, text })
    }
}

enum LineShape {
    Object(Facts),
    NotObject,
}

struct LineSeed<'s>(&'s LogSchema);

impl<'de> DeserializeSeed<'de> for LineSeed<'_> {
    type Value = LineShape;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<LineShape, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LineSeed<'_> {
    type Value = LineShape;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LineShape, A::Error> {
        let schema = self.0;
        let mut facts = Facts::default();
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let key: &str = &key;
            // A field may play several roles (`--require ts` with `ts` the
            // timestamp, `--require level`): each one sees the value.
            let level = key == schema.level_field;
            let required = schema.required.iter().any(|r| r == key);
            let timestamp = schema.timestamp_fields.iter().any(|t| t == key);
            let stack = schema.stack_fields.iter().any(|t| t == key);
            if !(level || required || timestamp || stack) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = map.next_value::<FieldValue>()?;
            if level {
                facts.level = Some(value.text.map(Cow::into_owned));
            }
            if required && value.present {
                for (i, r) in schema.required.iter().enumerate() {
                    if r == key {
                        facts.set_required(i);
                    }
                }
            }
            facts.timestamp |= timestamp && value.present;
            facts.stack |= stack && value.present;
        }
        Ok(LineShape::Object(facts))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LineShape, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(LineShape::NotObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<LineShape, E> {
        Ok(LineShape::NotObject)
    }
    fn visit_bool<E>(self, _: bool) -> Result<LineShape, E> {
        Ok(LineShape::NotObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<LineShape, E> {
        Ok(LineShape::NotObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<LineShape, E> {
        Ok(LineShape::NotObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<LineShape, E> {
        Ok(LineShape::NotObject)
    }
    fn visit_unit<E>(self) -> Result<LineShape, E> {
        Ok(LineShape::NotObject)
    }
}

/// Checks one line (without its newline). Blank lines are not checked by
/// the stream reader; here they are invalid JSON.
pub fn check_line(line: &[u8], schema: &LogSchema) -> Vec<Finding> {
    let mut findings = Vec::new();
    if line.len() > schema.max_line_bytes {
        findings.push(Finding {
            violation: Violation::LineTooLong,
            message: format!(
                "line is {} bytes, longer than max-line-bytes ({}); not checked",
                line.len(),
                schema.max_line_bytes
            ),
        });
        return findings;
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let shape = LineSeed(schema)
        .deserialize(&mut de)
        .and_then(|s| de.end().map(|_| s));
    let facts = match shape {
        Err(e) => {
            // serde_json says "line 1 column N"; the line is the log's.
            let text = e.to_string();
            let what = text.split(" at line ").next().unwrap_or(&text);
            findings.push(Finding {
                violation: Violation::InvalidJson,
                message: format!("not valid JSON at byte {}: {what}", e.column()),
            });
            return findings;
        }
        Ok(LineShape::NotObject) => {
            findings.push(Finding {
                violation: Violation::NotObject,
                message: "valid JSON but not an object".into(),
            });
            return findings;
        }
        Ok(LineShape::Object(facts)) => facts,
    };
    for (i, field) in schema.required.iter().enumerate() {
        if !facts.has_required(i) {
            findings.push(Finding {
                violation: Violation::MissingField(field.clone()),
                message: format!("no `{field}`"),
            });
        }
    }
    if !facts.timestamp && !schema.timestamp_fields.is_empty() {
        findings.push(Finding {
            violation: Violation::MissingTimestamp,
            message: format!("no timestamp (`{}`)", schema.timestamp_fields.join("`, `")),
        });
    }
    match &facts.level {
        None => findings.push(Finding {
            violation: Violation::MissingLevel,
            message: format!("no `{}`", schema.level_field),
        }),
        Some(None) => findings.push(Finding {
            violation: Violation::UnknownLevel,
            message: format!("`{}` is not a string", schema.level_field),
        }),
        Some(Some(level)) => match schema.levels.classify(level) {
            None => findings.push(Finding {
                violation: Violation::UnknownLevel,
                message: format!(
                    "`{}` is {:?}, not one of {}",
                    schema.level_field,
                    // A level field is no place for a URL, but if one
                    // holds a password it is not repeated.
                    redline_diagnostics::secrets::redact(level)
                        .chars()
                        .take(40)
                        .collect::<String>(),
                    schema.levels.describe()
                ),
            }),
            Some(true) if !facts.stack && !schema.stack_fields.is_empty() => {
                findings.push(Finding {
                    violation: Violation::ErrorWithoutStack,
                    message: format!(
                        "{level} entry without a stack trace (`{}`)",
                        schema.stack_fields.join("`, `")
                    ),
                })
            }
            Some(_) => {}
        },
    }
    findings
}

/// Totals for one run over one or more inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSummary {
    pub lines: u64,
    pub blank_lines: u64,
    pub bad_lines: u64,
    pub bytes: u64,
    /// Per violation label: count and the first offending (input, line).
    pub by_kind: BTreeMap<String, (u64, Vec<(String, u64)>)>,
}

/// How many first offending lines the summary keeps per kind.
pub const FIRST_LINES: usize = 5;

impl LogSummary {
    pub fn violations(&self) -> u64 {
        self.by_kind.values().map(|(n, _)| n).sum()
    }

    fn record(&mut self, input: &str, line: u64, f: &Finding) {
        let entry = self
            .by_kind
            .entry(f.violation.label())
            .or_insert_with(|| (0, Vec::new()));
        entry.0 += 1;
        if entry.1.len() < FIRST_LINES {
            entry.1.push((input.to_string(), line));
        }
    }

    /// The human summary (several lines, ends with a newline).
    pub fn render(&self) -> String {
        let mut out = format!(
            "redline logs: {} lines ({} blank), {} with violations, {} violations\n",
            self.lines,
            self.blank_lines,
            self.bad_lines,
            self.violations()
        );
        let width = self.by_kind.keys().map(|k| k.len()).max().unwrap_or(0);
        for (kind, (count, first)) in &self.by_kind {
            let inputs: std::collections::BTreeSet<&str> =
                first.iter().map(|(i, _)| i.as_str()).collect();
            let places: Vec<String> = first
                .iter()
                .map(|(input, line)| {
                    if inputs.len() > 1 {
                        format!("{input}:{line}")
                    } else {
                        line.to_string()
                    }
                })
                .collect();
            let where_ = if inputs.len() == 1 {
                format!("{}: ", inputs.iter().next().copied().unwrap_or(""))
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {kind:<width$}  {count:>10}  first at {where_}line {}\n",
                places.join(", ")
            ));
        }
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        let kinds: serde_json::Map<String, serde_json::Value> = self
            .by_kind
            .iter()
            .map(|(k, (n, first))| {
                (
                    k.clone(),
                    serde_json::json!({
                        "count": n,
                        "first": first.iter().map(|(i, l)| serde_json::json!({"input": i, "line": l})).collect::<Vec<_>>(),
                    }),
                )
            })
            .collect();
        serde_json::json!({
            "lines": self.lines,
            "blank_lines": self.blank_lines,
            "bad_lines": self.bad_lines,
            "bytes": self.bytes,
            "violations": self.violations(),
            "by_kind": kinds,
        })
    }
}

/// Why [`validate_stream`] stopped early.
#[derive(Debug)]
pub enum StreamError {
    /// Reading the input failed.
    Read(io::Error),
    /// Writing to the `tee` target failed (the next stage of the pipe
    /// exited, the disk is full…).
    Tee(io::Error),
    /// `on_finding` asked to stop (its own output failed).
    Stopped,
}

/// Streams `reader` line by line, checking each line against `schema`.
/// Every byte is copied to `tee` unchanged when given. `on_finding` sees
/// each finding with the input's name and the 1-based line number, and
/// returns `false` to stop.
pub fn validate_stream<R: BufRead>(
    mut reader: R,
    input: &str,
    lines_before: u64,
    schema: &LogSchema,
    mut tee: Option<&mut dyn Write>,
    summary: &mut LogSummary,
    on_finding: &mut dyn FnMut(&str, u64, &Finding) -> bool,
) -> Result<(), StreamError> {
    let mut pending: Vec<u8> = Vec::new();
    // Bytes of the current line beyond what is kept in `pending`.
    let mut overflow: usize = 0;
    // Lines of `input` already validated by an earlier call (the stream
    // goes on after its tee target failed): numbering continues.
    let mut line_no: u64 = lines_before;
    let cap = schema.max_line_bytes;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StreamError::Read(e)),
        };
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        if let Some(t) = tee.as_deref_mut() {
            // Pass each read on at once: behind a live service a read is a
            // few lines, and the next stage must not wait for a full buffer.
            // Before the lines are validated: a report never comes out ahead
            // of the line it is about when both share a stream (`exec
            // --logs=stderr`).
            t.write_all(buf)
                .and_then(|()| t.flush())
                .map_err(StreamError::Tee)?;
        }
        let mut start = 0;
        while let Some(pos) = memchr::memchr(b'\n', &buf[start..]) {
            let end = start + pos;
            line_no += 1;
            let go_on = if pending.is_empty() && overflow == 0 {
                finish_line(
                    &buf[start..end],
                    0,
                    input,
                    line_no,
                    schema,
                    summary,
                    on_finding,
                )
            } else {
                take_part(&mut pending, &mut overflow, &buf[start..end], cap);
                let go_on = finish_line(
                    &pending, overflow, input, line_no, schema, summary, on_finding,
                );
                pending.clear();
                overflow = 0;
                go_on
            };
            if !go_on {
                return Err(StreamError::Stopped);
            }
            start = end + 1;
        }
        take_part(&mut pending, &mut overflow, &buf[start..], cap);
        summary.bytes += len as u64;
        reader.consume(len);
    }
    if !pending.is_empty() || overflow > 0 {
        line_no += 1;
        if !finish_line(
            &pending, overflow, input, line_no, schema, summary, on_finding,
        ) {
            return Err(StreamError::Stopped);
        }
    }
    if let Some(t) = tee {
        t.flush().map_err(StreamError::Tee)?;
    }
    Ok(())
}

fn take_part(pending: &mut Vec<u8>, overflow: &mut usize, part: &[u8], cap: usize) {
    // Keep one byte past the cap so an over-long line is recognised.
    let room = cap.saturating_add(1).saturating_sub(pending.len());
    let keep = part.len().min(room);
    pending.extend_from_slice(&part[..keep]);
    *overflow = overflow.saturating_add(part.len() - keep);
}

fn finish_line(
    line: &[u8],
    overflow: usize,
    input: &str,
    line_no: u64,
    schema: &LogSchema,
    summary: &mut LogSummary,
    on_finding: &mut dyn FnMut(&str, u64, &Finding) -> bool,
) -> bool {
    summary.lines += 1;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let findings = if overflow > 0 || line.len() > schema.max_line_bytes {
        vec![Finding {
            violation: Violation::LineTooLong,
            message: format!(
                "line is {} bytes, longer than max-line-bytes ({}); not checked",
                line.len().saturating_add(overflow),
                schema.max_line_bytes
            ),
        }]
    } else if line.iter().all(u8::is_ascii_whitespace) {
        summary.blank_lines += 1;
        return true;
    } else {
        check_line(line, schema)
    };
    if !findings.is_empty() {
        summary.bad_lines += 1;
    }
    let mut go_on = true;
    for f in &findings {
        summary.record(input, line_no, f);
        go_on &= on_finding(input, line_no, f);
    }
    go_on
}

/// How many violations `redline logs` prints one by one: the first
/// `burst`, then one per `interval` (a long-running stream keeps showing
/// its violations; a flood does not drown the terminal). The ones left
/// out are counted and announced with the next one shown.
#[derive(Debug, Clone)]
pub struct RateLimit {
    burst: u64,
    interval: std::time::Duration,
    tokens: u64,
    last_refill: Option<std::time::Instant>,
    /// Left out since the last one shown.
    pub suppressed: u64,
    /// Left out in all.
    pub suppressed_total: u64,
}

impl RateLimit {
    pub fn new(burst: u64, interval: std::time::Duration) -> RateLimit {
        RateLimit {
            burst,
            interval,
            tokens: burst,
            last_refill: None,
            suppressed: 0,
            suppressed_total: 0,
        }
    }

    /// Whether a violation seen at `now` is shown. A `burst` of 0 shows
    /// none.
    pub fn allow(&mut self, now: std::time::Instant) -> bool {
        if self.burst == 0 {
            self.suppressed += 1;
            self.suppressed_total += 1;
            return false;
        }
        let last = *self.last_refill.get_or_insert(now);
        if self.tokens == 0 && !self.interval.is_zero() {
            let earned = now.saturating_duration_since(last).as_nanos() / self.interval.as_nanos();
            if earned > 0 {
                self.tokens = u64::try_from(earned).unwrap_or(u64::MAX).min(self.burst);
                self.last_refill = Some(now);
            }
        }
        if self.tokens > 0 {
            self.tokens -= 1;
            if self.tokens == 0 {
                // The interval counts from the last token spent.
                self.last_refill = Some(now);
            }
            true
        } else {
            self.suppressed += 1;
            self.suppressed_total += 1;
            false
        }
    }

    /// Takes the count of violations left out since the last one shown.
    pub fn take_suppressed(&mut self) -> u64 {
        std::mem::take(&mut self.suppressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn labels(line: &str, schema: &LogSchema) -> Vec<String> {
        check_line(line.as_bytes(), schema)
            .iter()
            .map(|f| f.violation.label())
            .collect()
    }

    #[test]
    fn a_field_may_be_required_and_play_its_role() {
        let mut s = LogSchema::preset(Preset::Zap);
        let line =
            r#"{"level":"error","ts":1,"request_id":"r","service_name":"s","stacktrace":"x"}"#;
        for field in ["ts", "level", "stacktrace"] {
            s.required = vec![field.to_string()];
            assert!(
                labels(line, &s).is_empty(),
                "--require {field}: {:?}",
                labels(line, &s)
            );
        }
        // A field named twice is satisfied by one.
        s.required = vec!["request_id".into(), "request_id".into()];
        assert!(labels(line, &s).is_empty());
        s.required = vec!["ts".into()];
        assert_eq!(
            labels(r#"{"level":"info","ts":null}"#, &s),
            ["missing-ts", "missing-timestamp"]
        );
    }

    #[test]
    fn more_than_64_required_fields() {
        let mut s = LogSchema::preset(Preset::Default);
        s.required = (0..150).map(|i| format!("f{i}")).collect();
        let mut line = String::from(r#"{"level":"info","ts":1"#);
        for i in 0..150 {
            if i != 100 {
                line.push_str(&format!(r#","f{i}":1"#));
            }
        }
        line.push('}');
        assert_eq!(labels(&line, &s), ["missing-f100"]);
    }

    #[test]
    fn rate_limit_shows_a_burst_then_one_per_interval() {
        use std::time::{Duration, Instant};
        let t0 = Instant::now();
        let mut r = RateLimit::new(3, Duration::from_secs(1));
        let shown: Vec<bool> = (0..5).map(|_| r.allow(t0)).collect();
        assert_eq!(shown, [true, true, true, false, false]);
        assert_eq!(r.take_suppressed(), 2);
        assert!(!r.allow(t0 + Duration::from_millis(500)));
        // A second later one more is shown, and the count of those left
        // out since is there to announce.
        assert!(r.allow(t0 + Duration::from_millis(1001)));
        assert_eq!(r.take_suppressed(), 1);
        assert!(!r.allow(t0 + Duration::from_millis(1100)));
        // A long quiet spell refills the burst, no more.
        let later = t0 + Duration::from_secs(3600);
        assert_eq!((0..4).map(|_| r.allow(later)).filter(|s| *s).count(), 3);
        assert_eq!(r.suppressed_total, 5);
        let mut none = RateLimit::new(0, Duration::from_secs(1));
        assert!(!none.allow(later));
    }

    #[test]
    fn good_lines_per_preset() {
        let d = LogSchema::preset(Preset::Default);
        assert!(
            labels(
                r#"{"level":"info","ts":1.5,"request_id":"r1","service_name":"orders","msg":"ok"}"#,
                &d
            )
            .is_empty()
        );
        assert!(
            labels(
                r#"{"level":"ERROR","time":"2026-01-01T00:00:00Z","request_id":"r","service_name":"s","stack":"main.go:1"}"#,
                &d
            )
            .is_empty()
        );
        let zap = LogSchema::preset(Preset::Zap);
        assert!(
            labels(
                r#"{"level":"error","ts":1,"request_id":"r","service_name":"s","stacktrace":"x","nested":{"a":[1,2,{"b":null}]}}"#,
                &zap
            )
            .is_empty()
        );
        let slog = LogSchema::preset(Preset::Slog);
        assert!(
            labels(
                r#"{"time":"t","level":"INFO+2","msg":"m","request_id":"r","service_name":"s"}"#,
                &slog
            )
            .is_empty()
        );
        let zl = LogSchema::preset(Preset::Zerolog);
        assert!(
            labels(
                r#"{"level":"trace","time":"t","request_id":"r","service_name":"s"}"#,
                &zl
            )
            .is_empty()
        );
    }

    #[test]
    fn each_violation() {
        let d = LogSchema::preset(Preset::Default);
        assert_eq!(labels("plain text", &d), ["invalid-json"]);
        assert_eq!(labels(r#"{"a":1} trailing"#, &d), ["invalid-json"]);
        assert_eq!(labels("[1,2]", &d), ["not-an-object"]);
        assert_eq!(labels("\"s\"", &d), ["not-an-object"]);
        assert_eq!(
            labels(r#"{"level":"info","ts":1,"service_name":"s"}"#, &d),
            ["missing-request_id"]
        );
        assert_eq!(
            labels(
                r#"{"level":"info","ts":1,"request_id":"","service_name":null}"#,
                &d
            ),
            ["missing-request_id", "missing-service_name"]
        );
        assert_eq!(
            labels(
                r#"{"level":"info","request_id":"r","service_name":"s"}"#,
                &d
            ),
            ["missing-timestamp"]
        );
        assert_eq!(
            labels(r#"{"ts":1,"request_id":"r","service_name":"s"}"#, &d),
            ["missing-level"]
        );
        assert_eq!(
            labels(
                r#"{"level":"loud","ts":1,"request_id":"r","service_name":"s"}"#,
                &d
            ),
            ["unknown-level"]
        );
        assert_eq!(
            labels(
                r#"{"level":30,"ts":1,"request_id":"r","service_name":"s"}"#,
                &d
            ),
            ["unknown-level"]
        );
        assert_eq!(
            labels(
                r#"{"level":"fatal","ts":1,"request_id":"r","service_name":"s","stack":""}"#,
                &d
            ),
            ["error-without-stack"]
        );
        // Escaped keys are still recognised.
        assert!(
            labels(
                r#"{"lev\u0065l":"info","ts":1,"request_id":"r","service_name":"s"}"#,
                &d
            )
            .is_empty()
        );
    }

    #[test]
    fn presets_are_strict_about_their_names() {
        let zap = LogSchema::preset(Preset::Zap);
        assert_eq!(
            labels(
                r#"{"level":"INFO","time":"t","request_id":"r","service_name":"s"}"#,
                &zap
            ),
            ["missing-timestamp", "unknown-level"]
        );
        let slog = LogSchema::preset(Preset::Slog);
        assert_eq!(
            labels(
                r#"{"level":"WARN+4","time":"t","request_id":"r","service_name":"s"}"#,
                &slog
            ),
            ["error-without-stack"]
        );
        assert_eq!(
            labels(
                r#"{"level":"ERROR-1","time":"t","request_id":"r","service_name":"s"}"#,
                &slog
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            labels(
                r#"{"level":"ERROR+","time":"t","request_id":"r","service_name":"s"}"#,
                &slog
            ),
            ["unknown-level"]
        );
    }

    #[test]
    fn config_fields() {
        let config = |text: &str| {
            Document::parse(Path::new("redline.toml"), "redline.toml", text.to_string())
                .and_then(|doc| LogsConfig::from_config(Some(&doc)))
        };
        let cfg = config(
            "[logs]\npreset = \"zap\"\nrequired-fields = [\"trace_id\"]\nlevels = [\"I\", \"E\"]\nerror-levels = [\"E\"]\n",
        )
        .unwrap();
        let s = cfg.schema(None).unwrap();
        assert_eq!(s.timestamp_fields, ["ts"]);
        assert!(labels(r#"{"level":"I","ts":1,"trace_id":"t"}"#, &s).is_empty());
        assert_eq!(
            labels(r#"{"level":"E","ts":1,"trace_id":"t"}"#, &s),
            ["error-without-stack"]
        );
        let err = config("[logs]\nlevel-feild = \"x\"\n").unwrap_err();
        assert!(err.starts_with("redline.toml:2:"), "{err}");
        let err = config("[logs]\n\npreset = \"zapp\"\n").unwrap_err();
        assert!(
            err.starts_with("redline.toml:3:10: unknown variant `zapp`"),
            "{err}"
        );
        let bad = LogsConfig {
            table: LogsTable {
                error_levels: Some(vec!["E".into()]),
                ..LogsTable::default()
            },
            ..LogsConfig::default()
        };
        assert!(bad.schema(None).is_err());
    }

    fn run(
        input: &[u8],
        schema: &LogSchema,
        buf_cap: usize,
    ) -> (LogSummary, Vec<(u64, String)>, Vec<u8>) {
        let mut summary = LogSummary::default();
        let mut seen = Vec::new();
        let mut out = Vec::new();
        let reader = io::BufReader::with_capacity(buf_cap, input);
        validate_stream(
            reader,
            "app.log",
            0,
            schema,
            Some(&mut out),
            &mut summary,
            &mut |_, n, f| {
                seen.push((n, f.violation.label()));
                true
            },
        )
        .unwrap();
        (summary, seen, out)
    }

    #[test]
    fn stream_counts_lines_and_tees_bytes_unchanged() {
        let good = r#"{"level":"info","ts":1,"request_id":"r","service_name":"s"}"#;
        let input = format!("{good}\r\n\nnot json\n{good}\n{{\"level\":\"info\"");
        let schema = LogSchema::preset(Preset::Default);
        for cap in [1, 3, 16, 8192] {
            let (summary, seen, out) = run(input.as_bytes(), &schema, cap);
            assert_eq!(out, input.as_bytes(), "cap {cap}");
            assert_eq!(summary.lines, 5);
            assert_eq!(summary.blank_lines, 1);
            assert_eq!(summary.bad_lines, 2);
            assert_eq!(seen[0], (3, "invalid-json".to_string()));
            assert!(seen[1..].iter().all(|(n, _)| *n == 5), "{seen:?}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let schema = LogSchema::preset(Preset::Slog);
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet = b"{}[]\":,\\ \n\r0123456789.eE+-truefalsnul\xff\xc3\xa9levlERROR";
        for round in 0..300 {
            let len = (round * 7) % 200;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let (summary, _, out) = run(&bytes, &schema, 1 + round % 13);
            assert_eq!(out, bytes);
            assert!(summary.lines >= summary.bad_lines);
        }
    }

    #[test]
    fn the_largest_line_cap_does_not_overflow() {
        let mut schema = LogSchema::preset(Preset::Default);
        schema.max_line_bytes = usize::MAX;
        // A line across several reads takes the `pending` path.
        let line = format!(
            "{{\"level\":\"info\",\"ts\":1,\"request_id\":\"r\",\"service_name\":\"{}\"}}\n",
            "s".repeat(100)
        );
        let (summary, seen, _) = run(line.as_bytes(), &schema, 16);
        assert_eq!((summary.lines, seen.len()), (1, 0), "{seen:?}");
    }

    #[test]
    fn long_lines_are_capped_not_kept() {
        let mut schema = LogSchema::preset(Preset::Default);
        schema.max_line_bytes = 100;
        let long = format!("{{\"msg\":\"{}\"}}\n", "x".repeat(10_000));
        let input = format!("{long}{long}");
        for cap in [7, 64, 1 << 16] {
            let (summary, seen, out) = run(input.as_bytes(), &schema, cap);
            assert_eq!(out.len(), input.len());
            assert_eq!(
                seen,
                [
                    (1, "line-too-long".to_string()),
                    (2, "line-too-long".to_string())
                ]
            );
            assert_eq!(summary.by_kind["line-too-long"].0, 2);
        }
        let rendered = run(input.as_bytes(), &schema, 64).0.render();
        assert!(rendered.contains("line-too-long"), "{rendered}");
        assert!(
            rendered.contains("first at app.log: line 1, 2"),
            "{rendered}"
        );
    }
}
