//! The params a binding hands its policy: objects of the policy's `paramKind` that the
//! binding's `paramRef` names or selects, read from the store when a request needs them (as
//! upstream's plug-in reads them from its informers), each evaluated on its own.

use k8s_openapi::api::admissionregistration::v1::ParamRef;
use serde_json::Value;

use super::super::Attributes;
use super::super::webhooks::rules;
use super::stored::Policy;
use crate::apiserver::{ApiError, ApiState};
use crate::controllers::selector;
use crate::registry::Resource;

/// Why params cannot be had, worded as upstream's; each refuses the request unless the
/// policy's failure policy is `Ignore`.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// The policy's `paramKind` is no kind served here: the policy's fault, not a binding's.
    #[error("failed to find resource referenced by paramKind: '{0}'")]
    UnknownKind(String),
    #[error(
        "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources"
    )]
    NoNamespace,
    #[error("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")]
    ClusterScoped,
    #[error("one of name or selector must be provided")]
    Unreferenced,
    #[error("no params found for policy binding with `Deny` parameterNotFoundAction")]
    NotFound,
    #[error(transparent)]
    Read(#[from] ApiError),
}

/// The resource of the policy's `paramKind`, none when it takes no params.
pub fn kind(state: &ApiState, policy: &Policy) -> Result<Option<&'static Resource>, ParamsError> {
    let Some(kind) = &policy.param_kind else {
        return Ok(None);
    };
    let api_version = kind.api_version.as_deref().unwrap_or_default();
    let name = kind.kind.as_deref().unwrap_or_default();
    if let Some(resource) = state.served().served.find_kind(api_version, name) {
        return Ok(Some(resource));
    }
    // Go's GroupVersionKind as it prints: `example.com/v1, Kind=Limits`, `/v1, Kind=Limits`.
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    Err(ParamsError::UnknownKind(format!(
        "{group}/{version}, Kind={name}"
    )))
}

/// The params to evaluate the policy with, one evaluation each: a single null when the policy
/// takes none (`kind` is none) or the binding names none; otherwise the object `reference`
/// names, or those its selector picks, in its namespace (the request's when it names none).
/// None found is no evaluation at all, unless the binding's `parameterNotFoundAction` is `Deny`.
pub async fn collect(
    state: &ApiState,
    kind: Option<&'static Resource>,
    reference: Option<&ParamRef>,
    attributes: &Attributes<'_>,
) -> Result<Vec<Value>, ParamsError> {
    let (Some(kind), Some(reference)) = (kind, reference) else {
        return Ok(vec![Value::Null]);
    };
    let given = reference.namespace.as_deref().filter(|ns| !ns.is_empty());
    let namespace = namespace(kind.namespaced, given, attributes.namespace)?;
    let name = reference.name.as_deref().filter(|name| !name.is_empty());
    let found: Vec<Value> = match (name, &reference.selector) {
        (Some(name), _) => state
            .objects
            .find(kind, namespace, name)
            .await?
            .into_iter()
            .collect(),
        (None, Some(wanted)) => {
            let all = state.objects.list(kind, namespace, None, None).await?;
            all.items
                .into_iter()
                .filter(|param| selector::matches(wanted, Some(&rules::labels(param))))
                .collect()
        }
        (None, None) => return Err(ParamsError::Unreferenced),
    };
    if found.is_empty() && reference.parameter_not_found_action.as_deref() == Some("Deny") {
        return Err(ParamsError::NotFound);
    }
    Ok(found)
}

/// Where params of a kind are looked for: in the namespace the binding gives, else the
/// request's, for a namespaced kind; nowhere in particular for a cluster-scoped one, which a
/// binding may not give a namespace.
fn namespace<'a>(
    namespaced: bool,
    given: Option<&'a str>,
    request: Option<&'a str>,
) -> Result<Option<&'a str>, ParamsError> {
    match (namespaced, given) {
        (true, Some(given)) => Ok(Some(given)),
        (true, None) => request.map(Some).ok_or(ParamsError::NoNamespace),
        (false, Some(_)) => Err(ParamsError::ClusterScoped),
        (false, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_looked_for_in_the_namespace_their_kind_allows() {
        assert_eq!(
            namespace(true, Some("limits"), Some("web")).ok(),
            Some(Some("limits"))
        );
        assert_eq!(namespace(true, None, Some("web")).ok(), Some(Some("web")));
        assert!(matches!(
            namespace(true, None, None),
            Err(ParamsError::NoNamespace)
        ));
        assert!(matches!(
            namespace(false, Some("limits"), Some("web")),
            Err(ParamsError::ClusterScoped)
        ));
        assert_eq!(namespace(false, None, Some("web")).ok(), Some(None));
    }

    #[test]
    fn errors_read_as_upstreams() {
        assert_eq!(
            ParamsError::NotFound.to_string(),
            "no params found for policy binding with `Deny` parameterNotFoundAction"
        );
        assert_eq!(
            ParamsError::UnknownKind("example.com/v1, Kind=Limits".into()).to_string(),
            "failed to find resource referenced by paramKind: 'example.com/v1, Kind=Limits'"
        );
    }
}
