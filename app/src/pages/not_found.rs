use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum_status_not_found());
    }
    view! {
        <h1>"Page not found"</h1>
        <p><A href="/">"Back to the setup overview"</A></p>
    }
}

#[cfg(feature = "ssr")]
fn axum_status_not_found() -> axum::http::StatusCode {
    axum::http::StatusCode::NOT_FOUND
}
