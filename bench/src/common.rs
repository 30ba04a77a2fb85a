//! Measurements shared by the benchmarks.

use std::sync::Arc;
use std::time::Instant;

/// A `/proc/self/status` memory figure (VmRSS, VmHWM) in MB.
pub fn memory_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Starts the peak resident memory (VmHWM) over from the present resident memory.
#[allow(dead_code)] // the resync bench's
pub fn reset_peak_memory() {
    // Linux: writing 5 to clear_refs resets the peak RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// CPU time this process has used (user + system), in seconds.
#[allow(dead_code)] // the resync bench's; common.rs is compiled into each bench
pub fn cpu_seconds() -> f64 {
    let ticks_per_second = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0);
    // /proc/self/stat: the fields after the command's closing parenthesis; utime and stime
    // are the 14th and 15th of the whole line.
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks / ticks_per_second)
        })
        .unwrap_or(0.0)
}

/// Runs `count` requests built by `request(i)` with `threads` in flight; returns requests/s.
pub async fn rate(
    threads: u32,
    count: u32,
    request: impl Fn(u32) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> f64 {
    let request = Arc::new(request);
    let next = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..threads {
        let (request, next) = (request.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return;
                }
                let status = request(i).send().await.expect("raw request").status();
                assert!(status.is_success(), "raw request {i}: HTTP {status}");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    f64::from(count) / started.elapsed().as_secs_f64()
}

/// The `n`th user a raw measurement creates: its body, whose `userName` the GET rate asks for.
pub type RawUser = Arc<dyn Fn(u32) -> serde_json::Value + Send + Sync>;

/// A small user named `<prefix><n>`.
pub fn small_user(prefix: &str) -> RawUser {
    let prefix = prefix.to_owned();
    Arc::new(move |i| {
        serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("{prefix}{i}"),
            "name": {"givenName": "Raw", "familyName": format!("Nr{i}")}})
    })
}

/// The SCIM server's own limits at `threads` concurrent requests: (POST /Users per second,
/// GET /Users?filter=userName eq … per second), with the users `user` makes.
pub async fn raw_scim_rates(
    base: &str,
    token: &str,
    threads: u32,
    count: u32,
    user: RawUser,
) -> (f64, f64) {
    let http = reqwest::Client::new();
    let (b, h, t, u) = (
        base.to_owned(),
        http.clone(),
        token.to_owned(),
        user.clone(),
    );
    let post = rate(threads, count, move |i| {
        h.post(format!("{b}/Users"))
            .bearer_auth(&t)
            .header("Content-Type", "application/scim+json")
            .body(u(i).to_string())
    })
    .await;
    let (b, h, t) = (base.to_owned(), http, token.to_owned());
    let get = rate(threads, count, move |i| {
        let name = user(i)["userName"].as_str().unwrap_or_default().to_owned();
        h.get(format!("{b}/Users")).bearer_auth(&t).query(&[
            ("filter", format!("userName eq \"{name}\"")),
            ("count", "2".into()),
        ])
    })
    .await;
    (post, get)
}

/// The SCIM server's Bulk rate: `count` creates of the users `user` makes in POST /Bulk
/// requests of `per_request` operations, `threads` requests in flight; operations per second.
#[allow(dead_code)] // the resync bench's
pub async fn raw_bulk_rate(
    base: &str,
    token: &str,
    threads: u32,
    count: u32,
    per_request: u32,
    user: RawUser,
) -> f64 {
    let http = reqwest::Client::new();
    let (b, t) = (base.to_owned(), token.to_owned());
    let requests = count.div_ceil(per_request);
    let started = Instant::now();
    rate(threads, requests, move |r| {
        let operations: Vec<serde_json::Value> = (0..per_request)
            .map(|k| {
                let i = r * per_request + k;
                serde_json::json!({"method": "POST", "bulkId": format!("b{i}"), "path": "/Users",
                    "data": user(i)})
            })
            .collect();
        http.post(format!("{b}/Bulk"))
            .bearer_auth(&t)
            .header("Content-Type", "application/scim+json")
            .body(
                serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations})
                    .to_string(),
            )
    })
    .await;
    f64::from(requests * per_request) / started.elapsed().as_secs_f64()
}

/// The SCIM server's list rate: every user, page by page (`count` per page, only id and
/// userName); resources per second.
#[allow(dead_code)] // the resync bench's
pub async fn raw_list_rate(base: &str, token: &str, attributes: &[String], per_page: u32) -> f64 {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut listed = 0u64;
    let mut start = 1u64;
    loop {
        let page: serde_json::Value = http
            .get(format!("{base}/Users"))
            .bearer_auth(token)
            .query(&[
                ("attributes", attributes.join(",")),
                ("startIndex", start.to_string()),
                ("count", per_page.to_string()),
            ])
            .send()
            .await
            .expect("raw list")
            .json()
            .await
            .expect("a ListResponse");
        let got = page["Resources"].as_array().map_or(0, Vec::len) as u64;
        let total = page["totalResults"].as_u64().unwrap_or(0);
        listed += got;
        start += got;
        if got == 0 || start > total {
            break;
        }
    }
    listed as f64 / started.elapsed().as_secs_f64()
}
