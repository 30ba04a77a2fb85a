//! The "Preview one entry" action of the pipe and resync pages: a DN field that opens the
//! preview of that entry.

use leptos::prelude::*;

#[component]
pub fn PreviewForm(pipe: String) -> impl IntoView {
    view! {
        <form class="preview-form" action="/preview" method="get">
            <input type="hidden" name="pipe" value=pipe/>
            <label>"Preview one entry"</label>
            <input type="text" name="dn" placeholder="uid=jdoe,ou=people,dc=example,dc=com" required/>
            <button type="submit" class="secondary">"Preview"</button>
        </form>
    }
}
