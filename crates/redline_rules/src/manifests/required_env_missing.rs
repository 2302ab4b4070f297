use super::{ContainerContext, ManifestFindings, ManifestRule};
use crate::{RuleMeta, declare_rule};

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
        kind: Manifest,
        finds: "a container lacks a required env var",
        inactive_until_configured: true,
    }
}

impl ManifestRule for RequiredEnvMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Inactive until redline.toml names required variables
    /// (`[manifests] required-env`, or `[env.NAME] required = true`).
    fn check(&self, cx: &ContainerContext<'_>, out: &mut ManifestFindings<'_>) {
        let container = cx.container;
        let settings = cx.settings;
        let who = &cx.who;
        let selected = settings.required_env_containers.is_empty()
            || container
                .name
                .is_some_and(|n| settings.required_env_containers.iter().any(|c| c == n));
        let mut required: Vec<&str> = settings.required_env.iter().map(String::as_str).collect();
        for name in settings.env_spec.configured_required() {
            if !required.contains(&name.as_str()) {
                required.push(name);
            }
        }
        if !selected || required.is_empty() {
            return;
        }
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|r| !container.env.iter().any(|v| v.name == *r))
            .collect();
        if missing.is_empty() {
            return;
        }
        let list = missing.join(", ");
        if container.has_env_from {
            out.report(
                container.anchor,
                format!(
                    "{who} does not list {list} in `env`; it may come from `envFrom`, which \
                     redline cannot see into"
                ),
            )
            .notice_only()
            .help(
                "list required variables in `env` (with valueFrom) so reviewers and redline \
                 can see them",
            );
        } else {
            out.report(
                container.anchor,
                format!(
                    "{who} lacks required environment variable{} {list}: the service \
                     cannot start correctly",
                    if missing.len() == 1 { "" } else { "s" }
                ),
            )
            .help("add them to `env` (secrets with `valueFrom.secretKeyRef`)");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::manifests::check_manifest;
    use redline_k8s::ManifestContext;
    use redline_runtime::spec::EnvSpec;

    const NO_ENV: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: api\n      image: x\n";

    #[test]
    fn inactive_until_configured() {
        assert!(
            check_manifest("d.yaml", NO_ENV.as_bytes(), &ManifestContext::default()).is_empty()
        );
        // `[env.NAME] required = true` activates it; the built-in spec,
        // which marks DATABASE_URL required, does not.
        let env_spec = EnvSpec::from_config_text(
            "redline.toml",
            "[env.REGION]\nrequired = true\n[env.SERVICE_NAME]\npattern = \"^x\"\n",
        )
        .unwrap();
        let ctx = ManifestContext {
            env_spec,
            ..ManifestContext::default()
        };
        let d = check_manifest("d.yaml", NO_ENV.as_bytes(), &ctx);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].rule.id, d[0].span.line), ("RL703", 6));
        assert!(d[0].message.contains("REGION") && !d[0].message.contains("SERVICE_NAME"));
    }
}
