use super::servers::servers;
use crate::{Context, Findings, GoRule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds an `http.Server` (as in RL502) whose read side is bounded but
    /// which leaves `WriteTimeout` zero, or has no effective idle timeout:
    /// `IdleTimeout` zero and `ReadTimeout` zero (net/http uses
    /// `ReadTimeout` for idle keep-alive connections when `IdleTimeout`
    /// is 0). The message names the missing field.
    ///
    /// ## Why is this bad?
    /// A client that stops reading a response, or a keep-alive connection
    /// left idle, then holds a goroutine and a file descriptor without
    /// limit.
    ///
    /// Leaving `WriteTimeout` unset is right for servers that stream
    /// responses (server-sent events, watch APIs, large downloads) or serve
    /// `net/http/pprof`: a `WriteTimeout` cuts off
    /// `/debug/pprof/profile?seconds=N` when N outlasts it. Then suppress
    /// the finding with a reason, or bound each other handler with
    /// `http.TimeoutHandler` or `http.ResponseController.SetWriteDeadline`.
    ///
    /// ## Example
    /// ```go
    /// srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
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
    /// ```
    ///
    /// ## Fix
    /// None: the right timeouts depend on the service.
    pub struct HttpServerWriteIdleTimeouts {
        id: "RL503",
        name: "http-server-write-idle-timeouts",
        severity: Warning,
        fix: None,
        kind: Go,
        finds: "an `http.Server` leaves `WriteTimeout` zero or has no idle timeout",
    }
}

impl GoRule for HttpServerWriteIdleTimeouts {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        for s in servers(cx) {
            if !(s.read_header || s.read) {
                continue; // RL502
            }
            let no_write = !s.write;
            let no_idle = !s.idle && !s.read;
            let (message, help) = match (no_write, no_idle) {
                (false, false) => continue,
                (true, false) => (
                    "`http.Server` leaves WriteTimeout zero: a client that stops reading a response holds a goroutine and a file descriptor without limit".to_string(),
                    WRITE_HELP.to_string(),
                ),
                (false, true) => (
                    IDLE_MESSAGE.to_string(),
                    "set `IdleTimeout` (e.g. `120 * time.Second`) so that idle keep-alive connections are closed".to_string(),
                ),
                (true, true) => (
                    format!("{IDLE_MESSAGE}; it also leaves WriteTimeout zero, so a client that stops reading a response holds one too"),
                    format!("set `IdleTimeout` (e.g. `120 * time.Second`); {WRITE_HELP}"),
                ),
            };
            out.report(s.node, message).help(help);
        }
    }
}

const IDLE_MESSAGE: &str = "`http.Server` has no idle timeout: IdleTimeout is zero and so is ReadTimeout (which net/http uses for idle keep-alive connections when IdleTimeout is 0), so an idle keep-alive connection holds a goroutine and a file descriptor without limit";

const WRITE_HELP: &str = "set `WriteTimeout` (e.g. `30 * time.Second`); leaving it unset is right when the server streams responses or serves net/http/pprof (`/debug/pprof/profile?seconds=N` outlasts a short WriteTimeout): then suppress this finding with a reason, or bound the other handlers with `http.TimeoutHandler` or `http.ResponseController.SetWriteDeadline`";
