//! A test double at the LDAP protocol level: a server that holds only a changelog and answers
//! searches of it as a real server may, but the test directories here never do — entries in
//! reverse order, and at most the requested size limit of them, the *highest*, with
//! sizeLimitExceeded. A reader that trusts the order or drops the truncation skips changes.

use futures::{SinkExt, StreamExt};
use ldap3_proto::LdapCodec;
use ldap3_proto::proto::{
    LdapBindResponse, LdapFilter, LdapMsg, LdapOp, LdapPartialAttribute, LdapResult,
    LdapResultCode, LdapSearchRequest, LdapSearchResultEntry,
};
use tokio_util::codec::Framed;

/// Which changelog the server holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `cn=changelog`, numbered 1..=N, announced in the root DSE.
    DraftGood,
    /// `cn=accesslog`, keyed by `reqStart`.
    Accesslog,
}

/// The running server; stops when dropped.
pub struct ShuffledChangelog {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ShuffledChangelog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `reqStart` of accesslog record `n` (sortable as text, as real ones are).
pub fn req_start(n: u64) -> String {
    format!("20261201000000.{n:06}Z")
}

impl ShuffledChangelog {
    /// A server with `changes` adds of `uid=u<n>,ou=people,dc=example,dc=com`, n = 1..=changes.
    pub async fn start(shape: Shape, changes: u64) -> ShuffledChangelog {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, shape, changes));
            }
        });
        ShuffledChangelog { port, task }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

async fn serve(socket: tokio::net::TcpStream, shape: Shape, changes: u64) {
    let mut framed = Framed::new(socket, LdapCodec::default());
    while let Some(Ok(msg)) = framed.next().await {
        let replies = match msg.op {
            LdapOp::BindRequest(_) => vec![LdapOp::BindResponse(LdapBindResponse {
                res: done(LdapResultCode::Success),
                saslcreds: None,
            })],
            LdapOp::SearchRequest(search) => search_replies(&search, shape, changes),
            LdapOp::UnbindRequest => return,
            _ => continue,
        };
        for op in replies {
            let reply = LdapMsg {
                msgid: msg.msgid,
                op,
                ctrl: Vec::new(),
            };
            if framed.send(reply).await.is_err() {
                return;
            }
        }
    }
}

fn done(code: LdapResultCode) -> LdapResult {
    LdapResult {
        code,
        matcheddn: String::new(),
        message: String::new(),
        referral: Vec::new(),
    }
}

fn attribute(name: &str, values: &[String]) -> LdapPartialAttribute {
    LdapPartialAttribute {
        atype: name.to_owned(),
        vals: values.iter().map(|v| v.as_bytes().to_vec()).collect(),
    }
}

fn entry(dn: String, attributes: &[(&str, String)]) -> LdapOp {
    LdapOp::SearchResultEntry(LdapSearchResultEntry {
        dn,
        attributes: attributes
            .iter()
            .map(|(name, value)| attribute(name, std::slice::from_ref(value)))
            .collect(),
    })
}

fn record(shape: Shape, n: u64) -> LdapOp {
    let target = format!("uid=u{n},ou=people,dc=example,dc=com");
    match shape {
        Shape::DraftGood => entry(
            format!("changenumber={n},cn=changelog"),
            &[
                ("objectClass", "changeLogEntry".into()),
                ("changeNumber", n.to_string()),
                ("targetDn", target),
                ("changeType", "add".into()),
                (
                    "changes",
                    format!("objectClass: inetOrgPerson\nuid: u{n}\n"),
                ),
            ],
        ),
        Shape::Accesslog => entry(
            format!("reqStart={},cn=accesslog", req_start(n)),
            &[
                ("objectClass", "auditAdd".into()),
                ("reqStart", req_start(n)),
                ("reqType", "add".into()),
                ("reqDN", target),
                ("reqResult", "0".into()),
                ("reqMod", format!("uid:+ u{n}")),
            ],
        ),
    }
}

/// The numbers of the records a filter selects, from its `>=` and `<=` bounds on the key.
fn selected(filter: &LdapFilter, shape: Shape, changes: u64) -> Vec<u64> {
    let key = |n: u64| match shape {
        Shape::DraftGood => format!("{n:020}"),
        Shape::Accesslog => req_start(n),
    };
    let bound = |value: &str| match shape {
        Shape::DraftGood => value
            .parse::<u64>()
            .map(|n| format!("{n:020}"))
            .unwrap_or_default(),
        Shape::Accesslog => value.to_owned(),
    };
    let attr = match shape {
        Shape::DraftGood => "changenumber",
        Shape::Accesslog => "reqstart",
    };
    let mut low = String::new();
    let mut high = "~".to_owned();
    let mut below = "~".to_owned();
    let mut visit = vec![filter];
    while let Some(f) = visit.pop() {
        match f {
            LdapFilter::And(parts) => visit.extend(parts),
            LdapFilter::GreaterOrEqual(a, v) if a.eq_ignore_ascii_case(attr) => {
                low = low.max(bound(v))
            }
            LdapFilter::LessOrEqual(a, v) if a.eq_ignore_ascii_case(attr) => {
                high = high.min(bound(v))
            }
            LdapFilter::Not(inner) => {
                if let LdapFilter::GreaterOrEqual(a, v) = inner.as_ref()
                    && a.eq_ignore_ascii_case(attr)
                {
                    below = below.min(bound(v))
                }
            }
            _ => {}
        }
    }
    (1..=changes)
        .filter(|n| key(*n) >= low && key(*n) <= high && key(*n) < below)
        .collect()
}

fn search_replies(search: &LdapSearchRequest, shape: Shape, changes: u64) -> Vec<LdapOp> {
    let base = search.base.to_ascii_lowercase();
    if base.is_empty() {
        let mut dse = vec![("namingContexts", "dc=example,dc=com".to_owned())];
        if shape == Shape::DraftGood {
            dse.push(("changelog", "cn=changelog".into()));
            dse.push(("firstChangeNumber", "1".into()));
            dse.push(("lastChangeNumber", changes.to_string()));
        }
        return vec![
            entry(String::new(), &dse),
            LdapOp::SearchResultDone(done(LdapResultCode::Success)),
        ];
    }
    if base != "cn=changelog" && base != "cn=accesslog" {
        return vec![LdapOp::SearchResultDone(done(LdapResultCode::NoSuchObject))];
    }
    // Newest first; past the size limit, the newest `limit` of them and sizeLimitExceeded.
    let mut numbers = selected(&search.filter, shape, changes);
    numbers.reverse();
    let limit = usize::try_from(search.sizelimit).unwrap_or(0);
    let truncated = limit > 0 && numbers.len() > limit;
    numbers.truncate(if truncated { limit } else { numbers.len() });
    let mut replies: Vec<LdapOp> = numbers.into_iter().map(|n| record(shape, n)).collect();
    replies.push(LdapOp::SearchResultDone(done(if truncated {
        LdapResultCode::SizeLimitExceeded
    } else {
        LdapResultCode::Success
    })));
    replies
}
