//! Controllers and concurrency: client-go and controller-runtime pitfalls.

pub mod client_rate_limit_defaults;
pub mod keyfunc_ignores_namespace;
pub mod map_write_in_goroutine;
pub mod unsynchronized_reconciler_state;
pub use client_rate_limit_defaults::ClientRateLimitDefaults;
pub use keyfunc_ignores_namespace::KeyfuncIgnoresNamespace;
pub use map_write_in_goroutine::MapWriteInGoroutine;
pub use unsynchronized_reconciler_state::UnsynchronizedReconcilerState;

/// The family's rules.
pub static FAMILY: crate::Family = crate::Family {
    name: "controllers",
    go: &[
        &KeyfuncIgnoresNamespace,
        &UnsynchronizedReconcilerState,
        &MapWriteInGoroutine,
        &ClientRateLimitDefaults,
    ],
    go_mod: &[],
    manifest: &[],
    document: &[],
};
