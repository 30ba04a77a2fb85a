//! Data exchanged between the console's server functions and the browser. Secrets never
//! appear here: a secret field only says whether a value is stored.

pub use model::access::Role;
pub use model::held_delete::HeldDelete;
pub use model::kind::{FormKind, ObjectKind};
pub use model::preview::EntryPreview;
pub use model::rejection::{FailedStep, Phase};
pub use model::report::{
    ChangeOutcome, RealtimeCounts, RealtimeState, RealtimeStatus, ResyncCounts, ResyncStatus,
};
pub use model::sync_log::LoggedChange;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Form values by field key; lists are newline-separated, booleans "true"/"false".
pub type FormValues = BTreeMap<String, String>;

/// Suffix of the companion key a clearable secret uses to ask for removal.
pub const CLEAR_SUFFIX: &str = "#clear";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Widget {
    Text {
        placeholder: String,
    },
    /// One value per line.
    Lines {
        placeholder: String,
    },
    Number {
        placeholder: String,
    },
    Checkbox,
    Select {
        choices: Vec<Choice>,
    },
    /// Any number of the choices, kept in the choices' order.
    MultiCheck {
        choices: Vec<Choice>,
    },
    /// Write-only: blank keeps the stored value.
    Secret {
        is_set: bool,
        clearable: bool,
    },
}

/// Show a field only while another field has one of these values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShowWhen {
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// Property path in the configuration document, e.g. `auth.token`.
    pub key: String,
    pub label: String,
    pub help: String,
    pub widget: Widget,
    pub required: bool,
    /// Only editable on creation (names identify objects).
    pub create_only: bool,
    pub show_when: Option<ShowWhen>,
}

/// An error shown next to a field, or above the form when `field` is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormError {
    pub field: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectForm {
    pub kind: FormKind,
    pub kind_label: String,
    /// `None` when creating.
    pub name: Option<String>,
    pub fields: Vec<FieldSpec>,
    pub values: FormValues,
    /// Whether "Test connection" applies to this kind.
    pub testable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaveOutcome {
    /// The saved object's name when saving succeeded.
    pub saved: Option<String>,
    pub errors: Vec<FormError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectSummary {
    pub name: String,
    /// Short facts shown in the list (e.g. "servers: 127.0.0.1:389").
    pub facts: Vec<String>,
    /// Objects that refer to this one (deleting it is refused while non-empty).
    pub used_by: Vec<String>,
}

/// Result of "Test connection".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeOutcome {
    /// Connected and authenticated.
    pub reachable: bool,
    /// What was found, as label/value rows.
    pub facts: Vec<(String, String)>,
    /// What the admin should fix; empty when ready.
    pub problems: Vec<String>,
    /// Form errors that prevented testing.
    pub errors: Vec<FormError>,
}

impl ProbeOutcome {
    pub fn connected(reachable: bool, facts: Vec<(String, String)>, problems: Vec<String>) -> Self {
        ProbeOutcome {
            reachable,
            facts,
            problems,
            errors: vec![],
        }
    }

    pub fn failed(reason: String) -> Self {
        ProbeOutcome {
            reachable: false,
            facts: vec![],
            problems: vec![reason],
            errors: vec![],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepState {
    Done,
    Missing,
    Optional,
    /// Needs an earlier step first.
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepStatus {
    pub number: u8,
    pub state: StepState,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipeStartpoint {
    pub pipe: String,
    pub source: String,
    pub changelog: String,
    /// e.g. "end of changelog → after change number 8 (set 2026-11-23 10:00 UTC)".
    pub current: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartpointOutcome {
    pub ok: bool,
    pub message: String,
}

impl FieldSpec {
    /// Whether the field applies given the other values (e.g. `auth.token` only for bearer tokens).
    pub fn visible(&self, values: &FormValues) -> bool {
        self.show_when.as_ref().is_none_or(|w| {
            w.values
                .iter()
                .any(|v| values.get(&w.key).is_some_and(|x| x == v))
        })
    }
}

/// A time as pages show it: `2026-11-23 02:49:08 UTC` (times are kept in UTC).
pub fn readable_at(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A stored UTC time as pages show it: `2026-11-23T02:49:08.27Z` → `2026-11-23 02:49:08 UTC`;
/// anything else as it is.
pub fn readable_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(at) if rfc3339.ends_with('Z') => readable_at(&at.to_utc()),
        _ => rfc3339.to_owned(),
    }
}

/// Percent-encodes an object name for use in a URL path segment.
pub fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A rejected operation as shown to admins (JSON parts pretty-printed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectionView {
    pub dn: String,
    pub operation: FailedStep,
    pub reason: String,
    pub created_at: String,
    pub source: String,
    pub request: Option<String>,
    pub response: Option<String>,
    /// Entries whose references to this one are pending until it synchronizes (e.g. groups
    /// that lack this member).
    #[serde(default)]
    pub waiting: Vec<String>,
}

/// A reference written without its target, which is not at the destination yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingReferenceView {
    /// The entry whose resource lacks the reference (e.g. a group).
    pub referrer: String,
    pub mapping: String,
    /// The referenced DN (e.g. the member).
    pub target: String,
    pub since: String,
}

/// A pipe's pending references: how many, and the oldest ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PendingReferences {
    pub count: u64,
    pub oldest: Vec<PendingReferenceView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipeResync {
    pub pipe: String,
    pub source: String,
    pub destination: String,
    pub last: Option<ResyncStatus>,
    pub rejections: Vec<RejectionView>,
    #[serde(default)]
    pub pending: PendingReferences,
}

/// Step 5: which endpoint mappings refer to which, and the order resync writes them in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointGraphView {
    /// (from, to, through which Reference mapping).
    pub references: Vec<(String, String, String)>,
    /// Levels: each refers only to earlier levels and to itself.
    pub order: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartOutcome {
    pub started: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipeRealtime {
    pub pipe: String,
    /// Realtime sync should run.
    pub started: bool,
    pub startpoint: Option<String>,
    pub status: Option<RealtimeStatus>,
    /// The `scimsync serve` instance holding the pipe's lease now.
    #[serde(default)]
    pub runs_on: Option<String>,
    /// References waiting for their target's resource (from the store).
    #[serde(default)]
    pub pending: PendingReferences,
    /// Deletes held back by the pipe's deletion limit (from the store).
    #[serde(default)]
    pub held_deletes: u64,
}

/// One pipe at a glance, for the operations overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipeOverview {
    pub realtime: PipeRealtime,
    pub rejections_open: u64,
    /// Changes logged in the last hour (resync and realtime).
    pub changes_last_hour: u64,
    /// The running resync, else the last one.
    pub resync: Option<ResyncStatus>,
    /// How long that resync has run, or ran (measured by the server: the browser has no clock
    /// it shares).
    pub resync_seconds: Option<f64>,
}

impl PipeOverview {
    /// The resync's pace and, while it runs, the time left: (entries per second, seconds left).
    pub fn resync_pace(&self) -> Option<(f64, Option<f64>)> {
        let (status, seconds) = (self.resync.as_ref()?, self.resync_seconds?);
        let done = status.counts.processed() as f64;
        let rate = if seconds > 0.0 { done / seconds } else { 0.0 };
        let left = (status.running && rate > 0.0).then(|| {
            status
                .counts
                .expected
                .saturating_sub(status.counts.processed()) as f64
                / rate
        });
        Some((rate, left))
    }
}

/// A duration for people: "42 s", "3 min 20 s", "2 h 05 min".
pub fn readable_seconds(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

impl PipeRealtime {
    /// The state to show: as reported while the pipe should run, else stopped.
    pub fn state(&self) -> RealtimeState {
        match (&self.status, self.started) {
            (Some(s), true) => s.state,
            (None, true) => RealtimeState::Starting,
            (_, false) => RealtimeState::Stopped,
        }
    }
}

/// One open rejection in the rejected-operations page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedOperation {
    pub id: String,
    pub pipe: String,
    pub phase: Phase,
    pub detail: RejectionView,
}

/// Who is signed in to the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    pub username: String,
    pub role: Role,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_times_read_as_pages_show_them() {
        assert_eq!(
            super::readable_time("2026-11-23T02:49:08.27Z"),
            "2026-11-23 02:49:08 UTC"
        );
        assert_eq!(super::readable_time("not a time"), "not a time");
    }
}
