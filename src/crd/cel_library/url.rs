//! Kubernetes' URL library (`urls.go`): `isURL`, `url()` and a URL's parts, URLs read as Go's
//! `net/url` reads them: valid when `url.ParseRequestURI` takes them (an absolute URI or an
//! absolute path), their parts those `url.Parse` finds.

use std::collections::HashMap;

use ::cel::common::types::{CelBool, CelList, CelMap, CelMapKey, CelString};
use ::cel::common::value::Val;
use ::cel::{DeclarationError, Env, ExecutionError};

use crate::validation::url::GoUrl;

opaque_type!(GoUrl, "kubernetes.URL");

pub(super) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_type(GoUrl::cel_type().to_owned())?;
    ::cel::add_overload!(env, fn url: (CelString) -> Result<GoUrl>)?;
    ::cel::add_overload!(env, fn is_url: (CelString) -> CelBool, name = "isURL")?;
    ::cel::add_member_overload!(env, fn get_scheme: (GoUrl) -> CelString)?;
    ::cel::add_member_overload!(env, fn get_host: (GoUrl) -> CelString)?;
    ::cel::add_member_overload!(env, fn get_hostname: (GoUrl) -> CelString)?;
    ::cel::add_member_overload!(env, fn get_port: (GoUrl) -> CelString)?;
    ::cel::add_member_overload!(env, fn get_escaped_path: (GoUrl) -> CelString)?;
    ::cel::add_member_overload!(env, fn get_query: (GoUrl) -> CelMap)?;
    Ok(())
}

/// `url(s)`: checked as `ParseRequestURI` checks it, then parsed again with `Parse`, as upstream
/// does, since the former leaves a fragment in the path or query.
fn url(s: &CelString<'_>) -> Result<GoUrl, ExecutionError> {
    GoUrl::parse_request_uri(s)
        .and_then(|_| GoUrl::parse(s))
        .map_err(|e| {
            let message = format!("URL parse error during conversion from string: {e}");
            ExecutionError::function_error("url", message)
        })
}

fn is_url(s: &CelString<'_>) -> CelBool {
    CelBool::from(GoUrl::parse_request_uri(s).is_ok())
}

fn get_scheme(url: &GoUrl) -> CelString<'static> {
    CelString::from(url.scheme.clone())
}

/// The host and port, an IPv6 literal in brackets (`[::1]:80`).
fn get_host(url: &GoUrl) -> CelString<'static> {
    CelString::from(url.host.clone())
}

/// The host without port or brackets (`::1`).
fn get_hostname(url: &GoUrl) -> CelString<'static> {
    CelString::from(url.hostname().to_owned())
}

fn get_port(url: &GoUrl) -> CelString<'static> {
    CelString::from(url.port().to_owned())
}

fn get_escaped_path(url: &GoUrl) -> CelString<'static> {
    CelString::from(url.escaped_path())
}

/// The query as a `map(string, list(string))`, a key given several times holding each value.
fn get_query(url: &GoUrl) -> CelMap<'static> {
    let entries: HashMap<CelMapKey<'static>, Box<dyn Val>> = url
        .query()
        .into_iter()
        .map(|(key, values)| {
            let values: Vec<Box<dyn Val>> = values
                .into_iter()
                .map(|value| Box::new(CelString::from(value)) as Box<dyn Val>)
                .collect();
            (
                CelMapKey::from(key),
                Box::new(CelList::from(values)) as Box<dyn Val>,
            )
        })
        .collect();
    CelMap::from(entries)
}

#[cfg(test)]
mod tests {
    use super::super::assert_holds;
    use crate::crd::cel::evaluate;

    #[test]
    fn urls_are_absolute_uris_or_absolute_paths() {
        assert_holds(&[
            "isURL('https://user:pass@example.com:80/path?query=val#fragment')",
            "isURL('/absolute-path') && isURL('mailto:someone@example.com')",
            "!isURL('https://a:b:c/') && !isURL('../relative-path') && !isURL('')",
            "url('https://example.com/a') == url('HTTPS://example.com/a')",
            "url('https://example.com/a') != url('https://example.com/b')",
            "type(url('/path')) == kubernetes.URL",
        ]);
        assert_eq!(
            evaluate("url('../relative-path')", &[]),
            Err(
                "Error executing function 'url': URL parse error during conversion from string: \
                 parse \"../relative-path\": invalid URI for request"
                    .to_owned()
            )
        );
        assert_eq!(
            evaluate("url('https://a:b:c/')", &[]),
            Err(
                "Error executing function 'url': URL parse error during conversion from string: \
                 parse \"https://a:b:c/\": invalid port \":c\" after host"
                    .to_owned()
            )
        );
    }

    #[test]
    fn urls_give_their_parts() {
        assert_holds(&[
            "url('/path').getScheme() == '' && url('https://example.com/').getScheme() == 'https'",
            "url('https://example.com:80/').getHost() == 'example.com:80'",
            "url('https://example.com/').getHost() == 'example.com'",
            "url('https://[::1]:80/').getHost() == '[::1]:80'",
            "url('/path').getHost() == ''",
            "url('https://example.com:80/').getHostname() == 'example.com'",
            "url('https://[::1]:80/').getHostname() == '::1'",
            "url('https://[::1]/').getHostname() == '::1'",
            "url('https://example.com:80/').getPort() == '80'",
            "url('https://example.com/').getPort() == ''",
            "url('https://example.com/path').getEscapedPath() == '/path'",
            "url('https://example.com/path with spaces/').getEscapedPath() == '/path%20with%20spaces/'",
            "url('https://example.com/a%2Fb').getEscapedPath() == '/a%2Fb'",
            "url('https://example.com').getEscapedPath() == ''",
            "url('https://example.com/p#frag').getEscapedPath() == '/p'",
        ]);
    }

    #[test]
    fn queries_are_maps_of_lists() {
        assert_holds(&[
            "url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == {'k1': ['a'], 'k2': ['b', 'c']}",
            "url('https://example.com/path?key with spaces=value with spaces').getQuery() \
             == {'key with spaces': ['value with spaces']}",
            "url('https://example.com/path?a=1+2&b=%41&c;d=e&f=%zz').getQuery() == {'a': ['1 2'], 'b': ['A']}",
            "url('https://example.com/path?').getQuery() == {}",
            "url('https://example.com/path').getQuery() == {}",
        ]);
    }
}
