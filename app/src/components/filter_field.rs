//! One text field of a list page's filters (rejections, log of changes).

use leptos::prelude::*;

#[component]
pub fn FilterField(
    label: &'static str,
    name: &'static str,
    #[prop(default = "")] placeholder: &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label>{label}</label>
            <input type="text" name=name placeholder=placeholder prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
        </div>
    }
}
