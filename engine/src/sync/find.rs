//! Finding an entry's SCIM resource with its endpoint's search mappings.

use super::failure::{Fail, Failure};
use super::plan::PipePlan;
use crate::mapping::{EndpointMapper, LdapEntry, search_filter};
use crate::rejection::FailedStep;
use serde_json::Value;

/// What a search by the endpoint's search mappings found.
pub(crate) enum Found {
    None,
    One(Value),
}

pub(crate) async fn find_by_search(
    plan: &PipePlan,
    mapper: &EndpointMapper,
    entry: &LdapEntry,
    fail: &Fail<'_>,
) -> Result<Found, Failure> {
    let filter =
        search_filter(mapper, entry).map_err(|e| fail.rejected(FailedStep::Map, e.to_string()))?;
    let endpoint = mapper.endpoint.endpoint_path.as_str();
    let query = plan.destination.query_method;
    let request = || Some(plan.client.search_request(endpoint, &filter, query));
    let found = plan
        .client
        .search(endpoint, &filter, query)
        .await
        .map_err(|e| fail.scim(FailedStep::Search, &e, request()))?;
    match found.len() {
        0 => Ok(Found::None),
        1 => Ok(Found::One(found.into_iter().next().expect("one"))),
        n => {
            let reason =
                format!("{n} resources match {filter}; the entry's resource must be unique");
            Err(fail
                .rejected(FailedStep::Search, reason)
                .with_request(request(), entry))
        }
    }
}
