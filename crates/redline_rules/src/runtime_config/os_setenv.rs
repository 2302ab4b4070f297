use crate::{Context, DiagnosticExt, GoRule, RuleMeta, declare_rule};
use redline_diagnostics::Diagnostic;

declare_rule! {
    /// ## What it does
    /// Finds calls of `os.Setenv`, `os.Unsetenv`, `os.Clearenv`,
    /// `syscall.Setenv`, `syscall.Unsetenv` and `syscall.Clearenv` in
    /// non-test code.
    ///
    /// ## Why is this bad?
    /// The process environment is shared by every goroutine and by C code.
    /// Changing it while the service runs races with readers (`os.Getenv`
    /// in libraries, cgo's `getenv`), and hides configuration from the
    /// deployment that is supposed to own it.
    ///
    /// ## Example
    /// ```go
    /// os.Setenv("GOMAXPROCS", "4")
    /// ```
    ///
    /// ## Use instead
    /// Pass configuration explicitly (flags, a config struct), set the
    /// variable in the container spec, or use `t.Setenv` in tests.
    ///
    /// ## Fix
    /// None: where the value should come from is a design decision.
    pub struct OsSetenv {
        id: "RL301",
        name: "os-setenv",
        severity: Error,
        fix: None,
        target: Go,
        summary: "the process environment is changed at run time",
    }
}

const CALLEES: &[(&str, &str)] = &[
    ("os", "Setenv"),
    ("os", "Unsetenv"),
    ("os", "Clearenv"),
    ("syscall", "Setenv"),
    ("syscall", "Unsetenv"),
    ("syscall", "Clearenv"),
];

impl GoRule for OsSetenv {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        if cx.file.is_test || !(cx.file.imports_path("os") || cx.file.imports_path("syscall")) {
            return;
        }
        for &call in &cx.index.calls {
            if let Some((pkg, name)) = cx.index.callee(call, CALLEES) {
                out.push(
                    cx.node_diagnostic(
                        &Self::META,
                        call,
                        format!("`{pkg}.{name}` changes the process environment at run time, racing with its readers"),
                    )
                    .with_help("set the variable in the deployment, or pass the value explicitly; in tests use `t.Setenv`"),
                );
            }
        }
    }
}
