//! A standard directory into scim2-server with the README's worked example configuration:
//! inetOrgPerson users with mail, phones and managers; groupOfNames (member) and
//! groupOfUniqueNames (uniqueMember) groups, nested groups, a member outside every class and
//! a member that is rejected. After resync and after each realtime step, every SCIM group's
//! members are exactly the ids of its LDAP members that are synchronised, every manager.value
//! is the manager's id, every work email is the entry's mail — checked against what LDAP and
//! SCIM answer, not against what scimsync says.

use engine::config::{ChangelogFlavor, Config, examples};
use engine::store::Store;
use engine::sync::RealtimeProgress;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use test_support::*;

const TOKEN: &str = "groups-token";
const PIPE: &str = "LDAP to SCIM";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const USERS: u32 = 24;

fn people(uid: &str) -> String {
    format!("uid={uid},ou=people,{SUFFIX}")
}
fn group(cn: &str) -> String {
    format!("cn={cn},ou=groups,{SUFFIX}")
}

fn user_ldif(i: u32) -> String {
    // Managers form a tree (u{i/2} manages u{i}), except that u01's manager is u23, which
    // closes a cycle u01 → u23 → u11 → u05 → u02 → u01: written with pending references,
    // which resolve as the others are created.
    let manager = match i {
        0 => String::new(),
        1 => format!("manager: {}\n", people(&format!("u{:02}", USERS - 1))),
        _ => format!("manager: {}\n", people(&format!("u{:02}", i / 2))),
    };
    let mobile = if i.is_multiple_of(2) {
        format!("mobile: +1 555 01{i:02}\n")
    } else {
        String::new()
    };
    format!(
        "dn: {}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: u{i:02}\ncn: User {i:02}\ngivenName: User\n\
         sn: Nr{i:02}\nmail: u{i:02}@work.example\ntelephoneNumber: +1 555 10{i:02}\n{mobile}title: Engineer\n\
         employeeNumber: {}\ndepartmentNumber: D{}\n{manager}\n",
        people(&format!("u{i:02}")),
        1000 + i,
        i % 3
    )
}

fn members(attr: &str, dns: &[String]) -> String {
    dns.iter().map(|d| format!("{attr}: {d}\n")).collect()
}

/// The directory: users, a user rejected for two mail values (`twomail`), and groups — `all`
/// (added first) holds the groups `eng` and `ops`, so they must be written before it.
fn directory_ldif() -> String {
    let mut ldif: String = (0..USERS).map(user_ldif).collect();
    ldif += &format!(
        "dn: {}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: twomail\ncn: Two Mail\nsn: Mail\n\
         mail: a@work.example\nmail: b@work.example\n\n",
        people("twomail")
    );
    let u = |i: u32| people(&format!("u{i:02}"));
    ldif += &format!(
        "dn: {}\nchangetype: add\nobjectClass: groupOfNames\ncn: all\n{}\n",
        group("all"),
        members("member", &[group("eng"), group("ops"), u(0)])
    );
    let mut eng: Vec<String> = (1..=10).map(u).collect();
    eng.push(people("twomail"));
    eng.push(format!("cn=printer,ou=devices,{SUFFIX}"));
    ldif += &format!(
        "dn: {}\nchangetype: add\nobjectClass: groupOfNames\ncn: eng\n{}\n",
        group("eng"),
        members("member", &eng)
    );
    let mut ops: Vec<String> = (11..=18).map(u).collect();
    ops.push(format!("{}#'0101'B", u(19)));
    ldif += &format!(
        "dn: {}\nchangetype: add\nobjectClass: groupOfUniqueNames\ncn: ops\n{}\n",
        group("ops"),
        members("uniqueMember", &ops)
    );
    ldif
}

async fn setup(
    ldap_address: String,
    flavour: ChangelogFlavor,
    scim_base_url: &str,
    dir: &std::path::Path,
) -> (Store, Config) {
    let mut config = examples::directory();
    let source = &mut config.ldap_sources[0];
    source.servers = vec![ldap_address.parse().unwrap()];
    source.changelog = flavour;
    source.batch_size = 50;
    config.scim_servers[0].base_url = scim_base_url.to_owned();
    config.scim_servers[0].auth = engine::config::ScimAuth::BearerToken {
        token: engine::config::Secret::plain(TOKEN),
    };
    let store = sqlite_store(&dir.join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    (store, config)
}

/// Every resource of an endpoint, page by page (scim2-server returns at most 1000 at once).
fn scim_list(base_url: &str, endpoint: &str) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let out = std::process::Command::new("curl")
            .args([
                "-sf",
                "-H",
                &format!("Authorization: Bearer {TOKEN}"),
                &format!(
                    "{base_url}/{endpoint}?count=1000&startIndex={}",
                    all.len() + 1
                ),
            ])
            .output()
            .expect("curl");
        let body: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let page = body["Resources"].as_array().cloned().unwrap_or_default();
        let total = body["totalResults"].as_u64().unwrap_or(0) as usize;
        let empty = page.is_empty();
        all.extend(page);
        if empty || all.len() >= total {
            return all;
        }
    }
}

fn dn_key(dn: &str) -> String {
    let dn = dn.rsplit_once("#'").map_or(dn, |(d, _)| d);
    engine::dn::Dn::parse(dn).unwrap().normalized_key()
}

/// What both sides hold, compared: `Err` says what differs.
struct Sides {
    /// Normalised DN → SCIM id, for every LDAP user and group that has a resource.
    ids: BTreeMap<String, String>,
    problems: Vec<String>,
}

fn compare(ldap_port: u16, base_url: &str) -> Sides {
    let users = scim_list(base_url, "Users");
    let groups = scim_list(base_url, "Groups");
    let by = |list: &[Value], key: &str| -> BTreeMap<String, Value> {
        list.iter()
            .map(|r| {
                (
                    r[key].as_str().unwrap_or_default().to_lowercase(),
                    r.clone(),
                )
            })
            .collect()
    };
    let (users_by_name, groups_by_name) = (by(&users, "userName"), by(&groups, "displayName"));
    let ldap_users = ldap_search(
        ldap_port,
        &format!("ou=people,{SUFFIX}"),
        "(objectClass=inetOrgPerson)",
        &["uid", "mail", "manager"],
    );
    let ldap_groups = ldap_search(
        ldap_port,
        &format!("ou=groups,{SUFFIX}"),
        "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
        &["cn", "member", "uniqueMember"],
    );
    let mut sides = Sides {
        ids: BTreeMap::new(),
        problems: Vec::new(),
    };
    let first = |e: &BTreeMap<String, Vec<String>>, a: &str| {
        e.get(a)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    for (dn, e) in &ldap_users {
        if let Some(r) = users_by_name.get(&first(e, "uid").to_lowercase()) {
            sides
                .ids
                .insert(dn_key(dn), r["id"].as_str().unwrap().to_owned());
        }
    }
    for (dn, e) in &ldap_groups {
        if let Some(r) = groups_by_name.get(&first(e, "cn").to_lowercase()) {
            sides
                .ids
                .insert(dn_key(dn), r["id"].as_str().unwrap().to_owned());
        }
    }
    for (dn, e) in &ldap_users {
        let Some(r) = users_by_name.get(&first(e, "uid").to_lowercase()) else {
            if e.get("mail").is_some_and(|m| m.len() == 1) {
                sides.problems.push(format!("{dn} has no SCIM user"));
            }
            continue;
        };
        let work = r["emails"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["type"] == "work")
            .map(|m| m["value"].clone());
        if work != e.get("mail").map(|m| Value::String(m[0].clone())) {
            sides.problems.push(format!(
                "{dn}: work email {work:?} vs mail {:?}",
                e.get("mail")
            ));
        }
        let want = e
            .get("manager")
            .map(|m| sides.ids.get(&dn_key(&m[0])).cloned());
        let got = r[ENTERPRISE]["manager"]["value"]
            .as_str()
            .map(str::to_owned);
        match want {
            None if got.is_some() => sides
                .problems
                .push(format!("{dn}: no manager in LDAP, manager {got:?} in SCIM")),
            Some(w) if w != got => sides
                .problems
                .push(format!("{dn}: manager should be {w:?}, SCIM has {got:?}")),
            _ => {}
        }
    }
    for (dn, e) in &ldap_groups {
        let Some(r) = groups_by_name.get(&first(e, "cn").to_lowercase()) else {
            sides.problems.push(format!("{dn} has no SCIM group"));
            continue;
        };
        let want: BTreeSet<String> = e
            .get("member")
            .into_iter()
            .chain(e.get("uniquemember"))
            .flatten()
            .filter_map(|m| sides.ids.get(&dn_key(m)).cloned())
            .collect();
        let got: BTreeSet<String> = r["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["value"].as_str().map(str::to_owned))
            .collect();
        if want != got {
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            sides.problems.push(format!(
                "{dn}: {} members in SCIM, {} wanted; missing {missing:?}, extra {extra:?}",
                got.len(),
                want.len()
            ));
        }
    }
    sides
}

#[track_caller]
fn assert_same(ldap_port: u16, base_url: &str) -> Sides {
    let sides = compare(ldap_port, base_url);
    assert!(sides.problems.is_empty(), "{:#?}", sides.problems);
    sides
}

/// Waits until both sides agree.
async fn converge(
    ldap_port: u16,
    base_url: &str,
    progress: &RealtimeProgress,
    step: &str,
) -> Sides {
    // A bound for a hung pipe, not a speed check: scim2-server takes 10–15 s for a PATCH of 50
    // member changes on a 5,000-member group, and the test sends three.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let sides = compare(ldap_port, base_url);
        if sides.problems.is_empty() {
            return sides;
        }
        assert!(
            Instant::now() < deadline,
            "after {step}: {:#?}\nstatus {:#?}",
            sides.problems,
            progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn directory_round_trip(ldap_port: u16, flavour: ChangelogFlavor, modify: impl Fn(&str)) {
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(
        format!("127.0.0.1:{ldap_port}"),
        flavour,
        &scim.base_url(),
        dir.path(),
    )
    .await;
    modify(&directory_ldif());

    // Resync: users before groups, `all` after the groups it holds.
    let counts = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(counts.created, USERS as u64 + 3, "{counts:#?}");
    assert_eq!(counts.rejected, 1, "twomail: {counts:#?}");
    assert_eq!(
        counts.modified, 0,
        "every group written once, complete: {counts:#?}"
    );
    // twomail in eng, and the manager cycle.
    assert!(counts.references_pending >= 1, "{counts:#?}");
    assert_eq!(
        counts.references_out_of_scope, 1,
        "the printer: {counts:#?}"
    );
    assert_eq!(counts.members_added, 10 + 9 + 3, "{counts:#?}");
    assert_same(ldap_port, &scim.base_url());
    // Only twomail is still pending: the cycle resolved.
    let pending = store.pending_references(PIPE, None, 10).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].referrer_dn.to_lowercase(), group("eng"));
    assert_eq!(pending[0].reference.dn.to_lowercase(), people("twomail"));
    assert_eq!(pending[0].reference.mapping, "Members");
    // A preview of the group shows where each member reference went.
    let preview = engine::sync::preview_entry(&store, &config, PIPE, &group("eng"), false)
        .await
        .unwrap();
    let lines = preview.references.join("\n");
    assert_eq!(preview.references.len(), 12, "{lines}");
    assert!(
        lines.contains(&format!("{} → User ", people("u01"))),
        "{lines}"
    );
    assert!(
        lines.contains(&format!(
            "{}: not at the destination yet",
            people("twomail")
        )),
        "{lines}"
    );
    assert!(
        lines.contains("cn=printer,ou=devices,dc=example,dc=com: in no sync class"),
        "{lines}"
    );
    assert_eq!(preview.action, "in-sync", "{preview:#?}");

    // A second resync finds everything in sync.
    let again = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(
        (again.created, again.modified, again.in_sync, again.rejected),
        (0, 0, USERS as u64 + 3, 1),
        "{again:#?}"
    );

    // Realtime from here.
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;
    let progress = &run.progress;
    let id_of = |sides: &Sides, dn: &str| sides.ids.get(&dn_key(dn)).cloned();

    // One batch: a new user, added to eng; a member removed from ops.
    modify(&format!(
        "{}dn: {}\nchangetype: modify\nadd: member\nmember: {}\n\n\
         dn: {}\nchangetype: modify\ndelete: uniqueMember\nuniqueMember: {}\n\n",
        user_ldif(50),
        group("eng"),
        people("u50"),
        group("ops"),
        people("u11"),
    ));
    let now = converge(
        ldap_port,
        &scim.base_url(),
        progress,
        "add user + add to group",
    )
    .await;
    assert!(id_of(&now, &people("u50")).is_some());

    // A member renamed: the directory rewrites member and manager values; ids stay.
    let before = id_of(&now, &people("u02")).unwrap();
    modify(&format!(
        "dn: {}\nchangetype: modrdn\nnewrdn: uid=u02r\ndeleteoldrdn: 1\n\n",
        people("u02")
    ));
    let now = converge(ldap_port, &scim.base_url(), progress, "rename").await;
    assert_eq!(
        id_of(&now, &people("u02r")),
        Some(before),
        "same resource after the rename"
    );

    // A member deleted: gone from its groups (and as a manager).
    let gone = id_of(&now, &people("u03")).unwrap();
    modify(&format!("dn: {}\nchangetype: delete\n\n", people("u03")));
    converge(ldap_port, &scim.base_url(), progress, "delete").await;
    for g in scim_list(&scim.base_url(), "Groups") {
        assert!(
            !g["members"].to_string().contains(&gone),
            "deleted u03 still in {g}"
        );
    }

    // Nested: a new group holding eng, and itself added to all.
    modify(&format!(
        "dn: {}\nchangetype: add\nobjectClass: groupOfNames\ncn: leads\nmember: {}\nmember: {}\n\n\
         dn: {}\nchangetype: modify\nadd: member\nmember: {}\n\n",
        group("leads"),
        group("eng"),
        people("u00"),
        group("all"),
        group("leads"),
    ));
    converge(ldap_port, &scim.base_url(), progress, "nested group").await;

    // The rejected user is fixed: created, and eng gains it (its pending reference resolves).
    modify(&format!(
        "dn: {}\nchangetype: modify\ndelete: mail\nmail: b@work.example\n\n",
        people("twomail")
    ));
    let now = converge(ldap_port, &scim.base_url(), progress, "pending reference").await;
    assert!(id_of(&now, &people("twomail")).is_some());
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.pending_reference_count(PIPE).await.unwrap() != 0 {
        assert!(Instant::now() < deadline, "the pending reference stays");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = progress.snapshot();
    assert!(status.counts.members_added >= 4, "{status:#?}");
    assert!(status.counts.members_removed >= 1, "{status:#?}");
    run.stop().await;

    // And a resync afterwards has nothing to change.
    let last = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(
        (last.created, last.modified, last.rejected),
        (0, 0, 0),
        "{last:#?}"
    );
    assert_same(ldap_port, &scim.base_url());

    // A PUT destination sends whole member lists.
    let mut config = config;
    config.scim_destinations[0].update_method = engine::config::UpdateMethod::Put;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    modify(&format!(
        "dn: {}\nchangetype: modify\ndelete: member\nmember: {}\n\n\
         dn: {}\nchangetype: modify\nadd: uniqueMember\nuniqueMember: {}\n\n",
        group("eng"),
        people("u05"),
        group("ops"),
        people("u11"),
    ));
    let put = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(
        (put.modified, put.members_added, put.members_removed),
        (2, 1, 1),
        "{put:#?}"
    );
    assert_same(ldap_port, &scim.base_url());
}

#[tokio::test]
async fn openldap_groups_managers_and_emails() {
    let slapd = Slapd::start();
    directory_round_trip(slapd.port, ChangelogFlavor::OpenldapAccesslog, |ldif| {
        slapd.modify(ldif)
    })
    .await;
}

#[tokio::test]
async fn ds389_groups_managers_and_emails() {
    let ds = Ds389::start();
    directory_round_trip(ds.port, ChangelogFlavor::DraftGood, |ldif| ds.modify(ldif)).await;
}

/// The requests nginx forwarded through `/recorded/` since line `from`: (method, path, body).
fn recorded(proxy: &AuthProxy, from: usize) -> Vec<(String, String, String)> {
    proxy
        .recorded_requests()
        .lines()
        .skip(from)
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            let (method, path) = (parts.next().unwrap(), parts.next().unwrap());
            let escaped = parts.next().unwrap_or_default();
            let body: String = serde_json::from_str(&format!("\"{escaped}\"")).unwrap();
            (method.to_owned(), path.to_owned(), body)
        })
        .collect()
}

/// Changes one PATCH request makes: each value of an `add`, else one per operation.
fn changes(body: &str) -> usize {
    let body: Value = serde_json::from_str(body).unwrap();
    body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| match (&op["op"], &op["value"]) {
            (Value::String(o), Value::Array(values)) if o == "add" => values.len(),
            _ => 1,
        })
        .sum()
}

#[tokio::test]
async fn one_member_of_a_5000_member_group_is_one_small_patch() {
    const MEMBERS: u32 = 5000;
    // scim2-server needs ~130 ms per filtered remove on a group this size: keep requests short.
    const SPARE: u32 = 60;
    const CAP: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let member = |i: u32| people(&format!("m{i:04}"));
    let mut ldif: String = (0..MEMBERS + SPARE)
        .map(|i| {
            format!(
                "dn: {}\nobjectClass: inetOrgPerson\nuid: m{i:04}\ncn: Member {i:04}\nsn: M\n\
                 mail: m{i:04}@work.example\n\n",
                member(i)
            )
        })
        .collect();
    ldif += &format!(
        "dn: {}\nobjectClass: groupOfNames\ncn: big\n{}\n",
        group("big"),
        members("member", &(0..MEMBERS).map(member).collect::<Vec<_>>())
    );
    let file = dir.path().join("big.ldif");
    std::fs::write(&file, ldif).unwrap();
    let slapd = Slapd::start_with(Some(&file));
    let scim = Scim2Server::start(TOKEN);
    let proxy = AuthProxy::start(&scim, TOKEN, "u", "p", "c", "s");
    let (store, mut config) = setup(
        slapd.address(),
        ChangelogFlavor::OpenldapAccesslog,
        &format!("http://127.0.0.1:{}/recorded/v2", proxy.port),
        dir.path(),
    )
    .await;
    config.scim_destinations[0].max_operations_per_patch = CAP as u32;
    config.scim_servers[0].response_timeout_ms = 60_000;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    let counts = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(counts.created, (MEMBERS + SPARE + 1) as u64, "{counts:#?}");
    assert_eq!(counts.members_added, MEMBERS as u64);
    assert_same(slapd.port, &scim.base_url());

    let run = RealtimeRun::from_end(&store, &config, PIPE).await;
    let progress = &run.progress;
    let writes = |from: usize| -> Vec<(String, String, String)> {
        recorded(&proxy, from)
            .into_iter()
            .filter(|(method, _, _)| method != "GET")
            .collect()
    };

    // One member leaves: one PATCH, a small one.
    let mark = proxy.recorded_requests().lines().count();
    slapd.modify(&format!(
        "dn: {}\nchangetype: modify\ndelete: member\nmember: {}\n\n",
        group("big"),
        member(MEMBERS - 1)
    ));
    converge(slapd.port, &scim.base_url(), progress, "one member removed").await;
    let sent = writes(mark);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (method, path, body) = &sent[0];
    assert_eq!(method, "PATCH");
    assert!(path.starts_with("/recorded/v2/Groups/"), "{path}");
    assert!(body.len() < 2048, "{} bytes: {body}", body.len());
    println!(
        "one member of {MEMBERS} removed: {method} {path} ({} bytes) {body}",
        body.len()
    );
    assert_eq!(changes(body), 1, "{body}");

    // 60 leave and 60 join in one change: PATCH requests of at most 50 changes each.
    let mark = proxy.recorded_requests().lines().count();
    let mut change = format!("dn: {}\nchangetype: modify\ndelete: member\n", group("big"));
    change += &members("member", &(0..SPARE).map(member).collect::<Vec<_>>());
    change += "-\nadd: member\n";
    change += &members(
        "member",
        &(MEMBERS..MEMBERS + SPARE).map(member).collect::<Vec<_>>(),
    );
    slapd.modify(&(change + "\n"));
    converge(
        slapd.port,
        &scim.base_url(),
        progress,
        "120 members changed",
    )
    .await;
    let sent = writes(mark);
    assert!(
        sent.iter()
            .all(|(m, p, _)| m == "PATCH" && p.starts_with("/recorded/v2/Groups/")),
        "{sent:?}"
    );
    let sizes: Vec<usize> = sent.iter().map(|(_, _, body)| changes(body)).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 2 * SPARE as usize, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n <= CAP), "{sizes:?}");
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    // SCIM can be in line a moment before the change is counted.
    let deadline = Instant::now() + Duration::from_secs(10);
    while progress.snapshot().counts.changes < 2 {
        assert!(Instant::now() < deadline, "{:#?}", progress.snapshot());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = progress.snapshot();
    assert_eq!(
        (status.counts.members_added, status.counts.members_removed),
        (SPARE as u64, SPARE as u64 + 1),
        "{status:#?}"
    );
    run.stop().await;
}
