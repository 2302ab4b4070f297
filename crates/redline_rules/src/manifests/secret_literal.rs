use super::{ContainerContext, ManifestFindings, ManifestRule};
use crate::{RuleMeta, declare_rule};
use redline_k8s::model::has_var_reference;
use redline_runtime::spec::{EnvSpec, is_secret_name, is_secret_value};

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
        kind: Manifest,
        finds: "a secret is written into the manifest as a literal",
    }
}

impl ManifestRule for SecretLiteral {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &ContainerContext<'_>, out: &mut ManifestFindings<'_>) {
        for var in &cx.container.env {
            let Some(value) = var.literal() else {
                continue;
            };
            if !is_literal_secret(&cx.settings.env_spec, var.name, value) {
                continue;
            }
            let what = if is_secret_value(value) {
                "holds a literal password"
            } else {
                "is a literal secret"
            };
            out.report(
                var.name_key,
                format!(
                    "{} of {} {what} in the manifest (value not shown): anyone who can read \
                     the manifest or its git history has it",
                    var.name, cx.who
                ),
            )
            .help(
                "store it in a Secret and use `valueFrom: {secretKeyRef: {name: …, key: …}}`; \
                 rotate the exposed value",
            );
        }
    }
}

/// Whether `var = value` is a literal secret: a secret name with a
/// literal value, or a value that is a URL with a password or a DSN with
/// `password=`, whatever the name. Not literals: a value made only of
/// `$(VAR)` references (or holding one: the secret part is expanded), an
/// absolute file path (a mounted secret file), a URL whose password is a
/// `$(VAR)` reference. A variable the environment spec marks secret
/// (`DATABASE_URL` by default, `[env.NAME] secret = true`) whose value is
/// a URL is judged by its value: a URL without a password is no secret.
pub fn is_literal_secret(spec: &EnvSpec, name: &str, value: &str) -> bool {
    if is_secret_value(value) {
        return true;
    }
    let spec_secret = spec.get(name).is_some_and(|s| s.secret) && !value.contains("://");
    !value.is_empty()
        && !has_var_reference(value)
        && !value.starts_with('/')
        && (is_secret_name(name) || spec_secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_secrets() {
        let spec = EnvSpec::default();
        for (name, value) in [
            ("JWT_SECRET", "x"),
            ("DB_PASS", "hunter2"),
            ("PASSWORD", "hunter2"),
            ("AWS_SECRET_ACCESS_KEY", "abc"),
            ("DATABASE_URL", "postgres://u:p@db/x"),
            ("REDIS_URL", "redis://:hunter2@cache:6379"),
            ("HTTPS_PROXY", "http://u:p@proxy:3128"),
            ("DSN", "host=db password=hunter2"),
            ("DATABASE_URL", "postgres://u:p@$(DB_HOST)/x"),
        ] {
            assert!(is_literal_secret(&spec, name, value), "{name}={value}");
        }
        for (name, value) in [
            ("JWT_SECRET", ""),
            ("JWT_SECRET", "$(JWT)"),
            ("API_TOKEN", "Bearer $(TOKEN)"),
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                "/var/run/secrets/gcp.json",
            ),
            ("DATABASE_URL", "postgres://u:$(DB_PASSWORD)@db/x"),
            ("DATABASE_URL", "postgres://u@db/x"),
            ("PASSWORD_MIN_LENGTH", "12"),
            ("SERVICE_NAME", "orders"),
        ] {
            assert!(!is_literal_secret(&spec, name, value), "{name}={value}");
        }
    }
}
