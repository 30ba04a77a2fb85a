//! The form for any object (or the global settings): loads the field list and values from
//! the server, keeps what the admin types, saves through the server's validation and shows
//! each error next to its field. Sources and SCIM servers also get "Test connection".

use crate::ConfigVersion;
use crate::api::{SaveObject, TestConnection, load_object_form};
use crate::model::{FormError, FormKind, FormValues, ObjectForm, ProbeOutcome};
use leptos::prelude::*;

#[component]
pub fn ObjectEditor(
    kind: FormKind,
    name: Option<String>,
    /// Called with the saved name; without it, the form resets for the next new object.
    #[prop(optional)]
    on_saved: Option<Callback<String>>,
) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let flash = RwSignal::new(None::<String>);
    let form = Resource::new(
        move || (kind, name.clone(), reload.get()),
        |(k, n, _)| load_object_form(k, n),
    );
    let saved = Callback::new(move |saved_name: String| match on_saved {
        Some(cb) => cb.run(saved_name),
        None => {
            flash.set(Some(if saved_name.is_empty() {
                "Saved.".to_owned()
            } else {
                format!("Saved “{saved_name}”.")
            }));
            reload.update(|r| *r += 1);
        }
    });
    view! {
        {move || flash.get().map(|m| view! { <p class="flash" role="status">{m}</p> })}
        <Suspense fallback=|| view! { <p>"Loading form…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(f) => view! { <EditorBody form=f on_saved=saved flash/> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EditorBody(
    form: ObjectForm,
    on_saved: Callback<String>,
    flash: RwSignal<Option<String>>,
) -> impl IntoView {
    let version = expect_context::<ConfigVersion>();
    let values: RwSignal<FormValues> = RwSignal::new(form.values.clone());
    let errors: RwSignal<Vec<FormError>> = RwSignal::new(vec![]);
    let save = ServerAction::<SaveObject>::new();
    let test = ServerAction::<TestConnection>::new();
    let editing = form.name.is_some();
    let (kind, original) = (form.kind, form.name.clone());

    Effect::new(move || {
        if let Some(result) = save.value().get() {
            match result {
                Ok(outcome) => match outcome.saved {
                    Some(saved) => {
                        errors.set(vec![]);
                        version.bump();
                        on_saved.run(saved);
                    }
                    None => errors.set(outcome.errors),
                },
                Err(e) => errors.set(vec![FormError {
                    field: None,
                    message: e.to_string(),
                }]),
            }
        }
    });
    Effect::new(move || {
        if let Some(Ok(outcome)) = test.value().get() {
            errors.set(outcome.errors.clone());
        }
    });

    let submit = {
        let original = original.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            flash.set(None);
            save.dispatch(SaveObject {
                kind,
                original: original.clone(),
                values: values.get_untracked(),
            });
        }
    };
    let run_test = {
        let original = original.clone();
        move |_| {
            // Only objects have a connection to test (the button shows for those alone).
            if let Some(kind) = kind.object() {
                test.dispatch(TestConnection {
                    kind,
                    original: original.clone(),
                    values: values.get_untracked(),
                });
            }
        }
    };
    let general_errors = move || {
        errors.with(|es| {
            es.iter()
                .filter(|e| e.field.is_none())
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
        })
    };
    let action_label = if editing {
        "Save changes"
    } else if form.kind == FormKind::GlobalSettings {
        "Save"
    } else {
        "Create"
    };

    view! {
        <form class="object-form" data-kind=form.kind.as_str() on:submit=submit novalidate>
            {move || {
                let list = general_errors();
                (!list.is_empty()).then(|| view! {
                    <div class="errors" role="alert">
                        <p>"Not saved:"</p>
                        <ul>{list.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                    </div>
                })
            }}
            {form.fields.into_iter().map(|spec| view! { <crate::components::field::Field spec values errors editing/> }).collect_view()}
            <div class="actions">
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { action_label }}
                </button>
                {form.testable.then(|| view! {
                    <button type="button" class="secondary" on:click=run_test.clone() disabled=move || test.pending().get()>
                        {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                    </button>
                })}
            </div>
            {move || test.value().get().map(|result| match result {
                Ok(outcome) => view! { <ProbeResult outcome/> }.into_any(),
                Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
            })}
        </form>
    }
}

#[component]
fn ProbeResult(outcome: ProbeOutcome) -> impl IntoView {
    if !outcome.errors.is_empty() && outcome.facts.is_empty() && outcome.problems.is_empty() {
        return view! { <div class="probe failed" data-probe="invalid"><p>"Fix the fields marked above first."</p></div> }.into_any();
    }
    let (class, headline) = match (outcome.reachable, outcome.problems.is_empty()) {
        (true, true) => ("probe ok", "Connected — ready."),
        (true, false) => ("probe warn", "Connected, with problems to fix:"),
        (false, _) => ("probe failed", "Connection failed:"),
    };
    view! {
        <div class=class data-probe=if outcome.reachable { "reachable" } else { "unreachable" } role="status">
            <p class="headline">{headline}</p>
            {(!outcome.problems.is_empty()).then(|| view! {
                <ul class="problems">{outcome.problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            })}
            {(!outcome.facts.is_empty()).then(|| view! {
                <table class="facts">
                    <tbody>
                        {outcome.facts.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
                    </tbody>
                </table>
            })}
        </div>
    }
    .into_any()
}
