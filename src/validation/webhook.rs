//! Where the API server calls a webhook (admission, CRD conversion): upstream's shared checks
//! of a client config's URL or service reference.

use std::collections::HashSet;

use super::field::{ErrorList, FieldError, Path};
use super::go;
use super::names::{is_dns1035_label, is_dns1123_subdomain, is_valid_port_num};
use super::url::GoUrl;

/// The review versions (AdmissionReview, ConversionReview) the API server can send; a webhook
/// must accept one of them.
pub(super) const ACCEPTED_REVIEW_VERSIONS: [&str; 2] = ["v1", "v1beta1"];

/// The port of a service reference that names none.
const DEFAULT_SERVICE_PORT: i32 = 443;
const URL_FORM: &str = "; desired format: https://host[/path]";

/// A service reference, whichever API group's type it came in.
#[derive(Clone, Copy)]
pub(super) struct Service<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub path: Option<&'a str>,
    pub port: Option<i32>,
}

/// The API server calls a webhook either at a URL or through a service of the cluster.
pub(super) fn client_config(
    url_given: Option<&str>,
    service_given: Option<Service<'_>>,
    path: &Path,
) -> ErrorList {
    match (url_given, service_given) {
        (Some(raw), None) => url(raw, &path.child("url")),
        (None, Some(reference)) => service(&reference, &path.child("service")),
        _ => vec![FieldError::required(
            path,
            "exactly one of url or service is required",
        )],
    }
}

/// A webhook URL is only ever called over TLS and carries neither credentials, a query nor a
/// fragment.
fn url(raw: &str, path: &Path) -> ErrorList {
    let url = match GoUrl::parse(raw) {
        Ok(url) => url,
        Err(err) => {
            return vec![FieldError::required(
                path,
                format!("url must be a valid URL: {err}{URL_FORM}"),
            )];
        }
    };
    let mut errs = ErrorList::new();
    if url.scheme != "https" {
        errs.push(FieldError::invalid(
            path,
            &url.scheme,
            format!("'https' is the only allowed URL scheme{URL_FORM}"),
        ));
    }
    if url.host.is_empty() {
        errs.push(FieldError::invalid(
            path,
            &url.host,
            format!("host must be specified{URL_FORM}"),
        ));
    }
    if let Some(user) = &url.user {
        errs.push(FieldError::invalid(
            path,
            user,
            "user information is not permitted in the URL",
        ));
    }
    if !url.fragment.is_empty() {
        errs.push(FieldError::invalid(
            path,
            &url.fragment,
            "fragments are not permitted in the URL",
        ));
    }
    if !url.raw_query.is_empty() {
        errs.push(FieldError::invalid(
            path,
            &url.raw_query,
            "query parameters are not permitted in the URL",
        ));
    }
    errs
}

/// A service reference needs a name, a namespace and a valid port, and a path whose segments
/// are DNS subdomains.
///
/// Upstream's caller hands the service's name to the parameter meant for its namespace and the
/// namespace to the one meant for its name, so a missing namespace is reported at `name` and a
/// missing name at `namespace`; that is kept so the messages match kube-apiserver's.
fn service(service: &Service<'_>, path: &Path) -> ErrorList {
    let Service {
        namespace,
        name,
        path: url_path,
        port,
    } = *service;
    let mut errs = ErrorList::new();
    if namespace.is_empty() {
        errs.push(FieldError::required(
            &path.child("name"),
            "service name is required",
        ));
    }
    if name.is_empty() {
        errs.push(FieldError::required(
            &path.child("namespace"),
            "service namespace is required",
        ));
    }
    let port = port.unwrap_or(DEFAULT_SERVICE_PORT);
    let port_errs = is_valid_port_num(i64::from(port));
    if !port_errs.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("port"),
            port,
            format!("port is not valid: {}", port_errs.join(", ")),
        ));
    }
    let url_path = match url_path {
        None | Some("" | "/") => return errs,
        Some(url_path) => url_path,
    };
    let path_field = path.child("path");
    if url_path == "//" {
        errs.push(FieldError::invalid(
            &path_field,
            url_path,
            "segment[0] may not be empty",
        ));
        return errs;
    }
    if !url_path.starts_with('/') {
        errs.push(FieldError::invalid(
            &path_field,
            url_path,
            "must start with a '/'",
        ));
    }
    // Upstream drops the first character whether or not it is the leading slash.
    let first = url_path.chars().next().map_or(0, char::len_utf8);
    let segments = &url_path[first..];
    let segments = segments.strip_suffix('/').unwrap_or(segments);
    for (i, segment) in segments.split('/').enumerate() {
        if segment.is_empty() {
            errs.push(FieldError::invalid(
                &path_field,
                url_path,
                format!("segment[{i}] may not be empty"),
            ));
            continue;
        }
        errs.extend(
            is_dns1123_subdomain(segment)
                .into_iter()
                .map(|m| FieldError::invalid(&path_field, url_path, format!("segment[{i}]: {m}"))),
        );
    }
    errs
}

/// The webhook must accept a review version this server sends (unless a stored object
/// already did not); each version is listed once and is a DNS-1035 label. `none` is the
/// detail of the error for an empty list, which admission and conversion word differently.
pub(super) fn review_versions(
    versions: &[String],
    require_recognized: bool,
    none: &str,
    path: &Path,
) -> ErrorList {
    if versions.is_empty() {
        return vec![FieldError::required(path, none)];
    }
    let mut errs = ErrorList::new();
    let mut seen = HashSet::new();
    let mut has_accepted = false;
    for (i, version) in versions.iter().enumerate() {
        let version_path = path.index(i);
        if !seen.insert(version.as_str()) {
            errs.push(FieldError::invalid(
                &version_path,
                version,
                "duplicate version",
            ));
            continue;
        }
        errs.extend(
            is_dns1035_label(version)
                .into_iter()
                .map(|m| FieldError::invalid(&version_path, version, m)),
        );
        has_accepted |= ACCEPTED_REVIEW_VERSIONS.contains(&version.as_str());
    }
    if require_recognized && !has_accepted {
        errs.push(FieldError::invalid(
            path,
            go::strings(Some(versions)),
            format!(
                "must include at least one of {}",
                ACCEPTED_REVIEW_VERSIONS.join(", ")
            ),
        ));
    }
    errs
}
