//! Step 9: set where each pipe's realtime sync starts in its changelog.

use crate::ConfigVersion;
use crate::api::{SetStartpoint, pipe_startpoints};
use crate::model::PipeStartpoint;
use leptos::prelude::*;

/// The outcome of the last "Set startpoint", by pipe. Kept here, above the forms, because a
/// success refreshes the pipe list and so rebuilds the forms.
#[derive(Clone, Copy)]
struct LastOutcome {
    action: ServerAction<SetStartpoint>,
    pipe: RwSignal<Option<String>>,
}

#[component]
pub fn StartpointPanel() -> impl IntoView {
    let version = expect_context::<ConfigVersion>();
    let pipes = Resource::new(move || version.0.get(), |_| pipe_startpoints());
    let last = LastOutcome {
        action: ServerAction::<SetStartpoint>::new(),
        pipe: RwSignal::new(None),
    };
    provide_context(last);
    Effect::new(move || {
        if let Some(Ok(outcome)) = last.action.value().get()
            && outcome.ok
        {
            version.bump();
        }
    });
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match pipes.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"Create a sync pipe first (step 7)."</p> }.into_any(),
                    Ok(list) => list.into_iter().map(|p| view! { <PipeStartpointForm pipe=p/> }).collect_view().into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PipeStartpointForm(pipe: PipeStartpoint) -> impl IntoView {
    let last = expect_context::<LastOutcome>();
    let action = last.action;
    let position = RwSignal::new("end".to_owned());
    let change_number = RwSignal::new(String::new());
    let time = RwSignal::new(String::new());
    let name = pipe.pipe.clone();
    let mine = {
        let name = name.clone();
        move || last.pipe.get().as_deref() == Some(name.as_str())
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        last.pipe.set(Some(name.clone()));
        action.dispatch(SetStartpoint {
            pipe: name.clone(),
            position: position.get_untracked(),
            change_number: change_number.get_untracked(),
            time: time.get_untracked(),
        });
    };
    let radio_group = format!("position-{}", pipe.pipe);
    let option = move |value: &'static str, label: &'static str| {
        view! {
            <label class="check">
                <input type="radio" name=radio_group.clone() value=value prop:checked=move || position.get() == value
                    on:change=move |_| position.set(value.to_owned())/>
                <span>{label}</span>
            </label>
        }
    };
    view! {
        <form class="startpoint" data-pipe=pipe.pipe.clone() on:submit=submit>
            <h2>{pipe.pipe.clone()}</h2>
            <p class="help">{format!("Source “{}”, {}", pipe.source, pipe.changelog)}</p>
            <p class="current" data-current="">
                {match pipe.current.clone() {
                    Some(c) => format!("Current startpoint — {c}"),
                    None => "No startpoint set yet.".to_owned(),
                }}
            </p>
            <div class="field">
                {option("end", "End of changelog (skip every change made so far)")}
                {option("beginning", "Beginning of changelog")}
                {option("change-number", "Change number")}
                {option("time", "Time (UTC)")}
            </div>
            {move || (position.get() == "change-number").then(|| view! {
                <div class="field"><label>"Change number"</label>
                    <input type="text" name="change-number" inputmode="numeric" prop:value=move || change_number.get()
                        on:input=move |ev| change_number.set(event_target_value(&ev))/></div>
            })}
            {move || (position.get() == "time").then(|| view! {
                <div class="field"><label>"Time"</label>
                    <input type="text" name="time" placeholder="2026-11-23 10:00" prop:value=move || time.get()
                        on:input=move |ev| time.set(event_target_value(&ev))/></div>
            })}
            <div class="actions">
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Reading changelog…" } else { "Set startpoint" }}
                </button>
            </div>
            {move || action.value().get().filter(|_| mine()).map(|r| match r {
                Ok(o) => view! { <p class=if o.ok { "flash" } else { "errors" } role="status">{o.message}</p> }.into_any(),
                Err(e) => view! { <p class="errors">{e.to_string()}</p> }.into_any(),
            })}
        </form>
    }
}
