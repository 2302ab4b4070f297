//! The catalog's documentation, generated from the rules' doc comments
//! into `docs/rules.md` (a test keeps the file current; regenerate it with
//! `UPDATE_GOLDEN=1 cargo test -p redline_rules --test docs`).

use crate::{ALL_RULES, RuleMeta};

fn severity(r: &RuleMeta) -> String {
    if !r.active_by_default {
        format!("{}; inactive until configured", r.severity)
    } else {
        r.severity.to_string()
    }
}

fn fix(r: &RuleMeta) -> &'static str {
    match r.fix {
        Some(redline_diagnostics::Applicability::Safe) => ", safe fix",
        Some(redline_diagnostics::Applicability::Unsafe) => ", unsafe fix",
        Some(redline_diagnostics::Applicability::DisplayOnly) => ", suggested fix",
        None => "",
    }
}

/// Every rule's documentation as one Markdown document: an index, then a
/// section per rule (its doc comment, headings one level down).
pub fn catalog_markdown() -> String {
    let mut out = String::from(
        "# The red-line catalog\n\n\
         Generated from the rules' documentation (`redline explain ID` prints one \
         rule); do not edit by hand. Severity is the default; `redline.toml` \
         changes it per rule (`[severity]`).\n\n",
    );
    for r in ALL_RULES {
        out.push_str(&format!(
            "- [{} `{}`](#{}) ({}{}): {}\n",
            r.id,
            r.name,
            r.id.to_ascii_lowercase(),
            severity(r),
            fix(r),
            r.finds
        ));
    }
    for r in ALL_RULES {
        out.push_str(&format!(
            "\n<a id=\"{}\"></a>\n## {} `{}` ({}{})\n\n",
            r.id.to_ascii_lowercase(),
            r.id,
            r.name,
            severity(r),
            fix(r)
        ));
        let mut in_code = false;
        for line in r.documentation().lines() {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with('#') {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
