//! Resyncs started from the console: at most one per pipe at a time, run in the background,
//! with their live counts available to any page that asks.

use super::resync::{ResyncOptions, ResyncProgress, run_resync};
use crate::report::ResyncStatus;
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

struct Job {
    progress: ResyncProgress,
    dry_run: bool,
    started_at: DateTime<Utc>,
    finished: Option<(DateTime<Utc>, Option<String>)>,
}

#[derive(Clone, Default)]
pub struct ResyncJobs(Arc<Mutex<BTreeMap<String, Job>>>);

impl ResyncJobs {
    /// Starts a resync of `pipe` unless one is running; the configuration is read now.
    pub async fn start(
        &self,
        store: Store,
        pipe: &str,
        options: ResyncOptions,
    ) -> Result<(), String> {
        let config = store.load_config().await.map_err(|e| e.to_string())?;
        if !config.sync_pipes.iter().any(|p| p.name == pipe) {
            return Err(super::plan::PlanError::NoPipe(pipe.to_owned()).to_string());
        }
        let progress = ResyncProgress::default();
        {
            let mut jobs = self.0.lock().expect("resync jobs lock");
            if jobs.get(pipe).is_some_and(|j| j.finished.is_none()) {
                return Err(format!("a resync of \"{pipe}\" is already running"));
            }
            jobs.insert(
                pipe.to_owned(),
                Job {
                    progress: progress.clone(),
                    dry_run: options.dry_run,
                    started_at: Utc::now(),
                    finished: None,
                },
            );
        }
        let jobs = self.clone();
        let pipe = pipe.to_owned();
        drop(tokio::spawn(async move {
            let result =
                run_resync(&store, &config, &pipe, &options, &progress, Arc::new(())).await;
            let error = result.err().map(|e| e.to_string());
            if let Some(e) = &error {
                tracing::warn!("resync of \"{pipe}\" stopped: {e}");
            }
            if let Some(job) = jobs.0.lock().expect("resync jobs lock").get_mut(&pipe) {
                job.finished = Some((Utc::now(), error));
            }
        }));
        Ok(())
    }

    pub fn status(&self, pipe: &str) -> Option<ResyncStatus> {
        self.0
            .lock()
            .expect("resync jobs lock")
            .get(pipe)
            .map(|j| status_of(pipe, j))
    }
}

fn status_of(pipe: &str, job: &Job) -> ResyncStatus {
    ResyncStatus {
        pipe: pipe.to_owned(),
        running: job.finished.is_none(),
        dry_run: job.dry_run,
        started_at: job.started_at,
        finished_at: job.finished.as_ref().map(|f| f.0),
        counts: job.progress.snapshot(),
        error: job.finished.as_ref().and_then(|f| f.1.clone()),
    }
}
