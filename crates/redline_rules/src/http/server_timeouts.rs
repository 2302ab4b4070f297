use super::servers::servers;
use crate::{Context, Findings, GoRule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds an `http.Server` whose read side is unbounded: neither
    /// `ReadHeaderTimeout` nor `ReadTimeout` is set to a non-zero value.
    /// Servers are composite literals of `http.Server` (value or `&`),
    /// `new(http.Server)` and `var s http.Server`. A field counts as set
    /// when the literal sets it or the same variable is assigned it later
    /// in the same function (`srv.ReadHeaderTimeout = ...`); any value
    /// that is not a constant zero (`0`, `0 * time.Second`,
    /// `time.Duration(0)`) counts as set.
    ///
    /// ## Why is this bad?
    /// A zero timeout means none. A client that sends its request headers
    /// one byte at a time (slowloris) holds a connection and a goroutine
    /// forever; a few hundred such clients exhaust the server's file
    /// descriptors or memory.
    ///
    /// ## Example
    /// ```go
    /// srv := &http.Server{Addr: ":8080", Handler: mux}
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// srv := &http.Server{
    ///     Addr:              ":8080",
    ///     Handler:           mux,
    ///     ReadHeaderTimeout: 5 * time.Second,
    /// }
    /// ```
    /// `ReadHeaderTimeout` bounds only the headers, so it is safe for
    /// handlers that stream large request bodies; `ReadTimeout` bounds the
    /// whole request. The write and idle side is RL503.
    ///
    /// ## Fix
    /// None: the right timeout depends on the service.
    pub struct HttpServerTimeouts {
        id: "RL502",
        name: "http-server-timeouts",
        severity: Error,
        fix: None,
        kind: Go,
        finds: "an `http.Server` sets neither `ReadHeaderTimeout` nor `ReadTimeout` (slowloris)",
    }
}

impl GoRule for HttpServerTimeouts {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        for s in servers(cx) {
            if s.read_header || s.read {
                continue;
            }
            out.report(s.node, "`http.Server` sets neither ReadHeaderTimeout nor ReadTimeout: a client that sends its headers slowly (slowloris) holds a connection and a goroutine forever".to_string()).help(
                    "set `ReadHeaderTimeout: 5 * time.Second` (it bounds only the headers, so streaming request bodies still work), or `ReadTimeout` to bound the whole request",
                );
        }
    }
}
