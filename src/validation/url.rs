//! URLs read as Go's `net/url.Parse` reads them, so the webhook URLs upstream accepts are
//! accepted here and its parse errors reported in its words.

use super::go;

/// The parts of a URL the webhook checks look at, parsed as Go's `url.Parse` parses them so the
/// same URLs are accepted and the same parse errors reported.
#[derive(Debug, Default, PartialEq)]
pub(super) struct GoUrl {
    /// Lower-cased.
    pub(super) scheme: String,
    /// The user information as written, when there is any.
    pub(super) user: Option<String>,
    pub(super) host: String,
    pub(super) raw_query: String,
    pub(super) fragment: String,
}

impl GoUrl {
    /// Parses `raw`; the error reads as Go's `*url.Error` prints it, e.g.
    /// `parse ":x": missing protocol scheme`.
    pub(super) fn parse(raw: &str) -> Result<Self, String> {
        let (reference, fragment) = raw.split_once('#').unwrap_or((raw, ""));
        let mut url = Self::parse_reference(reference)
            .map_err(|e| format!("parse {}: {e}", go::quote(reference)))?;
        if !fragment.is_empty() {
            url.fragment =
                unescape(fragment, false).map_err(|e| format!("parse {}: {e}", go::quote(raw)))?;
        }
        Ok(url)
    }

    /// Everything before the fragment.
    fn parse_reference(raw: &str) -> Result<Self, String> {
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err("net/url: invalid control character in URL".into());
        }
        let mut url = Self::default();
        if raw == "*" {
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
                return Ok(url);
            }
            let first_segment = rest.split('/').next().unwrap_or_default();
            if first_segment.contains(':') {
                return Err("first path segment in URL cannot contain colon".into());
            }
        }
        if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
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
    let valid_port = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()));
    if !valid_port {
        return Err(format!("invalid port {} after host", go::quote(port)));
    }
    unescape(host, true)
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
                user: Some("user:pw".into()),
                host: "[::1]:8443".into(),
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
