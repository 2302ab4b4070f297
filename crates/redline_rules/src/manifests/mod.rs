//! Kubernetes manifest rules. Their checks live in `redline_k8s` (which
//! owns the manifest model); the catalog entries and documentation live
//! here with every other rule.

use crate::declare_rule;

declare_rule! {
    /// ## What it does
    /// Finds a container with `resources.limits.cpu` and no `GOMAXPROCS`
    /// env var (a literal, or `valueFrom.resourceFieldRef` of `limits.cpu`).
    /// Not reported when the scanned module's `go.mod` says `go 1.25` or
    /// later (the runtime then reads the cgroup limit itself) or the module
    /// uses `go.uber.org/automaxprocs`.
    ///
    /// ## Why is this bad?
    /// Before Go 1.25 a Go program sizes its scheduler to the node's cores,
    /// not the container's CPU limit: a service limited to 2 CPUs on a
    /// 64-core node runs 64 threads, is throttled by the CFS quota and its
    /// tail latency explodes.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   limits:
    ///     cpu: "2"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    ///   - name: GOMAXPROCS
    ///     valueFrom:
    ///       resourceFieldRef:
    ///         resource: limits.cpu
    /// ```
    /// or start the service with `redline exec`, which sets it from the
    /// cgroup quota.
    pub struct GomaxprocsUnset {
        id: "RL701",
        name: "gomaxprocs-unset",
        severity: Error,
        fix: None,
        target: Manifest,
        summary: "a CPU-limited container without GOMAXPROCS",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds a literal `GOMAXPROCS` that is not a positive integer, or is
    /// larger than the container's CPU limit rounded up.
    ///
    /// ## Why is this bad?
    /// More Ps than the quota allows means CFS throttling; a value Go cannot
    /// parse is silently ignored, so the setting does nothing.
    ///
    /// ## Example
    /// ```yaml
    /// env: [{name: GOMAXPROCS, value: "8"}]
    /// resources: {limits: {cpu: "2"}}
    /// ```
    ///
    /// ## Use instead
    /// `valueFrom.resourceFieldRef` of `limits.cpu`, or a value no larger
    /// than the limit.
    pub struct GomaxprocsExceedsLimit {
        id: "RL702",
        name: "gomaxprocs-exceeds-limit",
        severity: Error,
        fix: None,
        target: Manifest,
        summary: "GOMAXPROCS is invalid or above the CPU limit",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds a container that lacks a required env var. Inactive until
    /// configured: which variables are required is an organisation's
    /// convention, so the rule does nothing until `redline.toml` names
    /// them, in `[manifests] required-env` or with an explicit
    /// `[env.NAME] required = true` (the built-in environment spec does not
    /// activate it). `required-env-containers` limits it to named
    /// containers. When the container has `envFrom`, the variable may come
    /// from there and the finding is `info`.
    ///
    /// ```toml
    /// [manifests]
    /// required-env = ["DATABASE_URL", "JWT_SECRET", "SERVICE_NAME"]
    /// ```
    ///
    /// ## Why is this bad?
    /// A service that starts without its configuration degrades at the
    /// first request instead of failing its rollout.
    ///
    /// ## Use instead
    /// Declare every required variable, from a Secret or ConfigMap.
    pub struct RequiredEnvMissing {
        id: "RL703",
        name: "required-env-missing",
        severity: Error,
        fix: None,
        target: Manifest,
        summary: "a container lacks a required env var",
        needs_config: true,
    }
}

declare_rule! {
    /// ## What it does
    /// Finds a secret given as a literal `value:` instead of
    /// `valueFrom.secretKeyRef`: `JWT_SECRET`; names whose last
    /// `_`-separated words are `SECRET`, `PASSWORD`, `PASSWD`, `PASS`,
    /// `TOKEN`, `API_KEY`, `SECRET_KEY`, `PRIVATE_KEY`, `ACCESS_KEY` or
    /// `CREDENTIALS` (`DB_PASS`, `AWS_SECRET_ACCESS_KEY`, `GITHUB_TOKEN`;
    /// not `PASSWORD_MIN_LENGTH`); and any variable whose value is a URL
    /// holding a password (`scheme://user:pass@…`: `DATABASE_URL`,
    /// `REDIS_URL`, `HTTPS_PROXY`) or a DSN with `password=`. Not literals:
    /// a value made of `$(VAR)` references, an absolute file path (a
    /// mounted secret file), a URL whose password is a `$(VAR)` reference.
    /// No output of redline shows the secret: not the message, not the code
    /// frame of any format (the value is masked). `redline env`, `redline
    /// exec` and RL705 hide the same variables.
    ///
    /// ## Why is this bad?
    /// Manifests live in git, in CI logs and in `kubectl get -o yaml`: a
    /// literal secret is a leaked secret.
    ///
    /// ## Use instead
    /// ```yaml
    /// - name: JWT_SECRET
    ///   valueFrom:
    ///     secretKeyRef: {name: orders, key: jwt-secret}
    /// ```
    pub struct SecretLiteral {
        id: "RL704",
        name: "secret-literal",
        severity: Error,
        fix: None,
        target: Manifest,
        summary: "a secret is written into the manifest as a literal",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds a literal env value that breaks the environment spec (the
    /// same spec `redline env` and `redline exec` enforce), e.g.
    /// `SERVICE_NAME: My_Service` or `LOG_LEVEL: verbose`.
    ///
    /// ## Why is this bad?
    /// The service would refuse to start (under `redline exec`) or run
    /// misconfigured; catching it in review is cheaper than in a rollout.
    ///
    /// ## Use instead
    /// A value that matches the spec; `redline explain RL705` and the
    /// README list the spec.
    pub struct EnvLiteralInvalid {
        id: "RL705",
        name: "env-literal-invalid",
        severity: Error,
        fix: None,
        target: Manifest,
        summary: "a literal env value breaks the environment spec",
    }
}
