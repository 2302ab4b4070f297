use super::secret_literal::is_literal_secret;
use super::{ContainerContext, ManifestFindings, ManifestRule};
use crate::{RuleMeta, declare_rule};
use redline_k8s::model::has_var_reference;

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
        kind: Manifest,
        finds: "a literal env value breaks the environment spec",
    }
}

impl ManifestRule for EnvLiteralInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &ContainerContext<'_>, out: &mut ManifestFindings<'_>) {
        for var in &cx.container.env {
            let Some(value) = var.literal() else {
                continue;
            };
            // A literal secret is RL704's; `$(VAR)` is expanded at start
            // time; GOMAXPROCS is RL702's.
            if is_literal_secret(&cx.settings.env_spec, var.name, value)
                || has_var_reference(value)
                || var.name == "GOMAXPROCS"
            {
                continue;
            }
            let problems = cx.settings.env_spec.check_value(var.name, value);
            if !problems.is_empty() {
                let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
                out.report(var.name_key, format!("{}: {}", cx.who, messages.join("; ")))
                    .help("fix the value so it meets the environment spec (README, \"The environment spec\"; redline.toml [env])");
            }
        }
    }
}
