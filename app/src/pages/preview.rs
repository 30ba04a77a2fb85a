//! `/preview`: one entry of a pipe, every step the engine takes with it — the entry as read,
//! the sync class that takes it and why the others do not, the mapped resource, the
//! destination search, references, and the action with what it sends. **Preview** changes
//! nothing; **Apply** does what it shows.

use crate::api::{ApplyPreview, PreviewEntry};
use crate::components::filter_field::FilterField;
use crate::model::{EntryPreview, encode_segment};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn PreviewPage() -> impl IntoView {
    let query = use_query_map();
    let initial = |name: &str| query.read_untracked().get(name).unwrap_or_default();
    let pipe = RwSignal::new(initial("pipe"));
    let dn = RwSignal::new(initial("dn"));
    let preview = ServerAction::<PreviewEntry>::new();
    let apply = ServerAction::<ApplyPreview>::new();
    let shown = RwSignal::new(None::<Result<EntryPreview, String>>);
    Effect::new(move || {
        if let Some(result) = preview.value().get() {
            shown.set(Some(result.map_err(|e| e.to_string())));
        }
    });
    Effect::new(move || {
        if let Some(result) = apply.value().get() {
            shown.set(Some(result.map_err(|e| e.to_string())));
        }
    });
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    // Opened with a DN (from a pipe's or resync's Preview field): shown at once.
    Effect::new(move || {
        if !dn.get_untracked().trim().is_empty() {
            preview.dispatch(PreviewEntry {
                pipe: pipe.get_untracked(),
                dn: dn.get_untracked(),
            });
        }
    });
    view! {
        <h1 data-hydrated=move || hydrated.get().to_string()>"Preview one entry"</h1>
        <p class="lead">"What the engine does with one entry, step by step, as a resync would. Preview changes nothing; Apply does what it shows."</p>
        <form class="filters" on:submit=move |ev| {
            ev.prevent_default();
            preview.dispatch(PreviewEntry { pipe: pipe.get_untracked(), dn: dn.get_untracked() });
        }>
            <FilterField label="Pipe" name="pipe" value=pipe/>
            <FilterField label="Entry DN" name="dn" placeholder="uid=jdoe,ou=people,dc=example,dc=com" value=dn/>
            <div class="actions">
                <button type="submit" class="primary">"Preview"</button>
                <button type="button" class="secondary" on:click=move |_| {
                    apply.dispatch(ApplyPreview { pipe: pipe.get_untracked(), dn: dn.get_untracked() });
                }>"Apply"</button>
            </div>
        </form>
        {move || shown.get().map(|r| match r {
            Ok(p) => view! { <Steps preview=p/> }.into_any(),
            Err(e) => view! { <p class="errors" role="alert">{e}</p> }.into_any(),
        })}
    }
}

fn pretty(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[component]
fn Steps(preview: EntryPreview) -> impl IntoView {
    let p = preview;
    let history = format!(
        "/log?pipe={}&dn={}",
        encode_segment(&p.pipe),
        encode_segment(&p.dn)
    );
    let entry = match &p.entry {
        None => "not in the source".to_owned(),
        Some(attributes) => attributes
            .iter()
            .flat_map(|(name, values)| values.iter().map(move |v| format!("{name}: {v}")))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let done = if p.applied {
        "done"
    } else {
        "not done: preview only"
    };
    view! {
        <ol class="preview" data-action=p.action.clone() data-applied=p.applied.to_string()>
            <li data-step="entry"><h3>"Entry as read"</h3><pre>{entry}</pre></li>
            {(!p.classes.is_empty()).then(|| view! {
                <li data-step="classes"><h3>"Sync classes"</h3>
                    <ul>{p.classes.iter().map(|c| view! {
                        <li data-class=c.name.clone() data-takes=c.takes.to_string()>
                            <strong>{c.name.clone()}</strong> ": " {c.why.clone()}
                        </li>
                    }).collect_view()}</ul>
                </li>
            })}
            {p.mapped.iter().map(|m| view! {
                <li data-step=format!("mapped-{}", m.purpose)><h3>{format!("Mapped for {}", m.purpose)}</h3>
                    {m.resource.as_ref().map(|r| view! { <pre>{pretty(r)}</pre> })}
                    {m.problems.iter().map(|x| view! { <p class="error">{x.clone()}</p> }).collect_view()}
                </li>
            }).collect_view()}
            {p.search.as_ref().map(|s| view! {
                <li data-step="search"><h3>{format!("Search of {}", s.endpoint)}</h3>
                    <p><code>{s.filter.clone().unwrap_or_else(|| "no filter".into())}</code></p>
                    <p data-found="">{match &s.found {
                        Ok(ids) if ids.is_empty() => "found: nothing".to_owned(),
                        Ok(ids) => format!("found: {}", ids.join(", ")),
                        Err(e) => format!("failed: {e}"),
                    }}</p>
                </li>
            })}
            {(!p.references.is_empty()).then(|| view! {
                <li data-step="references"><h3>"References"</h3>
                    <ul>{p.references.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul>
                </li>
            })}
            <li data-step="action"><h3>{format!("Action: {} ({done})", p.action)}</h3><pre>{pretty(&p.sent)}</pre></li>
        </ol>
        <p><A href=history>"This entry's history in the log of changes →"</A></p>
    }
}
