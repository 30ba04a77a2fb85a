//! Home. Until a pipe is configured (steps 1–8): the eleven steps with what is done and what
//! is missing. Then: the operations overview — each pipe at a glance, live — with the steps
//! on `/setup`.

use crate::components::layout::state_label;
use crate::model::{
    PipeOverview, StepState, StepStatus, encode_segment, readable_at, readable_seconds,
};
use crate::steps::STEPS;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Overview() -> impl IntoView {
    let status = expect_context::<Resource<Result<Vec<StepStatus>, ServerFnError>>>();
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(steps) if configured(&steps) => view! { <Operations/> }.into_any(),
                    Ok(steps) => view! { <Steps steps/> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Steps 1–8 are done: a pipe exists with its source, destination and classes. Steps 9–11
/// are running it, which the overview is for.
fn configured(steps: &[StepStatus]) -> bool {
    steps
        .iter()
        .filter(|s| s.number <= 8)
        .all(|s| matches!(s.state, StepState::Done | StepState::Optional))
}

/// `/setup`: the eleven steps, whatever the state of setup.
#[component]
pub fn SetupPage() -> impl IntoView {
    let status = expect_context::<Resource<Result<Vec<StepStatus>, ServerFnError>>>();
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(steps) => view! { <Steps steps/> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Steps(steps: Vec<StepStatus>) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let next = steps
        .iter()
        .find(|s| s.state == StepState::Missing)
        .map(|s| s.number);
    view! {
        <h1 data-hydrated=move || hydrated.get().to_string()>"Set up synchronization"</h1>
        <p class="lead">
            "Eleven steps connect an LDAP directory to a SCIM 2.0 service. Work through them in order; "
            "each can be revisited at any time."
        </p>
        {next.map(|n| view! {
            <p class="next">"Next: " <A href=format!("/step/{n}")>{format!("step {n} — {}", STEPS[n as usize - 1].title)}</A></p>
        })}
        <ol class="cards">
            {STEPS.iter().map(|s| {
                let st = steps.iter().find(|x| x.number == s.number).cloned();
                let (class, mark) = st.as_ref().map(|x| state_label(x.state)).unwrap_or(("unknown", "?"));
                view! {
                    <li class=format!("card {class}") data-step=s.number data-state=class>
                        <A href=format!("/step/{}", s.number)>
                            <span class="mark">{mark}</span>
                            <span class="num">{s.number}</span>
                            <span class="title">{s.title}</span>
                        </A>
                        <p class="summary">{st.map(|x| x.summary).unwrap_or_default()}</p>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// Each pipe at a glance, kept up to date by /api/overview/events.
#[component]
fn Operations() -> impl IntoView {
    let pipes = RwSignal::new(None::<Vec<PipeOverview>>);
    let first = Resource::new(|| (), |_| crate::api::pipes_overview());
    #[cfg(feature = "hydrate")]
    crate::components::live::subscribe("/api/overview/events", move |list: Vec<PipeOverview>| {
        pipes.set(Some(list));
        true
    });
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! {
        <h1 data-hydrated=move || hydrated.get().to_string()>"Operations"</h1>
        <p class="lead">"Every pipe at a glance, live. " <A href="/setup">"Setup steps →"</A></p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let initial = first.await;
                move || match pipes.get().map(Ok).unwrap_or_else(|| initial.clone()) {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No sync pipes yet."</p> }.into_any(),
                    Ok(list) => view! { <PipeCards list/> }.into_any(),
                    Err(e) => view! { <p class="errors">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PipeCards(list: Vec<PipeOverview>) -> impl IntoView {
    view! {
        <div class="pipe-cards">
            {list.into_iter().map(|p| view! { <PipeCard pipe=p/> }).collect_view()}
        </div>
    }
}

#[component]
fn PipeCard(pipe: PipeOverview) -> impl IntoView {
    let name = pipe.realtime.pipe.clone();
    let data_pipe = name.clone();
    let segment = encode_segment(&name);
    let state = pipe.realtime.state().to_string();
    let status = pipe.realtime.status.clone();
    let lag = status
        .as_ref()
        .and_then(|s| s.lag_seconds)
        .map_or("not known".to_owned(), |l| format!("{l:.1} s"));
    let per_second = pipe.changes_last_hour as f64 / 3600.0;
    let facts: Vec<(&str, &str, String, Option<String>)> = vec![
        (
            "state",
            "Realtime sync",
            state.clone(),
            Some(format!("/pipes/{segment}")),
        ),
        (
            "runs-on",
            "Runs on",
            pipe.realtime
                .runs_on
                .clone()
                .unwrap_or_else(|| "no instance".into()),
            None,
        ),
        ("lag", "Changelog lag", lag, None),
        (
            "changes-last-hour",
            "Changes, last hour",
            format!("{} ({per_second:.2}/s)", pipe.changes_last_hour),
            Some(format!("/log?pipe={segment}")),
        ),
        (
            "rejections",
            "Open rejections",
            pipe.rejections_open.to_string(),
            Some(format!("/rejections?pipe={segment}")),
        ),
        (
            "held-deletes",
            "Held deletes",
            pipe.realtime.held_deletes.to_string(),
            Some(format!("/deletes?pipe={segment}")),
        ),
        (
            "pending-references",
            "Pending references",
            pipe.realtime.pending.count.to_string(),
            Some(format!("/pipes/{segment}")),
        ),
    ];
    view! {
        <section class="card pipe-card" data-pipe=data_pipe>
            <h2><A href=format!("/pipes/{segment}")>{name}</A> " " <span class=format!("badge {state}")>{state.clone()}</span></h2>
            <table class="facts"><tbody>
                {facts.into_iter().map(|(key, label, value, href)| view! {
                    <tr><th>{label}</th><td data-fact=key>{match href {
                        Some(href) => view! { <A href=href>{value}</A> }.into_any(),
                        None => value.into_any(),
                    }}</td></tr>
                }).collect_view()}
            </tbody></table>
            <ResyncCard pipe=pipe/>
        </section>
    }
}

#[component]
fn ResyncCard(pipe: PipeOverview) -> impl IntoView {
    let link = format!("/step/10#{}", encode_segment(&pipe.realtime.pipe));
    let Some(status) = pipe.resync.clone() else {
        return view! { <div class="resync-card" data-resync="none"><p>"No resync yet. " <A href=link>"Resync →"</A></p></div> }.into_any();
    };
    let c = status.counts;
    let (rate, left) = pipe.resync_pace().unwrap_or((0.0, None));
    let seconds = pipe.resync_seconds.unwrap_or_default();
    let headline = if status.running {
        let left = left.map_or("estimating".to_owned(), |l| {
            format!("about {} left", readable_seconds(l))
        });
        format!(
            "Resync running for {}: {} of {} entries, {rate:.0} entries/s, {left}",
            readable_seconds(seconds),
            c.processed(),
            c.expected
        )
    } else {
        let when = status
            .finished_at
            .as_ref()
            .map(readable_at)
            .unwrap_or_default();
        let how = match &status.error {
            Some(e) => format!("stopped: {e}"),
            None if status.dry_run => "dry run".to_owned(),
            None => "finished".to_owned(),
        };
        format!(
            "Last resync {when} ({how}): took {}, {rate:.0} entries/s",
            readable_seconds(seconds)
        )
    };
    let counts = [
        ("created", "created", c.created),
        ("modified", "modified", c.modified),
        ("in-sync", "in sync", c.in_sync),
        ("rejected", "rejected", c.rejected),
        ("deleted", "deleted (missing)", c.deleted),
    ];
    view! {
        <div class="resync-card" data-resync=if status.running { "running" } else { "finished" }>
            <p class="headline" data-resync-headline="">{headline} " " <A href=link>"Resync →"</A></p>
            {(c.expected > 0).then(|| view! { <progress max=c.expected value=c.processed().min(c.expected)></progress> })}
            <p class="help">
                {counts.into_iter().enumerate().map(|(i, (key, label, n))| view! {
                    {(i > 0).then_some(" · ")}
                    <span data-resync-count=key>{format!("{n} {label}")}</span>
                }).collect_view()}
            </p>
        </div>
    }
    .into_any()
}
