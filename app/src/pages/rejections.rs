//! `/rejections`: every open rejected operation, filtered by pipe, DN, reason and time, with
//! what was read, sent and answered — to retry or dismiss, one by one or all shown.

use crate::ConfigVersion;
use crate::api::{DismissRejections, RetryRejections, rejected_operations};
use crate::components::action_report::{ActionReport, ReportLines};
use crate::components::filter_field::FilterField;
use crate::components::references::RejectionDetail;
use crate::model::{RejectedOperation, encode_segment};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn RejectionsPage() -> impl IntoView {
    let version = expect_context::<ConfigVersion>();
    let query = use_query_map();
    let pipe = RwSignal::new(query.read_untracked().get("pipe").unwrap_or_default());
    let dn = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let since = RwSignal::new(String::new());
    let applied = RwSignal::new(0u32);
    let list = Resource::new(
        move || (applied.get(), version.0.get()),
        move |_| {
            rejected_operations(
                pipe.get_untracked(),
                dn.get_untracked(),
                reason.get_untracked(),
                since.get_untracked(),
            )
        },
    );
    let retry = ServerAction::<RetryRejections>::new();
    let dismiss = ServerAction::<DismissRejections>::new();
    let report = ActionReport::new();
    report.report_from(move || {
        retry
            .value()
            .get()
            .map(|r| r.unwrap_or_else(|e| vec![e.to_string()]))
    });
    report.report_from(move || {
        dismiss.value().get().map(|r| {
            vec![match r {
                Ok(n) => format!("{n} dismissed"),
                Err(e) => e.to_string(),
            }]
        })
    });
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! {
        <h1 data-hydrated=move || hydrated.get().to_string()>"Rejected operations"</h1>
        <p class="lead">"Changes and entries that could not be applied. Fix the cause, then retry: the entry is synchronized again as it is now."</p>
        <form class="filters" on:submit=move |ev| { ev.prevent_default(); applied.update(|n| *n += 1); }>
            <FilterField label="Pipe" name="pipe" placeholder="any" value=pipe/>
            <FilterField label="DN contains" name="dn" value=dn/>
            <FilterField label="Reason contains" name="reason" value=reason/>
            <FilterField label="Since (UTC)" name="since" placeholder="2026-11-23 10:00" value=since/>
            <div class="actions"><button type="submit" class="secondary">"Filter"</button></div>
        </form>
        <ReportLines report/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(items) if items.is_empty() => view! { <p class="empty" data-none="">"No open rejected operations."</p> }.into_any(),
                    Ok(items) => {
                        let ids: Vec<String> = items.iter().map(|r| r.id.clone()).collect();
                        let (retry_ids, dismiss_ids) = (ids.clone(), ids);
                        view! {
                            <div class="actions">
                                <button type="button" class="primary" on:click=move |_| { retry.dispatch(RetryRejections { ids: retry_ids.clone() }); }>
                                    {format!("Retry all {} shown", items.len())}
                                </button>
                                <button type="button" class="secondary" on:click=move |_| { dismiss.dispatch(DismissRejections { ids: dismiss_ids.clone() }); }>
                                    "Dismiss all shown"
                                </button>
                            </div>
                            <ul class="rejections">
                                {items.into_iter().map(|r| view! { <Item item=r retry dismiss/> }).collect_view()}
                            </ul>
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
fn Item(
    item: RejectedOperation,
    retry: ServerAction<RetryRejections>,
    dismiss: ServerAction<DismissRejections>,
) -> impl IntoView {
    let r = item.detail;
    let (retry_id, dismiss_id) = (item.id.clone(), item.id.clone());
    let history = format!(
        "/log?pipe={}&dn={}",
        encode_segment(&item.pipe),
        encode_segment(&r.dn)
    );
    view! {
        <li data-rejected-dn=r.dn.clone() data-id=item.id.clone()>
            <details>
                <summary>
                    <code>{r.dn.clone()}</code> " — " {format!("{} {} in “{}”: ", item.phase, r.operation, item.pipe)} {r.reason.clone()}
                </summary>
                <RejectionDetail rejection=r.clone()/>
            </details>
            <div class="row-actions">
                <button type="button" class="link" on:click=move |_| { retry.dispatch(RetryRejections { ids: vec![retry_id.clone()] }); }>"Retry"</button>
                <button type="button" class="link" on:click=move |_| { dismiss.dispatch(DismissRejections { ids: vec![dismiss_id.clone()] }); }>"Dismiss"</button>
                <A href=history>"History"</A>
            </div>
        </li>
    }
}
