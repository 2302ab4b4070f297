use crate::{Context, Findings, GoRule, RuleMeta, declare_rule};

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
    ///     ReadHeaderTimeout: 5 * time.Second, // the slowloris guard
    ///     WriteTimeout:      30 * time.Second,
    ///     IdleTimeout:       120 * time.Second,
    /// }
    /// err := srv.ListenAndServe()
    /// ```
    /// A `WriteTimeout` cuts off long responses such as
    /// `/debug/pprof/profile?seconds=N`: on a server that streams or serves
    /// pprof, leave it unset and bound the other handlers with
    /// `http.TimeoutHandler`.
    ///
    /// ## Fix
    /// None: the right timeouts depend on the service.
    pub struct HttpServeWithoutTimeouts {
        id: "RL501",
        name: "http-serve-without-timeouts",
        severity: Error,
        fix: None,
        kind: Go,
        finds: "package-level `http.ListenAndServe`/`Serve` run a server without timeouts",
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

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        if !cx.file.imports_path(HTTP) {
            return;
        }
        for &call in &cx.index.calls {
            if let Some((_, name)) = cx.index.callee(call, CALLEES) {
                let method = match name {
                    "ListenAndServe" => "srv.ListenAndServe()",
                    "ListenAndServeTLS" => "srv.ListenAndServeTLS(certFile, keyFile)",
                    "Serve" => "srv.Serve(listener)",
                    _ => "srv.ServeTLS(listener, certFile, keyFile)",
                };
                out.report(call, format!("`http.{name}` runs a zero `http.Server` with no timeouts: slow or stalled clients can hold every connection and goroutine until the process runs out of file descriptors")).help(format!("build `srv := &http.Server{{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}}` (ReadHeaderTimeout first: it is the slowloris guard) and call `{method}`; add a WriteTimeout unless the server streams or serves pprof (it cuts off `/debug/pprof/profile?seconds=N`)"));
            }
        }
    }
}
