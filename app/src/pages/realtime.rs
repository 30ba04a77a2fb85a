//! Step 11 (start and stop realtime sync) and the live pipe page.

use crate::ConfigVersion;
use crate::api::{SetRealtime, realtime_pipes};
use crate::components::preview_form::PreviewForm;
use crate::components::references::PendingList;
use crate::model::{PipeRealtime, RealtimeStatus, encode_segment, readable_at};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// Step 11: each pipe with its state and a Start/Stop button.
#[component]
pub fn RealtimePanel() -> impl IntoView {
    let version = expect_context::<ConfigVersion>();
    let pipes = Resource::new(move || version.0.get(), |_| realtime_pipes());
    let toggle = ServerAction::<SetRealtime>::new();
    let message = RwSignal::new(None::<(bool, String)>);
    Effect::new(move || match toggle.value().get() {
        Some(Ok(o)) => {
            let refused =
                o.message.starts_with("set a startpoint") || o.message.starts_with("there is no");
            message.set(Some((!refused, o.message)));
            version.bump();
        }
        Some(Err(e)) => message.set(Some((false, e.to_string()))),
        None => {}
    });
    view! {
        {move || message.get().map(|(ok, m)| view! { <p class=if ok { "flash" } else { "errors" } role="status">{m}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match pipes.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"Create a sync pipe first (step 7)."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="objects realtime">
                            <thead><tr><th>"Pipe"</th><th>"State"</th><th>"Runs on"</th><th>"Startpoint / position"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|p| view! { <PipeRow pipe=p toggle/> }).collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PipeRow(pipe: PipeRealtime, toggle: ServerAction<SetRealtime>) -> impl IntoView {
    let state = pipe.state().to_string();
    let name = pipe.pipe.clone();
    let label = pipe.pipe.clone();
    let href = format!("/pipes/{}", encode_segment(&pipe.pipe));
    let started = pipe.started;
    view! {
        <tr data-pipe=pipe.pipe.clone()>
            <td class="name"><A href=href>{label}</A></td>
            <td><span class=format!("badge {state}") data-realtime-state=state.clone()>{state.clone()}</span></td>
            <td class="instance" data-runs-on=pipe.runs_on.clone().unwrap_or_default()>{pipe.runs_on.clone().unwrap_or_else(|| "-".into())}</td>
            <td class="facts">{pipe.status.as_ref().and_then(|s| s.cursor.clone()).or(pipe.startpoint.clone()).unwrap_or_else(|| "no startpoint (step 9)".into())}</td>
            <td class="row-actions">
                <button type="button" class=if started { "secondary" } else { "primary" } disabled=move || toggle.pending().get()
                    on:click=move |_| { toggle.dispatch(SetRealtime { pipe: name.clone(), start: !started }); }>
                    {if started { "Stop" } else { "Start" }}
                </button>
            </td>
        </tr>
    }
}

/// `/pipes/:name`: state, rate, queue, backlog, position, last error, counters and a chart,
/// all pushed by the server every second.
#[component]
pub fn PipePage() -> impl IntoView {
    let params = use_params_map();
    let name = move || {
        params
            .read()
            .get("name")
            .map(|n| crate::pages::edit::percent_decode(&n))
            .unwrap_or_default()
    };
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    move || {
        let pipe = name();
        view! {
            <p class="crumb"><A href="/step/11">"Step 11 — Start realtime sync"</A></p>
            <h1 data-hydrated=move || hydrated.get().to_string()>{format!("Pipe “{pipe}”")}</h1>
            <LivePipe pipe=pipe.clone()/>
            <p><A href=format!("/rejections?pipe={}", encode_segment(&pipe))>"Rejected operations of this pipe →"</A></p>
            <PreviewForm pipe=pipe.clone()/>
        }
    }
}

#[component]
fn LivePipe(pipe: String) -> impl IntoView {
    let current = RwSignal::new(None::<PipeRealtime>);
    let samples = RwSignal::new(Vec::<f64>::new());
    #[cfg(feature = "hydrate")]
    crate::components::live::subscribe(
        &format!("/api/realtime/events?pipe={}", encode_segment(&pipe)),
        move |p: PipeRealtime| {
            let rate = p.status.as_ref().map_or(0.0, |s| s.ops_per_second);
            samples.update(|v| {
                v.push(rate);
                let excess = v.len().saturating_sub(60);
                v.drain(..excess);
            });
            current.set(Some(p));
            true
        },
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = (&pipe, samples);
    move || match current.get() {
        None => view! { <p class="help">"Connecting…"</p> }.into_any(),
        Some(p) => view! { <PipeStatus pipe=p samples=samples.get()/> }.into_any(),
    }
}

#[component]
fn PipeStatus(pipe: PipeRealtime, samples: Vec<f64>) -> impl IntoView {
    let state = pipe.state().to_string();
    let s: Option<RealtimeStatus> = pipe.status.clone();
    let c = s.as_ref().map(|s| s.counts).unwrap_or_default();
    let facts = [
        ("State", state.clone()),
        (
            "Changes per second",
            s.as_ref()
                .map_or("0".into(), |s| format!("{:.1}", s.ops_per_second)),
        ),
        (
            "Changes in flight",
            s.as_ref().map_or("0".into(), |s| s.queue.to_string()),
        ),
        (
            "Changelog backlog",
            s.as_ref()
                .and_then(RealtimeStatus::backlog_text)
                .unwrap_or_else(|| "not known".into()),
        ),
        (
            "New changes",
            s.as_ref()
                .map_or("-".into(), |s| s.arrival_text().to_owned()),
        ),
        (
            "Position",
            s.as_ref()
                .and_then(|s| s.cursor.clone())
                .or(pipe.startpoint.clone())
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "Runs on instance",
            pipe.runs_on.clone().unwrap_or_else(|| "none".into()),
        ),
        (
            "Last error",
            s.as_ref()
                .and_then(|s| {
                    let at = s.last_error_at.as_ref().map(readable_at);
                    s.last_error.clone().map(|e| match at {
                        Some(at) => format!("{e} (at {at})"),
                        None => e,
                    })
                })
                .unwrap_or_else(|| "none".into()),
        ),
        (
            "Updated",
            s.as_ref()
                .map_or("-".into(), |s| readable_at(&s.updated_at)),
        ),
    ];
    let counts = [
        ("changes", "Changes", c.changes),
        ("created", "Created", c.created),
        ("modified", "Modified", c.modified),
        ("deleted", "Deleted", c.deleted),
        ("deactivated", "Deactivated", c.deactivated),
        ("held", "Deletes held (this run)", c.held),
        ("in-sync", "In sync", c.in_sync),
        ("out-of-scope", "Out of scope", c.out_of_scope),
        ("skipped", "Not synchronized by class", c.skipped),
        ("dropped", "Dropped", c.dropped),
        ("rejected", "Rejected", c.rejected),
        ("retries", "Destination retries", c.retries),
        ("members-added", "Members added", c.members_added),
        ("members-removed", "Members removed", c.members_removed),
        (
            "references-out-of-scope",
            "References outside every class (dropped)",
            c.references_out_of_scope,
        ),
    ];
    let held = (pipe.held_deletes > 0).then(|| {
        let href = format!("/deletes?pipe={}", encode_segment(&pipe.pipe));
        view! {
            <p class="notice" data-deletes-held=pipe.held_deletes>
                {format!("Deletes held: {} — the pipe's deletion limit was reached; nothing more is deleted until an admin decides. ", pipe.held_deletes)}
                <A href=href>"Approve or discard them"</A>
            </p>
        }
    });
    view! {
        {held}
        <div class=format!("progress pipe-status {state}") data-state=state.clone() role="status">
            <table class="facts"><tbody>
                {facts.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td data-fact=k>{v}</td></tr> }).collect_view()}
            </tbody></table>
            <Chart samples/>
            <table class="counts"><tbody>
                {counts.into_iter().map(|(key, label, n)| view! { <tr><th>{label}</th><td data-count=key>{n}</td></tr> }).collect_view()}
            </tbody></table>
            <PendingList pending=pipe.pending.clone()/>
        </div>
    }
}

/// Changes per second over the last minute, as a line.
#[component]
fn Chart(samples: Vec<f64>) -> impl IntoView {
    let max = samples.iter().cloned().fold(1.0_f64, f64::max);
    let points: String = samples
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", i as f64 * 5.0, 60.0 - v / max * 56.0))
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <figure class="chart">
            <svg viewBox="0 0 300 62" preserveAspectRatio="none" role="img" aria-label="changes per second, last minute">
                <polyline points=points fill="none" stroke="currentColor" stroke-width="1.5"/>
            </svg>
            <figcaption>{format!("changes per second, last minute (peak {max:.1})")}</figcaption>
        </figure>
    }
}
