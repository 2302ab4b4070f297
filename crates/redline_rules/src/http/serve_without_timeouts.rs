use crate::{Context, DiagnosticExt, GoRule, RuleMeta, declare_rule};
use redline_diagnostics::Diagnostic;

declare_rule! {
    /// ## What it does
    /// Finds calls of the package-level `http.ListenAndServe`,
    /// `http.ListenAndServeTLS`, `http.Serve` and `http.ServeTLS` (net/http,
    /// under whatever name the file imports it).
    ///
    /// ## Why is this bad?
    /// They run a zero `http.Server`: no read, write or idle timeouts. Slow
    /// or stalled clients hold connections and goroutines forever, until the
    /// service runs out of file descriptors or memory.
    ///
    /// ## Example
    /// ```go
    /// log.Fatal(http.ListenAndServe(":8080", mux))
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// srv := &http.Server{
    ///     Addr:              ":8080",
    ///     Handler:           mux,
    ///     ReadHeaderTimeout: 5 * time.Second,
    ///     WriteTimeout:      30 * time.Second,
    ///     IdleTimeout:       120 * time.Second,
    /// }
    /// err := srv.ListenAndServe()
    /// ```
    ///
    /// ## Fix
    /// None: the right timeouts depend on the service.
    pub struct HttpServeWithoutTimeouts {
        id: "RL501",
        name: "http-serve-without-timeouts",
        severity: Error,
        fix: None,
        target: Go,
        summary: "package-level `http.ListenAndServe`/`Serve` run a server without timeouts",
    }
}

const HTTP: &str = "net/http";
const CALLEES: &[(&str, &str)] = &[
    (HTTP, "ListenAndServe"),
    (HTTP, "ListenAndServeTLS"),
    (HTTP, "Serve"),
    (HTTP, "ServeTLS"),
];

impl GoRule for HttpServeWithoutTimeouts {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        if !cx.file.imports_path(HTTP) {
            return;
        }
        for &call in &cx.index.calls {
            if let Some((_, name)) = cx.index.callee(call, CALLEES) {
                out.push(
                    cx.node_diagnostic(
                        &Self::META,
                        call,
                        format!("`http.{name}` runs an `http.Server` with no timeouts; slow clients can hold every connection"),
                    )
                    .with_help("build an `&http.Server{...}` with ReadHeaderTimeout, WriteTimeout and IdleTimeout and call its method instead"),
                );
            }
        }
    }
}
