//! Realtime sync and its supervisor against an in-memory source and destination: where the
//! checkpoint stands after a stop or a lost source, and which pipes an instance runs. The same
//! paths against real directories and a real SCIM server are in engine/tests.

use super::memory_destination::MemoryDestination;
use super::memory_source::MemoryDirectory;
use super::plan::PipePlan;
use super::realtime::{RealtimeProgress, run_plan};
use super::supervisor::{Planner, RealtimeSupervisor};
use crate::config::Config;
use crate::config::examples::directory;
use crate::crypto::Cipher;
use crate::mapping::LdapEntry;
use crate::report::{RealtimeState, RealtimeStatus};
use crate::startpoint::ChangelogCursor;
use crate::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const PIPE: &str = "LDAP to SCIM";
const PEOPLE: &str = "ou=people,dc=example,dc=com";

/// A store in a fresh SQLite file, holding `config`; the directory is removed with it.
async fn store_with(config: &Config) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("scimsync.db").display());
    let store = Store::open(&url, Cipher::ephemeral()).await.unwrap();
    store.replace_all(config.clone()).await.unwrap();
    store.save_realtime_cursor(PIPE, &at(0)).await.unwrap();
    (store, dir)
}

fn at(n: u64) -> ChangelogCursor {
    ChangelogCursor::DraftGood {
        last_change_number: n,
    }
}

fn person(uid: &str) -> LdapEntry {
    LdapEntry::new(dn(uid))
        .with("objectClass", &["inetOrgPerson"])
        .with("uid", &[uid])
        .with("cn", &[&format!("{uid} Example")])
        .with("sn", &["Example"])
        .with("mail", &[&format!("{uid}@example.com")])
}

fn dn(uid: &str) -> String {
    format!("uid={uid},{PEOPLE}")
}

/// A config whose pipe polls often, so the tests wait little.
fn config() -> Config {
    let mut config = directory();
    for pipe in &mut config.sync_pipes {
        pipe.polling_interval_ms = 50;
    }
    config
}

fn planner(source: &MemoryDirectory, destination: &MemoryDestination) -> Planner {
    let (source, destination) = (source.clone(), destination.clone());
    Arc::new(move |config: &Config, pipe: &str, store: &Store| {
        Ok(PipePlan::build(config, pipe, store.cipher(), None)?
            .with_source(source.clone())
            .with_destination(destination.clone()))
    })
}

/// One realtime run in the background.
struct Run {
    stop: watch::Sender<bool>,
    progress: RealtimeProgress,
    task: tokio::task::JoinHandle<Result<(), super::RealtimeError>>,
}

async fn start(store: &Store, plan: &Planner) -> Run {
    let (stop, stopped) = watch::channel(false);
    let progress = RealtimeProgress::new(PIPE);
    let plan = plan(&store.load_config().await.unwrap(), PIPE, store);
    let task = tokio::spawn(run_plan(
        store.clone(),
        PIPE,
        plan,
        stopped,
        progress.clone(),
        None,
    ));
    Run {
        stop,
        progress,
        task,
    }
}

impl Run {
    async fn stop(self) -> RealtimeStatus {
        self.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the run stops")
            .unwrap()
            .unwrap();
        self.progress.snapshot()
    }
}

/// Waits up to 10 s for `done`, then fails with `what` and the status.
async fn wait_for(what: &str, status: impl Fn() -> String, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}; status: {}", status());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn user_names(destination: &MemoryDestination) -> Vec<String> {
    let mut names: Vec<String> = destination
        .resources("Users")
        .iter()
        .filter_map(|u| u["userName"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_stop_saves_the_checkpoint_of_the_changes_finished_while_stopping() {
    let config = config();
    let (store, _dir) = store_with(&config).await;
    let (source, destination) = (MemoryDirectory::default(), MemoryDestination::default());
    for uid in ["ann", "bob", "cid"] {
        source.add(person(uid));
    }
    source.hold(&dn("bob"));
    let run = start(&store, &planner(&source, &destination)).await;
    let progress = run.progress.clone();
    wait_for(
        "ann and cid arrive while bob is slow",
        || format!("{:?}", progress.snapshot()),
        || user_names(&destination).len() == 2,
    )
    .await;
    // Bob's change finishes while the run stops: it is done, and the checkpoint says so.
    let stopping = tokio::spawn({
        let source = source.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            source.release(&dn("bob"));
        }
    });
    let status = run.stop().await;
    stopping.await.unwrap();
    assert_eq!(user_names(&destination), ["ann", "bob", "cid"]);
    assert_eq!(
        store.realtime_cursor(PIPE).await.unwrap(),
        Some(source.last_change()),
        "{status:?}"
    );
    assert_eq!(status.state, RealtimeState::Stopped);
    assert_eq!(status.queue, 0, "{status:?}");
    // And the next run has nothing to do again.
    let run = start(&store, &planner(&source, &destination)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = run.stop().await;
    assert_eq!(status.counts.changes, 0, "{status:?}");
    assert_eq!(source.reads_of(&dn("bob")), 1);
}

#[tokio::test]
async fn a_lost_source_is_waited_for_and_nothing_read_before_it_is_lost() {
    let config = config();
    let (store, _dir) = store_with(&config).await;
    let (source, destination) = (MemoryDirectory::default(), MemoryDestination::default());
    source.add(person("ann"));
    let run = start(&store, &planner(&source, &destination)).await;
    let progress = run.progress.clone();
    let status = || format!("{:?}", progress.snapshot());
    wait_for("ann arrives", status, || {
        user_names(&destination) == ["ann"]
    })
    .await;
    // The source goes away while changes are made; they arrive once it is back.
    source.set_down(true);
    source.modify(&dn("ann"), "sn", &["Changed"]);
    source.add(person("bob"));
    wait_for("the run waits for its source", status, || {
        progress.snapshot().state == RealtimeState::WaitingForSource
    })
    .await;
    source.set_down(false);
    // Both changes: they apply in lanes of their own, in either order.
    let ann_changed = || {
        destination
            .resources("Users")
            .into_iter()
            .any(|u| u["userName"] == "ann" && u["name"]["familyName"] == "Changed")
    };
    wait_for("bob arrives and ann is changed", status, || {
        user_names(&destination) == ["ann", "bob"] && ann_changed()
    })
    .await;
    wait_for("the checkpoint reaches the end", status, || {
        progress.snapshot().cursor.as_deref() == Some("after change number 3")
    })
    .await;
    let status = run.stop().await;
    assert_eq!(status.counts.rejected, 0, "{status:?}");
    assert_eq!(
        store.realtime_cursor(PIPE).await.unwrap(),
        Some(source.last_change())
    );
}

/// A supervisor for `instance` with in-memory plans, and a way to see what it runs.
fn supervise(store: &Store, instance: &str, plan: &Planner) -> RealtimeSupervisor {
    RealtimeSupervisor::spawn_planning(store.clone(), instance, plan.clone())
}

#[tokio::test]
async fn the_supervisor_runs_what_is_started_restarts_on_a_change_and_stops_what_is_not() {
    let config = config();
    let (store, _dir) = store_with(&config).await;
    let (source, destination) = (MemoryDirectory::default(), MemoryDestination::default());
    source.add(person("ann"));
    let supervisor = supervise(&store, "one", &planner(&source, &destination));
    let running = || supervisor.status(PIPE);
    let status = || format!("{:?}", supervisor.status(PIPE));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(running().is_none(), "not started, so not running");

    store.set_realtime_started(PIPE, true).await.unwrap();
    wait_for("the started pipe runs and syncs", status, || {
        running().is_some_and(|s| s.state == RealtimeState::Running)
            && user_names(&destination) == ["ann"]
    })
    .await;
    assert_eq!(
        store.lease_holder(PIPE).await.unwrap().as_deref(),
        Some("one")
    );
    let first_start = running().unwrap().started_at;

    // A change to an object the pipe runs with restarts it with the new configuration.
    let mut changed = config.clone();
    changed.sync_pipes[0].polling_interval_ms = 60;
    store.replace_all(changed).await.unwrap();
    wait_for("the pipe restarts", status, || {
        running().is_some_and(|s| s.started_at > first_start && s.state == RealtimeState::Running)
    })
    .await;
    source.add(person("bob"));
    wait_for("the restarted pipe syncs", status, || {
        user_names(&destination) == ["ann", "bob"]
    })
    .await;

    store.set_realtime_started(PIPE, false).await.unwrap();
    wait_for("the stopped pipe stops", status, || running().is_none()).await;
    // Its lease is handed back once the run has ended.
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.lease_holder(PIPE).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "the lease is released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    supervisor.shutdown().await;
}

#[tokio::test]
async fn a_pipe_runs_on_one_instance_and_moves_when_that_one_shuts_down() {
    let config = config();
    let (store, _dir) = store_with(&config).await;
    let (source, destination) = (MemoryDirectory::default(), MemoryDestination::default());
    let plan = planner(&source, &destination);
    store.set_realtime_started(PIPE, true).await.unwrap();
    let one = supervise(&store, "one", &plan);
    wait_for("instance one runs the pipe", String::new, || {
        one.status(PIPE).is_some()
    })
    .await;
    let two = supervise(&store, "two", &plan);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(two.status(PIPE).is_none(), "the lease keeps it on one");
    source.add(person("ann"));
    wait_for("ann arrives through one", String::new, || {
        user_names(&destination) == ["ann"]
    })
    .await;

    one.shutdown().await;
    wait_for("instance two takes the pipe over", String::new, || {
        two.status(PIPE)
            .is_some_and(|s| s.state == RealtimeState::Running)
    })
    .await;
    assert_eq!(
        store.lease_holder(PIPE).await.unwrap().as_deref(),
        Some("two")
    );
    source.add(person("bob"));
    wait_for(
        "bob arrives through two",
        || format!("{:?}", two.status(PIPE)),
        || user_names(&destination) == ["ann", "bob"],
    )
    .await;
    // Two resumed from one's checkpoint: ann was not applied again.
    assert_eq!(source.reads_of(&dn("ann")), 1);
    two.shutdown().await;
}

/// A person with a stable id, as directories give one (correlations are kept by it).
fn person_with_id(uid: &str) -> LdapEntry {
    person(uid).with("entryUUID", &[&format!("uuid-{uid}")])
}

#[tokio::test]
async fn deletes_beyond_the_hourly_limit_are_held_and_so_is_every_later_one() {
    let mut config = config();
    config.sync_pipes[0].max_deletes_per_hour = Some(2);
    let (store, _dir) = store_with(&config).await;
    let (source, destination) = (MemoryDirectory::default(), MemoryDestination::default());
    let uids = ["ann", "bob", "cid", "dan", "eve"];
    for uid in uids {
        source.add(person_with_id(uid));
    }
    let run = start(&store, &planner(&source, &destination)).await;
    let progress = run.progress.clone();
    let status = || format!("{:?}", progress.snapshot());
    wait_for("five users", status, || user_names(&destination).len() == 5).await;
    for uid in uids {
        source.delete(&dn(uid));
    }
    wait_for("two deleted, three held", status, || {
        let c = progress.snapshot().counts;
        c.deleted == 2 && c.held == 3
    })
    .await;
    // Entries' changes run in parallel: which two go first is not fixed. The other three
    // are held, and their resources are still there.
    let remaining = user_names(&destination);
    let held = store.held_deletes(Some(PIPE), 10).await.unwrap();
    let mut held_dns: Vec<String> = held.iter().map(|h| h.dn.clone()).collect();
    held_dns.sort();
    let remaining_dns: Vec<String> = remaining.iter().map(|uid| dn(uid)).collect();
    assert_eq!(held_dns, remaining_dns);
    let first = &held[0];
    assert!(
        first.reason.contains("limit of 2 delete(s) per hour"),
        "{}",
        first.reason
    );
    let uid = first
        .dn
        .trim_start_matches("uid=")
        .split(',')
        .next()
        .unwrap();
    assert_eq!(first.entry_id, Some(format!("uuid-{uid}")));
    // The held resources stay managed: their correlations are kept.
    let kept = store.find_resource(PIPE, &format!("uuid-{uid}")).await;
    assert!(kept.unwrap().is_some());
    // Once deletes are held, a later one waits with them, even within a new hour's limit.
    source.add(person_with_id("fay"));
    wait_for("fay arrives", status, || {
        user_names(&destination).len() == 4
    })
    .await;
    source.delete(&dn("fay"));
    wait_for("fay's delete is held", status, || {
        progress.snapshot().counts.held == 4
    })
    .await;
    let last = store
        .held_deletes(Some(PIPE), 10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(
        last.reason.contains("3 earlier delete(s)"),
        "{}",
        last.reason
    );
    run.stop().await;
    assert_eq!(user_names(&destination).len(), 4);
}

#[tokio::test]
async fn a_class_that_deactivates_keeps_the_resource_inactive_until_the_entry_is_back() {
    let mut config = config();
    for class in &mut config.sync_classes {
        class.delete_action = crate::config::DeleteAction::Deactivate;
    }
    let (store, _dir) = store_with(&config).await;
    let (source, destination) = (MemoryDirectory::default(), MemoryDestination::default());
    source.add(person_with_id("ann"));
    let run = start(&store, &planner(&source, &destination)).await;
    let progress = run.progress.clone();
    let status = || format!("{:?}", progress.snapshot());
    let ann = || destination.resources("Users").pop().unwrap_or_default();
    wait_for("ann arrives", status, || {
        user_names(&destination).len() == 1
    })
    .await;
    source.delete(&dn("ann"));
    wait_for("ann is deactivated", status, || {
        progress.snapshot().counts.deactivated == 1
    })
    .await;
    assert_eq!(ann()["active"], false, "{}", ann());
    assert!(destination.sent().iter().all(|s| !s.starts_with("DELETE")));
    // The entry comes back: the same resource is active again.
    source.add(person_with_id("ann"));
    wait_for("ann is active again", status, || ann()["active"] == true).await;
    assert_eq!(user_names(&destination), ["ann"]);
    run.stop().await;
}

/// Realtime sync of one person, ann, who then moves out of every class's base DNs; before
/// the move, `forget` does what it likes with her correlation. What the log of changes says
/// of the move, once her resource is gone.
async fn ann_moves_out_of_scope(
    forget: impl AsyncFnOnce(&Store, crate::store::Correlation),
) -> String {
    let config = config();
    let (store, _dir) = store_with(&config).await;
    let (source, destination) = (MemoryDirectory::default(), MemoryDestination::default());
    source.add(person_with_id("ann"));
    let run = start(&store, &planner(&source, &destination)).await;
    let progress = run.progress.clone();
    let status = || format!("{:?}", progress.snapshot());
    wait_for("ann arrives", status, || {
        user_names(&destination) == ["ann"]
    })
    .await;
    run.stop().await;
    let kept = store
        .find_resource(PIPE, "uuid-ann")
        .await
        .unwrap()
        .unwrap();
    forget(&store, kept).await;

    source.rename(&dn("ann"), "uid=ann,ou=elsewhere,dc=example,dc=com");
    let run = start(&store, &planner(&source, &destination)).await;
    let progress = run.progress.clone();
    let status = || format!("{:?}", progress.snapshot());
    wait_for("ann's resource is deleted", status, || {
        user_names(&destination).is_empty()
    })
    .await;
    run.stop().await;
    assert!(
        store
            .correlations_after(PIPE, "", 10)
            .await
            .unwrap()
            .is_empty(),
        "no correlation is left"
    );
    let logged = store
        .logged_changes(&crate::store::SyncLogFilter {
            pipe: Some(PIPE.into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let moved = logged
        .iter()
        .find(|c| c.dn.contains("ou=elsewhere"))
        .unwrap_or_else(|| panic!("{logged:#?}"));
    assert_eq!(moved.outcome, crate::report::ChangeOutcome::Deleted);
    moved.summary.clone()
}

#[tokio::test]
async fn a_move_out_of_scope_finds_a_resource_kept_under_another_id_by_the_old_dn() {
    let summary = ann_moves_out_of_scope(async |store, kept| {
        let to = crate::store::Correlation {
            entry_id: "kept-under-another-id".into(),
            ..kept.clone()
        };
        let from = kept.entry_id;
        let moves = [crate::store::Rekey { from, to }];
        store.rekey_correlations(PIPE, &moves).await.unwrap();
    })
    .await;
    assert!(summary.contains("found by the entry's DN"), "{summary}");
}

#[tokio::test]
async fn a_move_out_of_scope_with_no_correlation_finds_the_resource_by_the_old_rdn() {
    let summary = ann_moves_out_of_scope(async |store, kept| {
        store.forget_resource(PIPE, &kept.entry_id).await.unwrap();
    })
    .await;
    assert!(summary.contains("search for the entry's RDN"), "{summary}");
}
