//! Reads: get one object and list many, with selectors and `limit`/`continue` paging, shaped as
//! the client accepts (object, Table, PartialObjectMetadata).

use base64::Engine;
use serde_json::{Value, json};

use super::{Answer, Request};
use crate::apiserver::codec::{IncludeObject, Output, partial_metadata};
use crate::apiserver::selectors::{FieldSelector, LabelSelector};
use crate::apiserver::{ApiError, ApiState, table};
use crate::registry::Resource;
use crate::store::Revision;

/// GET of one object (or its status).
pub async fn get(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let object = state
        .objects
        .get(r, request.info.namespace(), request.info.name())
        .await?;
    let body = match request.accept.output {
        Output::Object => object,
        Output::PartialMetadata => partial_metadata(&object),
        Output::Table => {
            let metadata = json!({"resourceVersion": object["metadata"]["resourceVersion"]});
            table::table(r, std::slice::from_ref(&object), metadata, include(request))
        }
    };
    Ok(Answer::ok(body))
}

pub fn include(request: &Request) -> IncludeObject {
    request
        .params
        .include_object
        .unwrap_or(IncludeObject::Metadata)
}

/// The selectors of a list or watch request.
pub struct Filter {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn from_request(request: &Request) -> Result<Filter, ApiError> {
        let r = request.info.resource;
        let labels =
            LabelSelector::parse(request.params.label_selector.as_deref().unwrap_or_default())?;
        let mut fields = FieldSelector::parse(
            request.params.field_selector.as_deref().unwrap_or_default(),
            r,
        )?;
        if let Some(name) = request.info.name.as_deref() {
            fields = FieldSelector::parse(&format!("metadata.name={name}"), r)?;
        }
        Ok(Filter { labels, fields })
    }

    /// Whether this filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    pub fn matches(&self, r: &Resource, object: &Value) -> bool {
        self.labels.matches_object(object) && self.fields.matches(r, object)
    }
}

/// Where a paged listing resumes: the revision it started at and the last key it returned.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Continue {
    rv: Revision,
    start: String,
}

fn encode_continue(token: &Continue) -> String {
    let json = serde_json::to_vec(token).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_continue(text: &str) -> Result<Continue, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| ApiError::BadRequest(format!("continue key is not valid: {text}")))
}

/// A listing: the matching objects and the list metadata.
pub struct Listing {
    pub items: Vec<Value>,
    pub revision: Revision,
    pub continue_token: Option<String>,
}

/// Lists objects matching the request's selectors, one page of `limit` at most.
pub async fn select(
    state: &ApiState,
    request: &Request,
    filter: &Filter,
) -> Result<Listing, ApiError> {
    let r = request.info.resource;
    let ns = request.info.namespace();
    let resume = match request.params.continue_token.as_deref() {
        Some(text) => Some(decode_continue(text)?),
        None => None,
    };
    if let Some(resume) = &resume
        && resume.rv < state.objects.store().compacted()
    {
        return Err(ApiError::Expired(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue value from the response to get a consistent list.".into(),
            ));
    }
    if let (Some(name), None) = (filter.fields.name(), &resume)
        && (ns.is_some() || !r.namespaced)
    {
        // The revision is read before the object, so a watch from it replays any change
        // made after the read instead of missing one made in between.
        let revision = state.objects.store().revision();
        let found = state.objects.find(r, ns, name).await?;
        return Ok(Listing {
            items: found.into_iter().filter(|o| filter.matches(r, o)).collect(),
            revision,
            continue_token: None,
        });
    }
    let limit = request.params.limit;
    let mut start = resume.as_ref().map(|c| c.start.clone());
    let mut items = Vec::new();
    let mut revision = None;
    loop {
        let want = limit.map(|l| (l - items.len()).max(64));
        let page = state.objects.list(r, ns, start.as_deref(), want).await?;
        revision.get_or_insert(page.revision);
        for item in page.items {
            if limit.is_some_and(|l| items.len() == l) {
                break;
            }
            if filter.matches(r, &item) {
                items.push(item);
            }
        }
        let full = limit.is_some_and(|l| items.len() == l);
        match page.last_key {
            Some(last) if !full => start = Some(last),
            Some(_) | None => {
                let revision = resume
                    .as_ref()
                    .map(|c| c.rv)
                    .or(revision)
                    .unwrap_or_default();
                let continue_token = match (full, items.last()) {
                    (true, Some(last)) if more_after(state, r, ns, last).await? => {
                        Some(encode_continue(&Continue {
                            rv: revision,
                            start: key_of(r, last),
                        }))
                    }
                    _ => None,
                };
                return Ok(Listing {
                    items,
                    revision,
                    continue_token,
                });
            }
        }
    }
}

fn key_of(r: &Resource, object: &Value) -> String {
    r.key(
        object["metadata"]["namespace"].as_str(),
        object["metadata"]["name"].as_str().unwrap_or_default(),
    )
}

/// Whether any object of `r` follows `last` in key order.
async fn more_after(
    state: &ApiState,
    r: &Resource,
    ns: Option<&str>,
    last: &Value,
) -> Result<bool, ApiError> {
    let page = state
        .objects
        .list(r, ns, Some(&key_of(r, last)), Some(1))
        .await?;
    Ok(!page.items.is_empty())
}

/// GET of a collection.
pub async fn list(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let filter = Filter::from_request(request)?;
    let listing = select(state, request, &filter).await?;
    let mut metadata = json!({"resourceVersion": listing.revision.to_string()});
    if let Some(token) = &listing.continue_token {
        metadata["continue"] = json!(token);
    }
    let body = match request.accept.output {
        Output::Table => table::table(r, &listing.items, metadata, include(request)),
        Output::PartialMetadata => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": metadata,
            "items": listing.items.iter().map(partial_metadata).collect::<Vec<_>>(),
        }),
        Output::Object => json!({
            "kind": format!("{}List", r.kind),
            "apiVersion": r.api_version(),
            "metadata": metadata,
            "items": listing.items,
        }),
    };
    Ok(Answer::ok(body))
}
