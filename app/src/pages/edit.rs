//! Editing one existing object; back to its step when saved.

use crate::components::object_editor::ObjectEditor;
use crate::steps::step;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn EditPage() -> impl IntoView {
    let params = use_params_map();
    move || {
        let p = params.read();
        let number = p.get("number").and_then(|n| n.parse::<u8>().ok());
        let name = p.get("name").map(|n| percent_decode(&n));
        match (number.and_then(step), name) {
            (Some(s), Some(name)) if s.kind.is_some() => {
                let kind = s.kind.expect("matched above").into();
                let back = format!("/step/{}", s.number);
                let navigate = use_navigate();
                let target = back.clone();
                let on_saved =
                    Callback::new(move |_: String| navigate(&target, Default::default()));
                let hydrated = RwSignal::new(false);
                Effect::new(move || hydrated.set(true));
                view! {
                    <p class="crumb"><A href=back>{format!("Step {} — {}", s.number, s.title)}</A></p>
                    <h1 data-hydrated=move || hydrated.get().to_string()>"Edit “" {name.clone()} "”"</h1>
                    <ObjectEditor kind name=Some(name.clone()) on_saved/>
                }
                .into_any()
            }
            _ => view! { <super::not_found::NotFound/> }.into_any(),
        }
    }
}

/// Decodes %XX sequences (names are encoded by `encode_segment`); anything else is kept.
pub fn percent_decode(text: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_what_encode_segment_writes() {
        for name in ["Corporate LDAP", "a/b%c", "Zoë", "%", "x%2"] {
            assert_eq!(
                super::percent_decode(&crate::model::encode_segment(name)),
                name
            );
        }
        assert_eq!(super::percent_decode("bad%zzend%"), "bad%zzend%");
    }
}
