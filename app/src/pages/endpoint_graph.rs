//! Step 5: which endpoint mappings reference which through Reference mappings, and the order
//! resync writes them in (referenced endpoints first).

use crate::ConfigVersion;
use crate::api::endpoint_graph;
use leptos::prelude::*;

#[component]
pub fn EndpointGraph() -> impl IntoView {
    let version = expect_context::<ConfigVersion>();
    let graph = Resource::new(move || version.0.get(), |_| endpoint_graph());
    view! {
        <section class="references">
            <h2>"References between endpoints"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match graph.await {
                        Ok(g) if g.references.is_empty() => view! {
                            <p class="empty">"No endpoint references another yet. A Reference mapping (step 4) turns DNs such as group members or a manager into the SCIM ids of other synchronized entries."</p>
                        }.into_any(),
                        Ok(g) => view! {
                            <table class="objects" data-endpoint-references="">
                                <thead><tr><th>"Endpoint mapping"</th><th>"refers to"</th><th>"through"</th></tr></thead>
                                <tbody>
                                    {g.references.into_iter().map(|(from, to, via)| {
                                        let key = format!("{from}→{to}");
                                        view! { <tr data-reference=key><td>{from}</td><td>{to}</td><td>{via}</td></tr> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <p class="help">"Resync writes them in this order, so a reference finds its target already there:"</p>
                            <ol class="order" data-endpoint-order="">
                                {g.order.into_iter().map(|level| view! { <li>{level.join(", ")}</li> }).collect_view()}
                            </ol>
                            <p class="help">"Within one endpoint (nested groups, managers) an entry waits until the entries it refers to are written."</p>
                        }.into_any(),
                        Err(e) => view! { <p class="errors">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
