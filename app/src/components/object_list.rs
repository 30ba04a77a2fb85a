//! The objects of one kind, with edit links and a two-click delete that the server refuses
//! while other objects still use the object.

use crate::ConfigVersion;
use crate::api::{DeleteObject, list_objects};
use crate::model::{ObjectKind, ObjectSummary, encode_segment};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn ObjectList(kind: ObjectKind, step: u8, label: &'static str) -> impl IntoView {
    let version = expect_context::<ConfigVersion>();
    let list = Resource::new(move || (kind, version.0.get()), |(k, _)| list_objects(k));
    let delete = ServerAction::<DeleteObject>::new();
    let refusal = RwSignal::new(None::<String>);
    Effect::new(move || match delete.value().get() {
        Some(Ok(None)) => {
            refusal.set(None);
            version.bump();
        }
        Some(Ok(Some(reason))) => refusal.set(Some(reason)),
        Some(Err(e)) => refusal.set(Some(e.to_string())),
        None => {}
    });
    view! {
        {move || refusal.get().map(|r| view! { <p class="errors" role="alert" data-delete-refused="">{r}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(items) if items.is_empty() => view! { <p class="empty">"No " {label} " yet."</p> }.into_any(),
                    Ok(items) => view! {
                        <table class="objects">
                            <thead><tr><th>"Name"</th><th>"Details"</th><th>"Used by"</th><th></th></tr></thead>
                            <tbody>
                                {items.into_iter().map(|item| view! { <Row item kind step delete/> }).collect_view()}
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
fn Row(
    item: ObjectSummary,
    kind: ObjectKind,
    step: u8,
    delete: ServerAction<DeleteObject>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let name = item.name.clone();
    let used = if item.used_by.is_empty() {
        "—".to_owned()
    } else {
        item.used_by.join(", ")
    };
    view! {
        <tr data-object=item.name.clone()>
            <td class="name">{item.name.clone()}</td>
            <td class="facts">{item.facts.into_iter().map(|f| view! { <span class="fact">{f}</span> }).collect_view()}</td>
            <td class="used-by">{used}</td>
            <td class="row-actions">
                <A href=format!("/step/{step}/edit/{}", encode_segment(&item.name))>"Edit"</A>
                {move || {
                    let name = name.clone();
                    if confirming.get() {
                        view! {
                            <button type="button" class="danger" on:click=move |_| {
                                confirming.set(false);
                                delete.dispatch(DeleteObject { kind, name: name.clone() });
                            }>"Confirm delete"</button>
                            <button type="button" class="link" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        }
                        .into_any()
                    } else {
                        view! { <button type="button" class="link" on:click=move |_| confirming.set(true)>"Delete"</button> }.into_any()
                    }
                }}
            </td>
        </tr>
    }
}
