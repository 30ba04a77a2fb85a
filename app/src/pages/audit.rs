//! `/audit`: who changed what and when, newest first (secret values are never recorded).

use crate::api::audit_entries;
use leptos::prelude::*;

#[component]
pub fn AuditPage() -> impl IntoView {
    let entries = Resource::new(|| (), |_| audit_entries(500));
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! {
        <h1 data-hydrated=move || hydrated.get().to_string()>"Audit log"</h1>
        <p class="lead">"Every change made in this console or with the command line: who, when, what. Secret values are never recorded."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Err(e) => view! { <div class="errors"><p>{e.to_string()}</p></div> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"Nothing recorded yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="audit">
                            <thead><tr><th>"When (UTC)"</th><th>"Who"</th><th>"Action"</th><th>"On"</th><th>"Details"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|e| view! {
                                    <tr>
                                        <td>{e.at.replace('T', " ").trim_end_matches('Z').to_owned()}</td>
                                        <td>{e.actor}</td>
                                        <td>{e.action}</td>
                                        <td>{e.target}</td>
                                        <td>{e.detail}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
