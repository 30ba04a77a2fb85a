//! One setup step: what it is for, the objects created so far, and the form for a new one.

use crate::components::object_editor::ObjectEditor;
use crate::components::object_list::ObjectList;
use crate::model::FormKind;
use crate::steps::{STEPS, Step, step};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn StepPage() -> impl IntoView {
    let params = use_params_map();
    move || {
        let number = params
            .read()
            .get("number")
            .and_then(|n| n.parse::<u8>().ok());
        match number.and_then(step) {
            Some(s) => view! { <StepBody step=s/> }.into_any(),
            None => view! { <super::not_found::NotFound/> }.into_any(),
        }
    }
}

#[component]
fn StepBody(step: &'static Step) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let body = match (step.number, step.kind) {
        (_, Some(kind)) => {
            let label = kind.plural();
            view! {
                <section class="existing">
                    <h2>{capitalise(label)}</h2>
                    <ObjectList kind step=step.number label/>
                </section>
                {(step.number == 5).then(|| view! { <super::endpoint_graph::EndpointGraph/> })}
                <section class="create">
                    <h2>"New " {kind.singular()}</h2>
                    <ObjectEditor kind=kind.into() name=None/>
                </section>
            }
            .into_any()
        }
        (2, None) => {
            view! { <section><ObjectEditor kind=FormKind::GlobalSettings name=None/></section> }
                .into_any()
        }
        (9, None) => view! { <super::startpoint::StartpointPanel/> }.into_any(),
        (10, None) => view! { <super::resync::ResyncPage/> }.into_any(),
        (11, None) => view! { <super::realtime::RealtimePanel/> }.into_any(),
        // Every step without an object kind has its own panel above.
        _ => view! { <super::not_found::NotFound/> }.into_any(),
    };
    let prev = (step.number > 1).then(|| &STEPS[step.number as usize - 2]);
    let next = STEPS.get(step.number as usize);
    view! {
        <p class="crumb">"Step " {step.number} " of 11"</p>
        <h1 data-hydrated=move || hydrated.get().to_string()>{step.title}</h1>
        <p class="lead">{step.intro}</p>
        {body}
        <nav class="pager">
            {prev.map(|p| view! { <A href=format!("/step/{}", p.number)>{format!("← {}. {}", p.number, p.title)}</A> })}
            <span></span>
            {next.map(|n| view! { <A href=format!("/step/{}", n.number)>{format!("{}. {} →", n.number, n.title)}</A> })}
        </nav>
    }
}

fn capitalise(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
