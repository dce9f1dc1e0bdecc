//! What a resource request asks for, read from its method, path and query the way upstream's
//! RequestInfoFactory reads them: verb, group/version, resource, namespace, name, subresource.

use axum::http::Method;

use super::ApiError;
use crate::registry::{Resource, Served, Subresource};

/// The verb of a resource request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

/// A resolved resource request.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub verb: Verb,
    pub resource: &'static Resource,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<Subresource>,
}

/// Subresources of namespaces, which would otherwise read as a resource inside the namespace.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

impl RequestInfo {
    /// Resolves `parts` (the path after `/api/v1` or `/apis/<group>/<version>`) among the
    /// resources `served`.
    pub fn resolve(
        served: &Served,
        method: &Method,
        group: &str,
        version: &str,
        parts: &[&str],
        watch_param: bool,
    ) -> Result<RequestInfo, ApiError> {
        let (legacy_watch, parts) = match parts {
            ["watch", rest @ ..] => (true, rest),
            rest => (false, rest),
        };
        let (namespace, parts) = match parts {
            ["namespaces", ns, rest @ ..]
                if !rest.is_empty() && !NAMESPACE_SUBRESOURCES.contains(&rest[0]) =>
            {
                (Some((*ns).to_owned()), rest)
            }
            rest => (None, rest),
        };
        let (plural, name, subresource) = match parts {
            [plural] => (*plural, None, None),
            [plural, name] => (*plural, Some((*name).to_owned()), None),
            [plural, name, sub] => (*plural, Some((*name).to_owned()), Some(*sub)),
            _ => return Err(ApiError::NoSuchPath),
        };
        let resource = served
            .find(group, version, plural)
            .ok_or(ApiError::NoSuchPath)?;
        let subresource = match subresource {
            Some(sub) => Some(resource.subresource(sub).ok_or(ApiError::NoSuchPath)?),
            None => None,
        };
        if namespace.is_some() && !resource.namespaced {
            return Err(ApiError::NoSuchPath);
        }
        if name.as_deref() == Some("") || namespace.as_deref() == Some("") {
            return Err(ApiError::NoSuchPath);
        }
        let verb = match (method.as_str(), name.is_some()) {
            ("GET", _) if legacy_watch || (watch_param && subresource.is_none()) => Verb::Watch,
            ("GET", true) => Verb::Get,
            ("GET", false) => Verb::List,
            ("POST", _) => Verb::Create,
            ("PUT", true) => Verb::Update,
            ("PATCH", true) => Verb::Patch,
            ("DELETE", true) => Verb::Delete,
            ("DELETE", false) => Verb::DeleteCollection,
            _ => return Err(ApiError::MethodNotAllowed),
        };
        let info = RequestInfo {
            verb,
            resource,
            namespace,
            name,
            subresource,
        };
        info.check_scope()?;
        Ok(info)
    }

    /// Namespaced objects are created and addressed inside a namespace; only lists and
    /// watches span all of them.
    fn check_scope(&self) -> Result<(), ApiError> {
        let spans_namespaces =
            matches!(self.verb, Verb::List | Verb::Watch | Verb::DeleteCollection)
                && self.name.is_none();
        if self.resource.namespaced && self.namespace.is_none() && !spans_namespaces {
            return Err(ApiError::NoSuchPath);
        }
        if self.verb == Verb::Create && self.subresource.is_none() && self.name.is_some() {
            return Err(ApiError::MethodNotAllowed);
        }
        Ok(())
    }

    /// The object's name; every verb that reaches an object has one.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(method: Method, group: &str, path: &str) -> Result<RequestInfo, ApiError> {
        let parts: Vec<&str> = path.split('/').collect();
        RequestInfo::resolve(&Served::default(), &method, group, "v1", &parts, false)
    }

    #[test]
    fn reads_namespaced_paths() {
        let info = resolve(Method::GET, "apps", "namespaces/default/deployments/web").unwrap();
        assert_eq!(info.verb, Verb::Get);
        assert_eq!(info.resource.plural, "deployments");
        assert_eq!(info.namespace(), Some("default"));
        assert_eq!(info.name(), "web");
        let info = resolve(
            Method::PATCH,
            "apps",
            "namespaces/default/deployments/web/scale",
        )
        .unwrap();
        assert_eq!(
            (info.verb, info.subresource),
            (Verb::Patch, Some(Subresource::Scale))
        );
    }

    #[test]
    fn tells_namespace_subresources_from_resources_in_a_namespace() {
        let info = resolve(Method::PUT, "", "namespaces/x/finalize").unwrap();
        assert_eq!(info.resource.plural, "namespaces");
        assert_eq!(info.subresource, Some(Subresource::Finalize));
        let info = resolve(Method::GET, "", "namespaces/x").unwrap();
        assert_eq!((info.resource.plural, info.name()), ("namespaces", "x"));
        let info = resolve(Method::GET, "", "namespaces/x/pods").unwrap();
        assert_eq!((info.verb, info.resource.plural), (Verb::List, "pods"));
    }

    #[test]
    fn lists_and_watches_may_span_namespaces_but_creates_may_not() {
        assert_eq!(resolve(Method::GET, "", "pods").unwrap().verb, Verb::List);
        assert_eq!(
            resolve(Method::GET, "", "watch/pods").unwrap().verb,
            Verb::Watch
        );
        assert!(matches!(
            resolve(Method::POST, "", "pods"),
            Err(ApiError::NoSuchPath)
        ));
        assert_eq!(
            resolve(Method::POST, "", "nodes").unwrap().verb,
            Verb::Create
        );
    }

    #[test]
    fn unknown_resources_and_subresources_are_not_found() {
        assert!(matches!(
            resolve(Method::GET, "", "widgets"),
            Err(ApiError::NoSuchPath)
        ));
        assert!(matches!(
            resolve(Method::GET, "", "namespaces/d/pods/p/bogus"),
            Err(ApiError::NoSuchPath)
        ));
        assert!(matches!(
            resolve(Method::GET, "", "nodes/n/status/extra"),
            Err(ApiError::NoSuchPath)
        ));
        assert!(matches!(
            resolve(Method::PUT, "", "pods"),
            Err(ApiError::MethodNotAllowed)
        ));
    }
}
