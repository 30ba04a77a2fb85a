//! What the last action on a list page's items came to (retried, dismissed, approved,
//! discarded), a line each, shown above the list; each report refreshes the list.

use crate::ConfigVersion;
use leptos::prelude::*;

/// The report's lines, filled by [`report_from`].
#[derive(Clone, Copy)]
pub struct ActionReport(RwSignal<Vec<String>>);

impl ActionReport {
    pub fn new() -> ActionReport {
        ActionReport(RwSignal::new(Vec::new()))
    }

    /// Shows what `latest` answers (an action's last result, as lines) whenever it has one,
    /// and refreshes what the page lists.
    pub fn report_from(self, latest: impl Fn() -> Option<Vec<String>> + 'static) {
        let version = expect_context::<ConfigVersion>();
        Effect::new(move || {
            if let Some(lines) = latest() {
                self.0.set(lines);
                version.bump();
            }
        });
    }
}

impl Default for ActionReport {
    fn default() -> Self {
        ActionReport::new()
    }
}

#[component]
pub fn ReportLines(report: ActionReport) -> impl IntoView {
    move || {
        let lines = report.0.get();
        (!lines.is_empty()).then(|| {
            view! {
                <ul class="flash report" role="status">{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
            }
        })
    }
}
