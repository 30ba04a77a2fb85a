//! Home: the eleven steps with what is done and what is missing.

use crate::components::layout::state_label;
use crate::model::{StepState, StepStatus};
use crate::steps::STEPS;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Overview() -> impl IntoView {
    let status = expect_context::<Resource<Result<Vec<StepStatus>, ServerFnError>>>();
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! {
        <h1 data-hydrated=move || hydrated.get().to_string()>"Set up synchronization"</h1>
        <p class="lead">
            "Eleven steps connect an LDAP directory to a SCIM 2.0 service. Work through them in order; "
            "each can be revisited at any time."
        </p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let list = match status.await {
                    Ok(l) => l,
                    Err(e) => return view! { <p class="error">{e.to_string()}</p> }.into_any(),
                };
                let next = list.iter().find(|s| s.state == StepState::Missing).map(|s| s.number);
                view! {
                    {next.map(|n| view! {
                        <p class="next">"Next: " <A href=format!("/step/{n}")>{format!("step {n} — {}", STEPS[n as usize - 1].title)}</A></p>
                    })}
                    <ol class="cards">
                        {STEPS.iter().map(|s| {
                            let st = list.iter().find(|x| x.number == s.number).cloned();
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
                .into_any()
            })}
        </Transition>
    }
}
