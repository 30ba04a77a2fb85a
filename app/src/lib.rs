//! The scimsync web console: the eleven-step setup wizard and the pages behind it.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod api;
mod components;
pub mod model;
mod pages;
pub mod security;
pub use ::model::steps;

#[cfg(feature = "ssr")]
pub mod forms;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app (server-rendered).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    security::protect_page();
    // Where the site's files are: `pkg`, or `pkg/<content hash>` in a release binary.
    let stylesheet = format!("/{}/scimsync.css", options.site_pkg_dir);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Bumped after every configuration change so the step list and object lists refresh.
#[derive(Clone, Copy)]
pub struct ConfigVersion(pub RwSignal<u64>);

impl ConfigVersion {
    pub fn bump(&self) {
        self.0.update(|v| *v += 1);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(ConfigVersion(RwSignal::new(0)));
    view! {
        <Title text="scimsync console"/>
        <Router>
            <components::layout::Layout>
                <Routes fallback=|| view! { <pages::not_found::NotFound/> }>
                    <Route path=path!("/") view=pages::overview::Overview/>
                    <Route path=path!("/setup") view=pages::overview::SetupPage/>
                    <Route path=path!("/step/:number") view=pages::step::StepPage/>
                    <Route path=path!("/step/:number/edit/:name") view=pages::edit::EditPage/>
                    <Route path=path!("/pipes/:name") view=pages::realtime::PipePage/>
                    <Route path=path!("/rejections") view=pages::rejections::RejectionsPage/>
                    <Route path=path!("/deletes") view=pages::held_deletes::HeldDeletesPage/>
                    <Route path=path!("/preview") view=pages::preview::PreviewPage/>
                    <Route path=path!("/audit") view=pages::audit::AuditPage/>
                    <Route path=path!("/log") view=pages::sync_log::SyncLogPage/>
                </Routes>
            </components::layout::Layout>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
