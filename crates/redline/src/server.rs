//! `redline server`: a Language Server on standard input and output.
//!
//! It checks what the editor holds, not what is on disk: every open Go
//! file, `go.mod` and manifest is checked from its buffer on open and on
//! each change (the other Go files of its package come from disk, as with
//! `--stdin-filename`; their parse trees are kept while their content does
//! not change), and the findings are published as diagnostics. A
//! finding's safe fix is a code action, and so is a
//! `//redline:ignore RULE -- reason` suppression; hovering a finding shows
//! the rule's documentation (`redline explain`). The configuration is
//! found per file as `redline check` finds it, read again for every check,
//! and every open document is checked again when a `redline.toml` changes
//! (saved in the editor, or its modification time moved).

use crate::check;
use crate::config;
use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{CodeActionRequest, HoverRequest, Request as _};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, Diagnostic as LspDiagnostic, DiagnosticSeverity,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, Hover, HoverContents, HoverParams, HoverProviderCapability,
    MarkupContent, MarkupKind, MessageType, NumberOrString, Position, PublishDiagnosticsParams,
    Range, SaveOptions, ServerCapabilities, ShowMessageParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit, Uri,
    WorkspaceEdit,
};
use redline_diagnostics::{Applicability, Diagnostic, Severity};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::SystemTime;

/// How the server finds its configuration.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// `--config FILE`: one file for every document.
    pub config: Option<PathBuf>,
    /// `--isolated`: no configuration file at all.
    pub isolated: bool,
}

/// An open document.
struct Document {
    path: PathBuf,
    text: String,
    version: Option<i32>,
    /// The findings of the last check, for code actions and hover.
    findings: Vec<Diagnostic>,
    /// The configuration file of the last check and its modification time.
    config: Option<(PathBuf, Option<SystemTime>)>,
}

/// Whether `redline check` reads this kind of file.
fn is_checked(path: &Path) -> bool {
    path.file_name().is_some_and(|f| f == "go.mod")
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("go"))
        || redline_check::check::is_manifest_path(path)
}

struct Server<'a> {
    connection: &'a Connection,
    options: ServerOptions,
    documents: BTreeMap<String, Document>,
    /// The package's files as last parsed: a sibling that did not change
    /// on disk is not parsed again on every keystroke.
    parsed: check::ParseCache,
}

/// Runs the server until the client says `exit`.
pub fn run(options: ServerOptions) -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..Default::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..Default::default()
    };
    let capabilities =
        serde_json::to_value(capabilities).map_err(|e| format!("server capabilities: {e}"))?;
    connection
        .initialize(capabilities)
        .map_err(|e| format!("language server: initialization failed: {e}"))?;
    let mut server = Server {
        connection: &connection,
        options,
        documents: BTreeMap::new(),
        parsed: check::ParseCache::default(),
    };
    server.main_loop()?;
    drop(connection);
    io_threads
        .join()
        .map_err(|e| format!("language server: I/O error: {e}"))
}

/// The file path of a `file://` URI (percent-decoded).
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///path` or `file://localhost/path`.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
    }
    #[cfg(not(unix))]
    {
        Some(PathBuf::from(String::from_utf8_lossy(&out).into_owned()))
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The LSP position (0-based line, UTF-16 code units) of a byte offset.
pub fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    Position::new(line as u32, character as u32)
}

/// The byte offset of an LSP position (clamped to its line).
pub fn offset(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0u32;
    for (i, c) in text[line_start..line_end].char_indices() {
        if units >= pos.character {
            return line_start + i;
        }
        units += c.len_utf16() as u32;
    }
    line_end
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn range(text: &str, start: usize, end: usize) -> Range {
    Range::new(position(text, start), position(text, end.max(start)))
}

fn overlaps(a: &Range, b: &Range) -> bool {
    let before = |x: &Position, y: &Position| (x.line, x.character) < (y.line, y.character);
    !(before(&a.end, &b.start) || before(&b.end, &a.start))
}

/// The comment that silences `rule` on the line of `line_start`, with
/// that line's indentation, for a Go file or a manifest.
fn suppression_line(path: &Path, text: &str, line_start: usize, rule: &str) -> String {
    let indent: String = text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let is_go = path.extension().is_some_and(|e| e == "go");
    let marker = if is_go {
        "//redline:ignore"
    } else {
        "# redline:ignore"
    };
    format!("{indent}{marker} {rule} -- reason: say why this is safe here\n")
}

impl Server<'_> {
    fn main_loop(&mut self) -> Result<(), String> {
        let receiver = self.connection.receiver.clone();
        for message in &receiver {
            match message {
                Message::Request(req) => {
                    let shutdown = self
                        .connection
                        .handle_shutdown(&req)
                        .map_err(|e| format!("language server: {e}"))?;
                    if shutdown {
                        return Ok(());
                    }
                    self.request(req);
                }
                Message::Notification(n) => self.notification(n),
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn send(&self, message: Message) {
        // The client went away: the loop ends when the receiver closes.
        let _ = self.connection.sender.send(message);
    }

    fn show_error(&self, text: String) {
        self.send(Message::Notification(Notification::new(
            ShowMessage::METHOD.to_string(),
            ShowMessageParams {
                typ: MessageType::ERROR,
                message: format!("redline: {text}"),
            },
        )));
    }

    fn request(&mut self, req: Request) {
        let id = req.id.clone();
        let result = match req.method.as_str() {
            CodeActionRequest::METHOD => req
                .extract::<CodeActionParams>(CodeActionRequest::METHOD)
                .map(|(_, p)| serde_json::to_value(self.code_actions(&p)).unwrap_or_default()),
            HoverRequest::METHOD => req
                .extract::<HoverParams>(HoverRequest::METHOD)
                .map(|(_, p)| serde_json::to_value(self.hover(&p)).unwrap_or_default()),
            _ => {
                self.respond_error(id, lsp_server::ErrorCode::MethodNotFound, "unknown method");
                return;
            }
        };
        match result {
            Ok(value) => self.send(Message::Response(Response::new_ok(id, value))),
            Err(e) => self.respond_error(
                id,
                lsp_server::ErrorCode::InvalidParams,
                &format!("invalid parameters: {e:?}"),
            ),
        }
    }

    fn respond_error(&self, id: RequestId, code: lsp_server::ErrorCode, message: &str) {
        self.send(Message::Response(Response::new_err(
            id,
            code as i32,
            message.to_string(),
        )));
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = n.extract::<DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD) {
                    let uri = p.text_document.uri.as_str().to_string();
                    let Some(path) = uri_to_path(&uri) else {
                        return;
                    };
                    self.documents.insert(
                        uri.clone(),
                        Document {
                            path,
                            text: p.text_document.text,
                            version: Some(p.text_document.version),
                            findings: Vec::new(),
                            config: None,
                        },
                    );
                    self.recheck_if_config_moved();
                    self.check_and_publish(&uri);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<DidChangeTextDocumentParams>(DidChangeTextDocument::METHOD)
                {
                    let uri = p.text_document.uri.as_str().to_string();
                    if let Some(doc) = self.documents.get_mut(&uri) {
                        // Full sync: the last change holds the whole text.
                        if let Some(change) = p.content_changes.into_iter().last() {
                            doc.text = change.text;
                        }
                        doc.version = Some(p.text_document.version);
                    }
                    self.recheck_if_config_moved();
                    self.check_and_publish(&uri);
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) = n.extract::<DidSaveTextDocumentParams>(DidSaveTextDocument::METHOD) {
                    let uri = p.text_document.uri.as_str().to_string();
                    let saved_config = uri_to_path(&uri)
                        .is_some_and(|p| p.file_name().is_some_and(|f| f == config::FILE_NAME));
                    if saved_config {
                        self.recheck_all();
                    } else {
                        // Siblings on disk changed: the package is new.
                        self.recheck_if_config_moved();
                        self.check_and_publish(&uri);
                    }
                }
            }
            // A watched file changed (the client decides which): the
            // configuration may be new.
            DidChangeWatchedFiles::METHOD => self.recheck_all(),
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = n.extract::<DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
                {
                    let uri = p.text_document.uri;
                    self.documents.remove(uri.as_str());
                    self.publish(uri.as_str(), Vec::new(), None);
                }
            }
            _ => {}
        }
    }

    /// The configuration file for `path`, if any.
    fn config_file(&self, path: &Path) -> Option<PathBuf> {
        if self.options.isolated {
            return None;
        }
        if let Some(p) = &self.options.config {
            return Some(p.clone());
        }
        config::discover(path.parent().unwrap_or(Path::new("/")))
    }

    /// The configuration file for `path` and its modification time.
    fn config_state(&self, path: &Path) -> Option<(PathBuf, Option<SystemTime>)> {
        let file = self.config_file(path)?;
        let mtime = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
        Some((file, mtime))
    }

    /// Checks every open document again when the configuration that one
    /// of them would read now differs from what its last check read (a
    /// `redline.toml` created, deleted or modified outside the editor).
    fn recheck_if_config_moved(&mut self) {
        let moved = self
            .documents
            .values()
            .filter(|d| is_checked(&d.path))
            .any(|d| self.config_state(&d.path) != d.config);
        if moved {
            self.recheck_all();
        }
    }

    fn recheck_all(&mut self) {
        let uris: Vec<String> = self.documents.keys().cloned().collect();
        for uri in uris {
            self.check_and_publish(&uri);
        }
    }

    fn check_and_publish(&mut self, uri: &str) {
        let Some(doc) = self.documents.get(uri) else {
            return;
        };
        if !is_checked(&doc.path) {
            return;
        }
        let config_state = self.config_state(&doc.path);
        if let Some(doc) = self.documents.get_mut(uri) {
            doc.config = config_state.clone();
        }
        let Some(doc) = self.documents.get(uri) else {
            return;
        };
        let cwd = doc
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        // Read afresh for every check: an edited redline.toml applies at once.
        let configs = if self.options.isolated || self.options.config.is_some() {
            let config = match &self.options.config {
                Some(file) if !self.options.isolated => match config::load(file) {
                    Ok(c) => c,
                    Err(e) => {
                        self.show_error(e);
                        return;
                    }
                },
                _ => config::Config::default(),
            };
            config::Configs::fixed(config, config::Overrides::default(), &cwd)
        } else {
            config::Configs::discover(config::Overrides::default(), &cwd)
        };
        let outcome = check::run_stdin_with(
            &doc.path,
            doc.text.clone().into_bytes(),
            &configs,
            &cwd,
            Some(&self.parsed),
        );
        let findings = match outcome {
            Ok(o) => {
                // The server's standard error is the editor's log.
                for note in &o.notes {
                    errln!("{note}");
                }
                o.diagnostics
            }
            Err(e) => {
                self.show_error(e);
                return;
            }
        };
        let lsp: Vec<LspDiagnostic> = findings.iter().map(|d| to_lsp(&doc.text, d)).collect();
        let version = doc.version;
        if let Some(doc) = self.documents.get_mut(uri) {
            doc.findings = findings;
        }
        self.publish(uri, lsp, version);
    }

    fn publish(&self, uri: &str, diagnostics: Vec<LspDiagnostic>, version: Option<i32>) {
        let Ok(uri) = Uri::from_str(uri) else {
            return;
        };
        self.send(Message::Notification(Notification::new(
            PublishDiagnostics::METHOD.to_string(),
            PublishDiagnosticsParams {
                uri,
                diagnostics,
                version,
            },
        )));
    }

    fn code_actions(&self, p: &CodeActionParams) -> Vec<CodeActionOrCommand> {
        let uri = p.text_document.uri.clone();
        let Some(doc) = self.documents.get(uri.as_str()) else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        for d in &doc.findings {
            let lsp = to_lsp(&doc.text, d);
            if !overlaps(&lsp.range, &p.range) {
                continue;
            }
            if let Some(fix) = &d.fix
                && fix.applicability == Applicability::Safe
                && crate::fix::keeps_parsing(&d.path, doc.text.as_bytes(), fix)
            {
                let edits = fix
                    .edits
                    .iter()
                    .map(|e| TextEdit {
                        range: range(&doc.text, e.span.start_byte, e.span.end_byte),
                        new_text: e.content.clone(),
                    })
                    .collect();
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: format!("Fix {} ({})", d.rule.id, d.rule.name),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![lsp.clone()]),
                    edit: Some(WorkspaceEdit {
                        changes: Some([(uri.clone(), edits)].into_iter().collect()),
                        ..Default::default()
                    }),
                    is_preferred: Some(true),
                    ..Default::default()
                }));
            }
            if d.rule.id == "RL000" {
                continue;
            }
            let line_start = doc.text[..d.span.start_byte.min(doc.text.len())]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let at = position(&doc.text, line_start);
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Suppress {} ({}) on this line", d.rule.id, d.rule.name),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![lsp]),
                edit: Some(WorkspaceEdit {
                    changes: Some(
                        [(
                            uri.clone(),
                            vec![TextEdit {
                                range: Range::new(at, at),
                                new_text: suppression_line(
                                    &doc.path, &doc.text, line_start, d.rule.id,
                                ),
                            }],
                        )]
                        .into_iter()
                        .collect(),
                    ),
                    ..Default::default()
                }),
                ..Default::default()
            }));
        }
        actions
    }

    fn hover(&self, p: &HoverParams) -> Option<Hover> {
        let tdp = &p.text_document_position_params;
        let doc = self.documents.get(tdp.text_document.uri.as_str())?;
        let at = offset(&doc.text, tdp.position);
        let d = doc
            .findings
            .iter()
            .find(|d| d.span.start_byte <= at && at <= d.span.end_byte.max(d.span.start_byte))?;
        let meta = d.rule;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: format!(
                    "**{} `{}`** ({})\n\n{}",
                    meta.id,
                    meta.name,
                    d.severity,
                    meta.documentation()
                ),
            }),
            range: Some(range(&doc.text, d.span.start_byte, d.span.end_byte)),
        })
    }
}

fn to_lsp(text: &str, d: &Diagnostic) -> LspDiagnostic {
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    LspDiagnostic {
        range: range(text, d.span.start_byte, d.span.end_byte),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.rule.to_string())),
        source: Some("redline".to_string()),
        message,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "a\nhé𝄞x\n";
        // 'x' is after h (1), é (1), 𝄞 (2 units).
        let x = text.find('x').unwrap();
        assert_eq!(position(text, x), Position::new(1, 4));
        assert_eq!(offset(text, Position::new(1, 4)), x);
        assert_eq!(offset(text, Position::new(1, 99)), text.len() - 1);
        assert_eq!(offset(text, Position::new(9, 0)), text.len());
        assert_eq!(position(text, 0), Position::new(0, 0));
    }

    #[test]
    fn file_uris_become_paths() {
        assert_eq!(
            uri_to_path("file:///tmp/a%20b/c.go"),
            Some(PathBuf::from("/tmp/a b/c.go"))
        );
        assert_eq!(
            uri_to_path("file://localhost/x.go"),
            Some(PathBuf::from("/x.go"))
        );
        assert_eq!(uri_to_path("untitled:1"), None);
    }

    #[test]
    fn suppressions_keep_indentation_and_comment_syntax() {
        let go = "package p\n\tx := new(M)\n";
        let start = go.find('\t').unwrap();
        assert_eq!(
            suppression_line(Path::new("a.go"), go, start, "RL101"),
            "\t//redline:ignore RL101 -- reason: say why this is safe here\n"
        );
        let yaml = "    - name: app\n";
        assert_eq!(
            suppression_line(Path::new("d.yaml"), yaml, 0, "RL701"),
            "    # redline:ignore RL701 -- reason: say why this is safe here\n"
        );
    }
}
