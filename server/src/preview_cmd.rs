//! `scimsync preview --pipe P --dn DN [--apply] [--json]`: one entry, step by step.

use crate::cli::{InstanceArgs, PreviewArgs};
use crate::output::{say, say_part};
use engine::sync::preview::EntryPreview;
use std::process::ExitCode;

pub async fn run(instance: &InstanceArgs, args: PreviewArgs) -> anyhow::Result<ExitCode> {
    let store = instance.open_store().await?;
    let config = store.load_config().await?;
    let preview =
        engine::sync::preview_entry(&store, &config, &args.pipe, &args.dn, args.apply).await?;
    if args.apply {
        let target = preview.audit_target();
        crate::instance::audit(&store, "apply-preview", &target, &preview.action).await;
    }
    if args.json {
        say!("{}", serde_json::to_string_pretty(&preview)?);
    } else {
        say_part!("{}", text(&preview));
    }
    Ok(if preview.action == "rejected" {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The preview as an admin reads it: one numbered step after another.
fn text(p: &EntryPreview) -> String {
    let mut out = format!("Preview of {} in sync pipe \"{}\"\n", p.dn, p.pipe);
    let mut step = 0;
    let mut section = |title: &str, out: &mut String| {
        step += 1;
        out.push_str(&format!("\n{step}. {title}\n"));
    };
    section("Entry as read", &mut out);
    match &p.entry {
        None => out.push_str("   not in the source\n"),
        Some(attributes) => {
            for (name, values) in attributes {
                for v in values {
                    out.push_str(&format!("   {name}: {v}\n"));
                }
            }
        }
    }
    if !p.classes.is_empty() {
        section("Sync classes", &mut out);
        for c in &p.classes {
            let mark = if c.takes { "→" } else { " " };
            out.push_str(&format!("   {mark} {}: {}\n", c.name, c.why));
        }
    }
    for m in &p.mapped {
        section(&format!("Mapped for {}", m.purpose), &mut out);
        if let Some(r) = &m.resource {
            out.push_str(&indent(&pretty(r)));
        }
        for problem in &m.problems {
            out.push_str(&format!("   {problem}\n"));
        }
    }
    if let Some(s) = &p.search {
        section(&format!("Search of {}", s.endpoint), &mut out);
        if let Some(filter) = &s.filter {
            out.push_str(&format!("   filter: {filter}\n"));
        }
        match &s.found {
            Ok(ids) if ids.is_empty() => out.push_str("   found: nothing\n"),
            Ok(ids) => out.push_str(&format!("   found: {}\n", ids.join(", "))),
            Err(e) => out.push_str(&format!("   failed: {e}\n")),
        }
    }
    if !p.references.is_empty() {
        section("References", &mut out);
        for line in &p.references {
            out.push_str(&format!("   {line}\n"));
        }
    }
    let done = if p.applied {
        "done"
    } else {
        "not done: preview only"
    };
    section(&format!("Action: {} ({done})", p.action), &mut out);
    out.push_str(&indent(&match &p.sent {
        serde_json::Value::String(s) => s.clone(),
        other => pretty(other),
    }));
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("   {l}\n")).collect()
}
