//! One form field: its label, help, input widget and any errors reported for it.

use crate::model::{CLEAR_SUFFIX, FieldSpec, FormError, FormValues, Widget};
use leptos::prelude::*;

#[component]
pub fn Field(
    spec: FieldSpec,
    values: RwSignal<FormValues>,
    errors: RwSignal<Vec<FormError>>,
    editing: bool,
) -> impl IntoView {
    let visible_spec = spec.clone();
    move || {
        if !values.with(|v| visible_spec.visible(v)) {
            return None;
        }
        Some(render(spec.clone(), values, errors, editing))
    }
}

fn render(
    spec: FieldSpec,
    values: RwSignal<FormValues>,
    errors: RwSignal<Vec<FormError>>,
    editing: bool,
) -> impl IntoView {
    let key = spec.key.clone();
    let id = format!("field-{}", key.replace('.', "-"));
    let value = {
        let key = key.clone();
        move || values.with(|v| v.get(&key).cloned().unwrap_or_default())
    };
    let set = {
        let key = key.clone();
        move |text: String| {
            values.update(|v| {
                v.insert(key.clone(), text);
            })
        }
    };
    let my_errors = {
        let key = key.clone();
        move || {
            errors.with(|es| {
                es.iter()
                    .filter(|e| e.field.as_deref() == Some(key.as_str()))
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
            })
        }
    };
    let has_error = {
        let my_errors = my_errors.clone();
        move || !my_errors().is_empty()
    };
    let locked = spec.create_only && editing;
    let input = match spec.widget.clone() {
        Widget::Text { placeholder } | Widget::Number { placeholder } => view! {
            <input type="text" id=id.clone() name=key.clone() placeholder=placeholder disabled=locked
                inputmode=if matches!(spec.widget, Widget::Number { .. }) { "numeric" } else { "text" }
                prop:value=value.clone() on:input=move |ev| set(event_target_value(&ev))/>
        }
        .into_any(),
        Widget::Lines { placeholder } => view! {
            <textarea id=id.clone() name=key.clone() rows="3" placeholder=placeholder
                prop:value=value.clone() on:input=move |ev| set(event_target_value(&ev))></textarea>
        }
        .into_any(),
        Widget::Checkbox => {
            let checked = value.clone();
            view! {
                <input type="checkbox" id=id.clone() name=key.clone() prop:checked=move || checked() == "true"
                    on:change=move |ev| set(if event_target_checked(&ev) { "true".into() } else { "false".into() })/>
            }
            .into_any()
        }
        Widget::Select { choices } => {
            let current = value.clone();
            view! {
                <select id=id.clone() name=key.clone() prop:value=value.clone() on:change=move |ev| set(event_target_value(&ev))>
                    {choices.into_iter().map(|c| {
                        let current = current.clone();
                        let v = c.value.clone();
                        view! { <option value=c.value selected=move || current() == v>{c.label}</option> }
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
        Widget::MultiCheck { choices } => {
            let order: Vec<String> = choices.iter().map(|c| c.value.clone()).collect();
            let group_name = key.clone();
            view! {
                <div class="multi" id=id.clone() role="group">
                    {choices.into_iter().map(|c| {
                        let (current, set, order) = (value.clone(), set.clone(), order.clone());
                        let v = c.value.clone();
                        let is_on = move || current().lines().any(|l| l == v);
                        let toggle_value = c.value.clone();
                        let read = value.clone();
                        view! {
                            <label class="check">
                                <input type="checkbox" name=group_name.clone() value=c.value.clone() prop:checked=is_on
                                    on:change=move |ev| {
                                        let mut chosen: Vec<String> = read().lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
                                        chosen.retain(|x| x != &toggle_value);
                                        if event_target_checked(&ev) { chosen.push(toggle_value.clone()); }
                                        let sorted: Vec<String> = order.iter().filter(|o| chosen.contains(o)).cloned().collect();
                                        set(sorted.join("\n"));
                                    }/>
                                <span>{c.label}</span>
                            </label>
                        }
                    }).collect_view()}
                </div>
            }
            .into_any()
        }
        Widget::Secret { is_set, clearable } => {
            let clear_key = format!("{key}{CLEAR_SUFFIX}");
            let placeholder = if is_set { "•••••••• stored — leave blank to keep" } else { "" };
            view! {
                <input type="password" id=id.clone() name=key.clone() autocomplete="new-password" placeholder=placeholder
                    prop:value=value.clone() on:input=move |ev| set(event_target_value(&ev))/>
                {(clearable && is_set).then(|| view! {
                    <label class="check">
                        <input type="checkbox" name=clear_key.clone() on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            values.update(|v| { v.insert(clear_key.clone(), on.to_string()); });
                        }/>
                        <span>"Remove the stored value"</span>
                    </label>
                })}
            }
            .into_any()
        }
    };
    let is_check = matches!(spec.widget, Widget::Checkbox);
    let error_key = key.clone();
    view! {
        <div class="field" class:invalid=has_error class:inline=is_check data-field=key.clone()>
            <label for=id>{spec.label}{spec.required.then_some(view! { <span class="req" title="required">" *"</span> })}</label>
            {input}
            {(!spec.help.is_empty()).then(|| view! { <p class="help">{spec.help}</p> })}
            {move || my_errors().into_iter().map(|m| view! { <p class="error" data-error-for=error_key.clone()>{m}</p> }).collect_view()}
        </div>
    }
}
