//! What an admin sees of references: a rejection's details with the entries waiting for it,
//! and a pipe's pending references.

use crate::model::{PendingReferences, RejectionView};
use leptos::prelude::*;

/// What was read, sent and answered for a rejected operation, and who waits for the entry.
#[component]
pub fn RejectionDetail(rejection: RejectionView) -> impl IntoView {
    let r = rejection;
    let waiting = (!r.waiting.is_empty()).then(|| {
        view! {
            <h4>"Waiting for this entry"</h4>
            <p class="help">"Their references to it are pending: they gain it once this entry synchronizes."</p>
            <ul class="waiting" data-waiting="">
                {r.waiting.iter().map(|dn| view! { <li><code>{dn.clone()}</code></li> }).collect_view()}
            </ul>
        }
    });
    view! {
        <p class="help">{r.created_at.clone()}</p>
        <h4>"Source"</h4><pre>{r.source.clone()}</pre>
        {r.request.clone().map(|q| view! { <h4>"SCIM request"</h4><pre>{q}</pre> })}
        {r.response.clone().map(|q| view! { <h4>"SCIM response"</h4><pre>{q}</pre> })}
        {waiting}
    }
}

/// How many references wait for their target's resource, and the oldest of them.
#[component]
pub fn PendingList(pending: PendingReferences) -> impl IntoView {
    let count = pending.count;
    view! {
        <div class="pending" data-pending-references=count>
            <h3>{format!("Pending references: {count}")}</h3>
            {if count == 0 {
                view! { <p class="help">"Every reference points at a resource that exists."</p> }.into_any()
            } else {
                view! {
                    <p class="help">"Written without these targets, which are not at the destination (created later, or rejected). They are added when the target's resource is created."</p>
                    <table class="objects">
                        <thead><tr><th>"Entry"</th><th>"Mapping"</th><th>"Waits for"</th><th>"Since"</th></tr></thead>
                        <tbody>
                            {pending.oldest.into_iter().map(|p| view! {
                                <tr><td><code>{p.referrer}</code></td><td>{p.mapping}</td><td><code>{p.target}</code></td><td>{p.since}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </div>
    }
}
