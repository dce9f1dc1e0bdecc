//! URLs read as Go's `net/url` reads them, so the webhook URLs upstream accepts are accepted here
//! and its parse errors reported in its words, and CEL's `url()` sees the parts Go's URL has.

use std::collections::BTreeMap;

use super::go;

/// The parts of a URL, parsed as Go's `url.Parse` (or `url.ParseRequestURI`) parses them so the
/// same URLs are accepted and the same parse errors reported.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct GoUrl {
    /// Lower-cased.
    pub(crate) scheme: String,
    /// What follows the scheme when the path is not rooted (`mailto:someone`), as written.
    pub(crate) opaque: String,
    /// The user information as written, when there is any.
    pub(crate) user: Option<String>,
    pub(crate) host: String,
    /// The path as written, escapes and all.
    pub(crate) path: String,
    pub(crate) raw_query: String,
    pub(crate) fragment: String,
}

impl GoUrl {
    /// Parses `raw` as Go's `url.Parse` does; the error reads as Go's `*url.Error` prints it,
    /// e.g. `parse ":x": missing protocol scheme`.
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let (reference, fragment) = raw.split_once('#').unwrap_or((raw, ""));
        let mut url = Self::parse_reference(reference, false)
            .map_err(|e| format!("parse {}: {e}", go::quote(reference)))?;
        if !fragment.is_empty() {
            url.fragment =
                unescape(fragment, false).map_err(|e| format!("parse {}: {e}", go::quote(raw)))?;
        }
        Ok(url)
    }

    /// Parses `raw` as Go's `url.ParseRequestURI` does: it must be an absolute URI or an
    /// absolute path, and a `#` in it is no fragment but part of the path or query.
    pub(crate) fn parse_request_uri(raw: &str) -> Result<Self, String> {
        Self::parse_reference(raw, true).map_err(|e| format!("parse {}: {e}", go::quote(raw)))
    }

    /// The host without its port, and an IPv6 literal without its brackets (Go's `Hostname`).
    pub(crate) fn hostname(&self) -> &str {
        split_host_port(&self.host).0
    }

    /// The host's port without its colon, empty when there is none (Go's `Port`).
    pub(crate) fn port(&self) -> &str {
        split_host_port(&self.host).1
    }

    /// The path as Go's `EscapedPath` gives it: as written when that is a valid encoding of it,
    /// else with what a path may not hold percent-encoded (`/a b` is `/a%20b`).
    pub(crate) fn escaped_path(&self) -> String {
        let path = self.path.as_bytes();
        let valid = path
            .iter()
            .all(|&c| b"!$&'()*+,;=:@[]%".contains(&c) || !path_must_escape(c));
        if valid {
            return self.path.clone();
        }
        let mut escaped = String::with_capacity(path.len());
        let mut i = 0;
        while i < path.len() {
            let decoded = self
                .path
                .get(i + 1..i + 3)
                .filter(|_| path[i] == b'%')
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            let (c, len) = decoded.map_or((path[i], 1), |c| (c, 3));
            if path_must_escape(c) {
                escaped.push_str(&format!("%{c:02X}"));
            } else {
                escaped.push(char::from(c));
            }
            i += len;
        }
        escaped
    }

    /// The query's values by key, decoded, as Go's `Query` reads them: pairs split on `&`, those
    /// holding a `;` or a malformed escape left out.
    pub(crate) fn query(&self) -> BTreeMap<String, Vec<String>> {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in self.raw_query.split('&') {
            if pair.is_empty() || pair.contains(';') {
                continue;
            }
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if let (Ok(key), Ok(value)) = (query_unescape(key), query_unescape(value)) {
                values.entry(key).or_default().push(value);
            }
        }
        values
    }

    /// Everything before the fragment; `via_request` for `ParseRequestURI`, which refuses
    /// relative references.
    fn parse_reference(raw: &str, via_request: bool) -> Result<Self, String> {
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err("net/url: invalid control character in URL".into());
        }
        if via_request && raw.is_empty() {
            return Err("empty url".into());
        }
        let mut url = Self::default();
        if raw == "*" {
            url.path = raw.to_string();
            return Ok(url);
        }
        let (scheme, mut rest) = split_scheme(raw)?;
        url.scheme = scheme.to_ascii_lowercase();
        if rest.ends_with('?') && rest.matches('?').count() == 1 {
            rest = &rest[..rest.len() - 1];
        } else if let Some((before, query)) = rest.split_once('?') {
            url.raw_query = query.to_string();
            rest = before;
        }
        if !rest.starts_with('/') {
            if !url.scheme.is_empty() {
                // An opaque URL such as `https:host`: it has no host.
                url.opaque = rest.to_string();
                return Ok(url);
            }
            if via_request {
                return Err("invalid URI for request".into());
            }
            let first_segment = rest.split('/').next().unwrap_or_default();
            if first_segment.contains(':') {
                return Err("first path segment in URL cannot contain colon".into());
            }
        }
        let authority_follows =
            !url.scheme.is_empty() || (!via_request && !rest.starts_with("///"));
        if authority_follows && rest.starts_with("//") {
            let authority_and_path = &rest[2..];
            let (authority, path) = match authority_and_path.find('/') {
                Some(i) => authority_and_path.split_at(i),
                None => (authority_and_path, ""),
            };
            let (user, host) = parse_authority(authority)?;
            url.user = user;
            url.host = host;
            rest = path;
        }
        // Only the path's escapes can still fail.
        unescape(rest, false)?;
        url.path = rest.to_string();
        Ok(url)
    }
}

/// Splits off a leading `scheme:`; a colon before anything else is an error, and anything that
/// cannot be a scheme means there is none.
fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str) -> Result<(Option<String>, String), String> {
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let host = parse_host(host)?;
    let Some(userinfo) = userinfo else {
        return Ok((None, host));
    };
    let valid = userinfo
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c));
    if !valid {
        return Err("net/url: invalid userinfo".into());
    }
    let (username, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    unescape(username, false)?;
    unescape(password, false)?;
    Ok((Some(userinfo.to_string()), host))
}

fn parse_host(host: &str) -> Result<String, String> {
    let port = if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        &host[i + 1..]
    } else {
        host.rfind(':').map_or("", |i| &host[i..])
    };
    if !valid_optional_port(port) {
        return Err(format!("invalid port {} after host", go::quote(port)));
    }
    unescape(host, true)
}

/// Go's `validOptionalPort`: nothing, or a colon and digits.
fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Go's `splitHostPort`: the host and the port of `host:port`, an IPv6 literal's brackets
/// dropped.
fn split_host_port(host_port: &str) -> (&str, &str) {
    let (host, port) = match host_port.rfind(':') {
        Some(colon) if valid_optional_port(&host_port[colon..]) => {
            (&host_port[..colon], &host_port[colon + 1..])
        }
        _ => (host_port, ""),
    };
    let host = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    (host, port)
}

/// Whether Go escapes the byte `c` in a path (`shouldEscape(c, encodePath)`).
fn path_must_escape(c: u8) -> bool {
    !(c.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&c))
}

/// Go's `QueryUnescape`: escapes decoded, and `+` a space.
fn query_unescape(s: &str) -> Result<String, String> {
    unescape(&s.replace('+', " "), false)
}

/// Decodes `%XX` escapes as Go does, failing on malformed ones; in a host, escapes may only
/// encode non-ASCII bytes (or `%25`) and characters a host cannot hold are rejected.
fn unescape(s: &str, host: bool) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
            let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
                let bad = String::from_utf8_lossy(&bytes[i..(i + 3).min(bytes.len())]);
                return Err(format!("invalid URL escape {}", go::quote(&bad)));
            };
            if host && high < 8 && &s[i..i + 3] != "%25" {
                return Err(format!("invalid URL escape {}", go::quote(&s[i..i + 3])));
            }
            // Both digits are below 16, so the byte fits.
            out.push((high * 16 + low) as u8);
            i += 3;
            continue;
        }
        if host && c < 0x80 && !host_may_hold(c) {
            return Err(format!(
                "invalid character {} in host name",
                go::quote(&char::from(c).to_string())
            ));
        }
        out.push(c);
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The ASCII characters Go lets stand unescaped in a host.
fn host_may_hold(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:[]<>\"".contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_like_go() {
        let url = GoUrl::parse("HTTPS://user:pw@[::1]:8443/a%20b?q#f").expect("a URL");
        assert_eq!(
            url,
            GoUrl {
                scheme: "https".into(),
                opaque: String::new(),
                user: Some("user:pw".into()),
                host: "[::1]:8443".into(),
                path: "/a%20b".into(),
                raw_query: "q".into(),
                fragment: "f".into(),
            }
        );
        assert_eq!(GoUrl::parse("https:opaque").expect("a URL").host, "");
        assert_eq!(
            GoUrl::parse("https://host:port/"),
            Err("parse \"https://host:port/\": invalid port \":port\" after host".into())
        );
        assert_eq!(
            GoUrl::parse("https://ho st/"),
            Err("parse \"https://ho st/\": invalid character \" \" in host name".into())
        );
        assert_eq!(
            GoUrl::parse("https://host/%zz"),
            Err("parse \"https://host/%zz\": invalid URL escape \"%zz\"".into())
        );
        assert_eq!(GoUrl::parse("a:b/c").map(|u| u.scheme), Ok("a".to_string()));
        assert_eq!(
            GoUrl::parse("1a:b"),
            Err("parse \"1a:b\": first path segment in URL cannot contain colon".into())
        );
        assert_eq!(
            GoUrl::parse("https://host/\u{7f}"),
            Err("parse \"https://host/\\x7f\": net/url: invalid control character in URL".into())
        );
    }
}
