//! Controllers and concurrency: client-go and controller-runtime pitfalls.
