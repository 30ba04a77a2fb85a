//! Step 10: start a resync per pipe and watch it live (server-sent events, no reload).

use crate::ConfigVersion;
use crate::api::{StartResync, resync_pipes};
use crate::components::preview_form::PreviewForm;
use crate::components::references::{PendingList, RejectionDetail};
use crate::model::{PipeResync, RejectionView, ResyncStatus, readable_at};
use leptos::prelude::*;

#[component]
pub fn ResyncPage() -> impl IntoView {
    let version = expect_context::<ConfigVersion>();
    let pipes = Resource::new(move || version.0.get(), |_| resync_pipes());
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match pipes.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"Create a sync pipe first (step 7)."</p> }.into_any(),
                    Ok(list) => list.into_iter().map(|p| view! { <PipePanel pipe=p/> }).collect_view().into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PipePanel(pipe: PipeResync) -> impl IntoView {
    let status = RwSignal::new(pipe.last.clone());
    let dry_run = RwSignal::new(false);
    let delete_missing = RwSignal::new(false);
    let rate = RwSignal::new(String::new());
    let filter = RwSignal::new(String::new());
    let start = ServerAction::<StartResync>::new();
    let refusal = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    live::follow(pipe.pipe.clone(), status);
    Effect::new(move || {
        if let Some(result) = start.value().get() {
            match result {
                Ok(outcome) if outcome.started => {
                    refusal.set(None);
                    // Show the new run at once; the event stream fills in its counts.
                    status.set(Some(ResyncStatus {
                        pipe: String::new(),
                        running: true,
                        dry_run: dry_run.get_untracked(),
                        started_at: Default::default(),
                        finished_at: None,
                        counts: Default::default(),
                        error: None,
                    }));
                }
                Ok(outcome) => refusal.set(Some(outcome.message)),
                Err(e) => refusal.set(Some(e.to_string())),
            }
        }
    });
    let name = pipe.pipe.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        start.dispatch(StartResync {
            pipe: name.clone(),
            dry_run: dry_run.get_untracked(),
            rate: rate.get_untracked(),
            filter: filter.get_untracked(),
            delete_missing: delete_missing.get_untracked(),
        });
    };
    let running = move || status.with(|s| s.as_ref().is_some_and(|s| s.running));
    view! {
        <section class="resync" data-pipe=pipe.pipe.clone()>
            <h2>{pipe.pipe.clone()}</h2>
            <p class="help">{format!("From “{}” to “{}”", pipe.source, pipe.destination)}</p>
            <PreviewForm pipe=pipe.pipe.clone()/>
            <form on:submit=submit class="resync-form">
                <label class="check">
                    <input type="checkbox" name="dry-run" prop:checked=move || dry_run.get() on:change=move |ev| dry_run.set(event_target_checked(&ev))/>
                    <span>"Dry run — report what would change, change nothing"</span>
                </label>
                <label class="check">
                    <input type="checkbox" name="delete-missing" prop:checked=move || delete_missing.get() on:change=move |ev| delete_missing.set(event_target_checked(&ev))/>
                    <span>"Delete missing — afterwards, remove the resources scimsync manages whose entries are gone or out of scope (the pipe's deletion limit applies)"</span>
                </label>
                <div class="field">
                    <label>"Rate limit (SCIM operations per second)"</label>
                    <input type="text" name="rate" inputmode="numeric" placeholder="the pipe's maximum" prop:value=move || rate.get()
                        on:input=move |ev| rate.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label>"Only entries matching (LDAP filter)"</label>
                    <input type="text" name="filter" placeholder="(uid=*)" prop:value=move || filter.get()
                        on:input=move |ev| filter.set(event_target_value(&ev))/>
                </div>
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || running() || start.pending().get()>
                        {move || if running() { "Resync running…" } else { "Start resync" }}
                    </button>
                </div>
                {move || refusal.get().map(|r| view! { <p class="errors" role="alert">{r}</p> })}
            </form>
            {move || status.get().map(|s| view! { <Progress status=s/> })}
            <PendingList pending=pipe.pending.clone()/>
            <Rejections list=pipe.rejections.clone()/>
        </section>
    }
}

#[component]
fn Progress(status: ResyncStatus) -> impl IntoView {
    let c = status.counts;
    let state = match (status.running, &status.error) {
        (true, _) => "running",
        (false, Some(_)) => "failed",
        (false, None) => "finished",
    };
    let headline = match (status.running, &status.error, status.dry_run) {
        (true, _, true) => "Dry run in progress".to_owned(),
        (true, _, false) => "Resync in progress".to_owned(),
        (false, Some(e), _) => format!("Stopped: {e}"),
        (false, None, true) => format!(
            "Dry run finished {} — nothing was changed",
            status
                .finished_at
                .as_ref()
                .map(readable_at)
                .unwrap_or_default()
        ),
        (false, None, false) => format!(
            "Finished {}",
            status
                .finished_at
                .as_ref()
                .map(readable_at)
                .unwrap_or_default()
        ),
    };
    let (created, modified) = if status.dry_run {
        ("Would create", "Would modify")
    } else {
        ("Created", "Modified")
    };
    let rows = [
        ("retrieved", "Retrieved", c.retrieved),
        ("created", created, c.created),
        ("modified", modified, c.modified),
        ("in-sync", "In sync", c.in_sync),
        ("out-of-scope", "Out of scope", c.out_of_scope),
        ("skipped", "Not synchronized by class", c.skipped),
        ("rejected", "Rejected", c.rejected),
        (
            "deleted",
            if status.dry_run {
                "Missing: would delete"
            } else {
                "Missing: deleted"
            },
            c.deleted,
        ),
        (
            "deactivated",
            if status.dry_run {
                "Missing: would deactivate"
            } else {
                "Missing: deactivated"
            },
            c.deactivated,
        ),
        ("held", "Missing: deletes held", c.held),
        ("members-added", "Members added", c.members_added),
        ("members-removed", "Members removed", c.members_removed),
        (
            "references-out-of-scope",
            "References outside every class (dropped)",
            c.references_out_of_scope,
        ),
        (
            "references-pending",
            "References written without their target",
            c.references_pending,
        ),
    ];
    view! {
        <div class=format!("progress {state}") data-state=state role="status">
            <p class="headline">{headline}</p>
            {(c.expected > 0).then(|| view! { <progress max=c.expected value=c.processed().min(c.expected)></progress> })}
            <p class="help">{format!("{} of {} entries processed", c.processed(), c.expected)}</p>
            {c.finished.then(|| view! { <p class="help" data-testid="resync-paths">{c.paths_text()}</p> })}
            <table class="counts">
                <tbody>
                    {rows.into_iter().map(|(key, label, n)| view! { <tr><th>{label}</th><td data-count=key>{n}</td></tr> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Rejections(list: Vec<RejectionView>) -> impl IntoView {
    (!list.is_empty()).then(|| {
        view! {
            <h3>"Newest rejected operations"</h3>
            <ul class="rejections">
                {list.into_iter().map(|r| view! {
                    <li data-rejected-dn=r.dn.clone()>
                        <details>
                            <summary><code>{r.dn.clone()}</code> " — " {r.operation.as_str()} ": " {r.reason.clone()}</summary>
                            <RejectionDetail rejection=r.clone()/>
                        </details>
                    </li>
                }).collect_view()}
            </ul>
        }
    })
}

/// Following a running resync through `/api/resync/events` (browser only).
#[cfg(feature = "hydrate")]
mod live {
    use crate::ConfigVersion;
    use crate::model::{ResyncStatus, encode_segment};
    use leptos::prelude::*;
    use std::cell::Cell;
    use std::rc::Rc;

    pub fn follow(pipe: String, status: RwSignal<Option<ResyncStatus>>) {
        let version = expect_context::<ConfigVersion>();
        let following = Rc::new(Cell::new(false));
        // The subscription belongs to the component, not to the effect: an effect's cleanups run
        // each time it re-runs, which would close the stream at its first message.
        let owner = Owner::current();
        Effect::new(move || {
            let running = status.with(|s| s.as_ref().is_some_and(|s| s.running));
            if !running || following.get() {
                return;
            }
            following.set(true);
            let following = following.clone();
            let pipe = pipe.clone();
            let subscribe = move || {
                crate::components::live::subscribe(
                    &format!("/api/resync/events?pipe={}", encode_segment(&pipe)),
                    move |view: Option<ResyncStatus>| {
                        let finished = view.as_ref().is_none_or(|v| !v.running);
                        if view.is_some() {
                            status.try_set(view);
                        }
                        if finished {
                            following.set(false);
                            // Refresh the step list and the rejections.
                            version.bump();
                        }
                        !finished
                    },
                )
            };
            match &owner {
                Some(owner) => owner.with(subscribe),
                None => subscribe(),
            }
        });
    }
}
