//! `/deletes`: the deletes a pipe's deletion limit held back — which entry, which resource,
//! delete or deactivate, and why — to approve (apply) or discard, one by one or all shown.

use crate::ConfigVersion;
use crate::api::{ApproveHeldDeletes, DiscardHeldDeletes, held_deletes};
use crate::components::action_report::{ActionReport, ReportLines};
use crate::components::filter_field::FilterField;
use crate::model::{HeldDelete, encode_segment};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn HeldDeletesPage() -> impl IntoView {
    let version = expect_context::<ConfigVersion>();
    let query = use_query_map();
    let pipe = RwSignal::new(query.read_untracked().get("pipe").unwrap_or_default());
    let applied = RwSignal::new(0u32);
    let list = Resource::new(
        move || (applied.get(), version.0.get()),
        move |_| held_deletes(pipe.get_untracked()),
    );
    let approve = ServerAction::<ApproveHeldDeletes>::new();
    let discard = ServerAction::<DiscardHeldDeletes>::new();
    let report = ActionReport::new();
    report.report_from(move || {
        approve
            .value()
            .get()
            .map(|r| r.unwrap_or_else(|e| vec![e.to_string()]))
    });
    report.report_from(move || {
        discard.value().get().map(|r| {
            vec![match r {
                Ok(n) => format!("{n} discarded; their resources stay"),
                Err(e) => e.to_string(),
            }]
        })
    });
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! {
        <h1 data-hydrated=move || hydrated.get().to_string()>"Held deletes"</h1>
        <p class="lead">"Deletes a pipe's deletion limit held back: nothing was removed at the destination. Approve to apply them (each entry is looked at again: one that is back is synchronized instead), or discard to keep the resources."</p>
        <form class="filters" on:submit=move |ev| { ev.prevent_default(); applied.update(|n| *n += 1); }>
            <FilterField label="Pipe" name="pipe" placeholder="any" value=pipe/>
            <div class="actions"><button type="submit" class="secondary">"Filter"</button></div>
        </form>
        <ReportLines report/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(items) if items.is_empty() => view! { <p class="empty" data-none="">"No held deletes."</p> }.into_any(),
                    Ok(items) => {
                        let ids: Vec<String> = items.iter().map(|h| h.id.clone()).collect();
                        let (approve_ids, discard_ids) = (ids.clone(), ids);
                        view! {
                            <div class="actions">
                                <button type="button" class="primary" on:click=move |_| { approve.dispatch(ApproveHeldDeletes { ids: approve_ids.clone() }); }>
                                    {format!("Approve all {} shown", items.len())}
                                </button>
                                <button type="button" class="secondary" on:click=move |_| { discard.dispatch(DiscardHeldDeletes { ids: discard_ids.clone() }); }>
                                    "Discard all shown"
                                </button>
                            </div>
                            <table class="sync-log held-deletes">
                                <thead><tr><th>"Held at (UTC)"</th><th>"Pipe"</th><th>"Entry"</th><th>"Resource"</th><th>"Action"</th><th>"Why"</th><th></th></tr></thead>
                                <tbody>{items.into_iter().map(|h| view! { <Row held=h approve discard/> }).collect_view()}</tbody>
                            </table>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="errors">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Row(
    held: HeldDelete,
    approve: ServerAction<ApproveHeldDeletes>,
    discard: ServerAction<DiscardHeldDeletes>,
) -> impl IntoView {
    let (approve_id, discard_id) = (held.id.clone(), held.id.clone());
    let history = format!(
        "/log?pipe={}&dn={}",
        encode_segment(&held.pipe),
        encode_segment(&held.dn)
    );
    let resource = match &held.display {
        Some(name) => format!("{} {} ({name})", held.endpoint, held.resource_id),
        None => format!("{} {}", held.endpoint, held.resource_id),
    };
    view! {
        <tr data-held-dn=held.dn.clone() data-id=held.id.clone()>
            <td>{held.held_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
            <td>{held.pipe.clone()}</td>
            <td><code>{held.dn.clone()}</code></td>
            <td>{resource}</td>
            <td>{held.action.to_string()}</td>
            <td>{held.reason.clone()}</td>
            <td class="row-actions">
                <button type="button" class="link" on:click=move |_| { approve.dispatch(ApproveHeldDeletes { ids: vec![approve_id.clone()] }); }>"Approve"</button>
                <button type="button" class="link" on:click=move |_| { discard.dispatch(DiscardHeldDeletes { ids: vec![discard_id.clone()] }); }>"Discard"</button>
                <A href=history>"History"</A>
            </td>
        </tr>
    }
}
