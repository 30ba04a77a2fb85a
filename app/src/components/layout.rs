//! Page frame: header, the step list with each step's state, and the content.

use crate::ConfigVersion;
use crate::api::{setup_status, whoami};
use crate::model::{StepState, StepStatus};
use crate::steps::STEPS;
use leptos::prelude::*;
use leptos_router::components::A;

pub fn state_label(state: StepState) -> (&'static str, &'static str) {
    match state {
        StepState::Done => ("done", "✓"),
        StepState::Missing => ("missing", "•"),
        StepState::Optional => ("optional", "○"),
        StepState::Blocked => ("blocked", "–"),
    }
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let version = expect_context::<ConfigVersion>().0;
    let status = Resource::new(move || version.get(), |_| setup_status());
    provide_context(status);
    let who = Resource::new(|| (), |_| whoami());
    view! {
        <header class="top">
            <A href="/"><span class="brand">"scimsync"</span></A>
            <span class="tagline">"LDAP → SCIM 2.0 synchronization"</span>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    who.await.ok().flatten().map(|u| {
                        view! {
                        <span class="who" data-role=u.role.as_str()>{u.username}" · "{u.role.as_str()}</span>
                        <form method="post" action="/logout" class="sign-out">
                            <button type="submit" class="secondary">"Sign out"</button>
                        </form>
                        }
                    })
                })}
            </Transition>
        </header>
        <div class="frame">
            <nav class="steps" aria-label="Setup steps">
                <h2>"Setup"</h2>
                <ol>
                    <Transition fallback=|| view! { <li>"Loading…"</li> }>
                        {move || Suspend::new(async move {
                            let list = status.await.unwrap_or_default();
                            STEPS
                                .iter()
                                .map(|s| {
                                    let st: Option<StepStatus> = list.iter().find(|x| x.number == s.number).cloned();
                                    let (class, mark) = st.as_ref().map(|x| state_label(x.state)).unwrap_or(("unknown", "?"));
                                    view! {
                                        <li class=format!("step {class}") data-step=s.number data-state=class>
                                            <A href=format!("/step/{}", s.number)>
                                                <span class="mark" aria-hidden="true">{mark}</span>
                                                <span class="num">{s.number}</span>
                                                <span class="title">{s.title}</span>
                                            </A>
                                        </li>
                                    }
                                })
                                .collect_view()
                        })}
                    </Transition>
                </ol>
                <h2>"Operations"</h2>
                <ol class="operations">
                    <li><A href="/step/11">"Pipes and realtime sync"</A></li>
                    <li><A href="/log">"Log of changes"</A></li>
                    <li><A href="/rejections">"Rejected operations"</A></li>
                    <li><A href="/deletes">"Held deletes"</A></li>
                    <li><A href="/preview">"Preview one entry"</A></li>
                    <li><A href="/audit">"Audit log"</A></li>
                </ol>
            </nav>
            <main class="content">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        who.await.ok().flatten().filter(|u| u.role == crate::model::Role::Viewer).map(|_| view! {
                            <p class="notice viewer-notice" role="note">
                                "You are signed in as a viewer: you can watch everything here, but changes are refused."
                            </p>
                        })
                    })}
                </Transition>
                {children()}
            </main>
        </div>
    }
}
