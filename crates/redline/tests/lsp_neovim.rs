//! `redline server` driven by a real LSP client: Neovim (Debian's
//! `neovim` package, installed by scripts/test.sh), headless, running a Lua
//! script that opens, edits and saves buffers, asks for code actions and
//! hover, and writes what it saw to a JSON file that this test reads.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::write;

const SCRIPT: &str = r#"
local bin, root, out = os.getenv('REDLINE_BIN'), os.getenv('ROOT'), os.getenv('OUT')
local results = {}
local function count(buf) return #vim.diagnostic.get(buf) end
local function wait_count(buf, n, ms)
  return vim.wait(ms or 15000, function() return count(buf) == n end, 20)
end
local function codes(buf)
  local t = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = (d.user_data or {}).lsp or {}
    table.insert(t, { line = d.lnum, col = d.col, code = lsp.code or d.code, message = d.message })
  end
  table.sort(t, function(a, b) return a.line < b.line end)
  return t
end
local function request(buf, method, params)
  local resp = vim.lsp.buf_request_sync(buf, method, params, 10000) or {}
  for _, r in pairs(resp) do
    if r.result then return r.result end
  end
  return nil
end
local function lines(buf) return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') end

local client = vim.lsp.start_client({ cmd = { bin, 'server' }, root_dir = root, name = 'redline' })
results.client = client ~= nil

-- Open: the finding of the file as it is.
vim.cmd('edit ' .. root .. '/p/a.go')
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client)
results.open_ok = wait_count(buf, 1)
results.open = codes(buf)

-- Hover on the finding: the rule's documentation.
local hover = request(buf, 'textDocument/hover', {
  textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 2, character = 10 } })
results.hover = hover and hover.contents and hover.contents.value or ''

-- Change, not saved: the buffer is checked, not the disk.
vim.api.nvim_buf_set_lines(buf, -1, -1, false, { '', 'var n = new(map[int]int)' })
results.change_ok = wait_count(buf, 2)
results.change = codes(buf)

-- The safe fix of the first finding, as a code action.
local actions = request(buf, 'textDocument/codeAction', {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = { start = { line = 2, character = 9 }, ['end'] = { line = 2, character = 10 } },
  context = { diagnostics = {} } }) or {}
results.actions = {}
local fix, suppress
for _, a in ipairs(actions) do
  table.insert(results.actions, a.title)
  if a.title:match('^Fix') then fix = a end
  if a.title:match('^Suppress') then suppress = a end
end
if fix then vim.lsp.util.apply_workspace_edit(fix.edit, 'utf-16') end
results.fixed_ok = wait_count(buf, 1)
results.after_fix = lines(buf)

-- The suppression of the remaining finding, as a code action.
actions = request(buf, 'textDocument/codeAction', {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = { start = { line = 4, character = 9 }, ['end'] = { line = 4, character = 10 } },
  context = { diagnostics = {} } }) or {}
for _, a in ipairs(actions) do
  if a.title:match('^Suppress') then suppress = a end
end
if suppress then vim.lsp.util.apply_workspace_edit(suppress.edit, 'utf-16') end
results.suppressed_ok = wait_count(buf, 0)
results.after_suppress = lines(buf)

-- Save, add a new finding, then ignore its rule in redline.toml: saving
-- the configuration re-checks the open buffer.
vim.cmd('write')
vim.api.nvim_buf_set_lines(buf, -1, -1, false, { '', 'var o = new(map[string]bool)' })
results.before_config_ok = wait_count(buf, 1)
vim.cmd('edit ' .. root .. '/redline.toml')
local toml = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(toml, client)
vim.api.nvim_buf_set_lines(toml, 0, -1, false, { 'ignore = ["new-map"]' })
vim.cmd('write')
results.config_ok = wait_count(buf, 0)

-- A file with a parse error: RL000 at the error.
vim.cmd('edit ' .. root .. '/p/broken.go')
local broken = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(broken, client)
results.broken_ok = wait_count(broken, 1)
results.broken = codes(broken)

-- A huge file: checked, and the server still answers.
vim.cmd('edit ' .. root .. '/q/huge.go')
local huge = vim.api.nvim_get_current_buf()
local started = vim.loop.hrtime()
vim.lsp.buf_attach_client(huge, client)
results.huge_ok = wait_count(huge, 1, 60000)
results.huge_ms = (vim.loop.hrtime() - started) / 1e6
results.huge = codes(huge)

local f = io.open(out, 'w')
f:write(vim.fn.json_encode(results))
f:close()
vim.cmd('qa!')
"#;

fn nvim() -> &'static str {
    "nvim"
}

#[test]
fn neovim_sees_findings_as_you_type() {
    let have = Command::new(nvim())
        .arg("--version")
        .stdout(Stdio::null())
        .status();
    assert!(
        have.is_ok_and(|s| s.success()),
        "this test drives Neovim as the LSP client: install Debian's `neovim` (scripts/test.sh does)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "go.mod", "module example.com/x\n\ngo 1.24\n");
    write(root, "p/a.go", "package p\n\nvar m = new(map[string]int)\n");
    write(root, "p/broken.go", "package p\n\nfunc broken( {\n");
    // About 2 MB of Go: 40,000 small functions and one finding at the end.
    let mut huge = String::from("package q\n\n");
    for i in 0..40_000 {
        huge.push_str(&format!("func f{i}(a, b int) int {{ return a + b*{i} }}\n"));
    }
    huge.push_str("var last = new(map[int]int)\n");
    write(root, "q/huge.go", &huge);
    // q/ has its own (empty) configuration: the root's, written by the
    // script, does not apply there.
    write(root, "q/redline.toml", "");
    let script = root.join("drive.lua");
    std::fs::write(&script, SCRIPT).expect("script");
    let out = root.join("results.json");
    let started = Instant::now();
    let mut child = Command::new(nvim())
        .args(["--headless", "--clean", "-n", "-i", "NONE", "-u", "NONE"])
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .env("REDLINE_BIN", env!("CARGO_BIN_EXE_redline"))
        .env("ROOT", root)
        .env("OUT", &out)
        .env("REDLINE_CACHE_DIR", root.join(".cache"))
        .env("HOME", root)
        .env("XDG_STATE_HOME", root.join(".state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nvim starts");
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            panic!("Neovim did not finish in 240 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| {
        let mut err = String::new();
        if let Some(mut s) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut s, &mut err);
        }
        panic!("Neovim wrote no results ({e}): {err}")
    });
    let r: Value = serde_json::from_str(&text).expect("results are JSON");
    check(&r, root);
}

fn check(r: &Value, root: &Path) {
    assert_eq!(r["client"], true, "{r}");
    assert_eq!(r["open_ok"], true, "open: {r}");
    assert_eq!(r["open"][0]["code"], "RL101", "{r}");
    assert_eq!(r["open"][0]["line"], 2, "{r}");
    let hover = r["hover"].as_str().unwrap_or("");
    assert!(
        hover.contains("RL101") && hover.contains("new-map"),
        "hover: {hover}"
    );
    assert!(
        hover.contains("## What it does"),
        "hover shows the docs: {hover}"
    );
    assert_eq!(r["change_ok"], true, "change: {r}");
    assert_eq!(r["change"][1]["line"], 4, "{r}");
    let actions: Vec<&str> = r["actions"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        actions.iter().any(|a| a.starts_with("Fix RL101")),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a.starts_with("Suppress RL101")),
        "{actions:?}"
    );
    assert_eq!(r["fixed_ok"], true, "fix: {r}");
    assert_eq!(
        r["after_fix"], "package p\n\nvar m = &map[string]int{}\n\nvar n = new(map[int]int)",
        "{r}"
    );
    assert_eq!(r["suppressed_ok"], true, "suppress: {r}");
    assert!(
        r["after_suppress"].as_str().unwrap_or("").contains(
            "//redline:ignore RL101 -- reason: say why this is safe here\nvar n = new(map[int]int)"
        ),
        "{r}"
    );
    // The buffer was saved with the suppression; the disk has it.
    let saved = std::fs::read_to_string(root.join("p/a.go")).expect("saved");
    assert!(saved.contains("//redline:ignore RL101"), "{saved}");
    assert_eq!(r["before_config_ok"], true, "{r}");
    assert_eq!(r["config_ok"], true, "config reload: {r}");
    assert_eq!(r["broken_ok"], true, "parse error: {r}");
    assert_eq!(r["broken"][0]["code"], "RL000", "{r}");
    assert_eq!(r["huge_ok"], true, "huge file: {r}");
    assert_eq!(r["huge"][0]["code"], "RL101", "{r}");
    eprintln!("2 MB file: diagnostics after {} ms", r["huge_ms"]);
}
