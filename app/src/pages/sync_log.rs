//! `/log`: the log of changes — every change resync and realtime sync handled, filtered by
//! pipe, DN, outcome and time, a page at a time, and downloadable as CSV or JSON.

use crate::api::{LOG_PAGE, logged_changes};
use crate::components::filter_field::FilterField;
use crate::model::{ChangeOutcome, LoggedChange, encode_segment};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SyncLogPage() -> impl IntoView {
    let query = use_query_map();
    let initial = |name: &str| query.read_untracked().get(name).unwrap_or_default();
    let pipe = RwSignal::new(initial("pipe"));
    let dn = RwSignal::new(initial("dn"));
    let outcome = RwSignal::new(initial("outcome"));
    let since = RwSignal::new(String::new());
    // Paging: the ids after which each page shown so far starts ("" for the newest).
    let pages = RwSignal::new(vec![String::new()]);
    let applied = RwSignal::new(0u32);
    let list = Resource::new(
        move || (applied.get(), pages.get()),
        move |(_, pages)| {
            logged_changes(
                pipe.get_untracked(),
                dn.get_untracked(),
                outcome.get_untracked(),
                since.get_untracked(),
                pages.last().cloned().unwrap_or_default(),
            )
        },
    );
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let download = move |format: &str| {
        let params = [
            ("format", format.to_owned()),
            ("pipe", pipe.get()),
            ("dn", dn.get()),
            ("outcome", outcome.get()),
            ("since", since.get()),
        ];
        let query: Vec<String> = params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode_segment(v)))
            .collect();
        format!("/api/log?{}", query.join("&"))
    };
    view! {
        <h1 data-hydrated=move || hydrated.get().to_string()>"Log of changes"</h1>
        <p class="lead">"Every change resync and realtime sync handled, newest first: what came of it, what was sent, how long it took."</p>
        <form class="filters" on:submit=move |ev| { ev.prevent_default(); pages.set(vec![String::new()]); applied.update(|n| *n += 1); }>
            <FilterField label="Pipe" name="pipe" placeholder="any" value=pipe/>
            <FilterField label="DN contains" name="dn" value=dn/>
            <div class="field">
                <label>"Outcome"</label>
                <select name="outcome" prop:value=move || outcome.get() on:change=move |ev| outcome.set(event_target_value(&ev))>
                    <option value="">"any"</option>
                    {ChangeOutcome::ALL.iter().map(|o| view! { <option value=o.as_str()>{o.as_str()}</option> }).collect_view()}
                </select>
            </div>
            <FilterField label="Since (UTC)" name="since" placeholder="2026-11-23 10:00" value=since/>
            <div class="actions">
                <button type="submit" class="secondary">"Filter"</button>
                <a class="button link" href=move || download("csv") download="scimsync-log.csv">"Download CSV"</a>
                <a class="button link" href=move || download("json") download="scimsync-log.json">"Download JSON"</a>
            </div>
        </form>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(items) if items.is_empty() => view! { <p class="empty" data-none="">"No logged changes."</p> }.into_any(),
                    Ok(items) => {
                        let older = (items.len() as u32 == LOG_PAGE).then(|| items.last().map(|c| c.id.clone())).flatten();
                        view! {
                            <table class="sync-log">
                                <thead><tr><th>"When (UTC)"</th><th>"Pipe"</th><th>"Phase"</th><th>"Outcome"</th><th>"Entry"</th><th>"Resource"</th><th>"What was done"</th><th>"ms"</th></tr></thead>
                                <tbody>{items.into_iter().map(|c| view! { <Row change=c/> }).collect_view()}</tbody>
                            </table>
                            <div class="actions paging">
                                {move || (pages.get().len() > 1).then(|| view! {
                                    <button type="button" class="secondary" on:click=move |_| pages.set(vec![String::new()])>"Newest"</button>
                                })}
                                {older.map(|id| view! {
                                    <button type="button" class="secondary" on:click=move |_| pages.update(|p| p.push(id.clone()))>"Older"</button>
                                })}
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="errors">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Row(change: LoggedChange) -> impl IntoView {
    let resource = match (&change.endpoint, &change.resource_id) {
        (Some(endpoint), Some(id)) => format!("{endpoint}/{id}"),
        _ => String::new(),
    };
    let (outcome, dn) = (change.outcome.as_str(), change.dn.clone());
    view! {
        <tr data-outcome=outcome data-dn=dn>
            <td>{change.at.format("%Y-%m-%d %H:%M:%S%.3f").to_string()}</td>
            <td>{change.pipe}</td>
            <td>{change.phase.as_str()}</td>
            <td class=format!("outcome {outcome}")>{outcome}</td>
            <td><code>{change.dn}</code></td>
            <td><code>{resource}</code></td>
            <td>{change.summary}</td>
            <td class="number">{change.duration_ms}</td>
        </tr>
    }
}
