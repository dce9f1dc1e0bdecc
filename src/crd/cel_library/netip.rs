//! Go's `net/netip` parsing of addresses and prefixes, which upstream's IP and CIDR libraries
//! call: the same strings are accepted (no leading zeros in IPv4 octets, IPv6 zones read so that
//! the libraries can refuse them) and the others refused in Go's words
//! (`ParseAddr("1.2.3"): IPv4 address too short`).

use std::net::{IpAddr, Ipv6Addr};

use crate::validation::go::quote;

/// `netip.ParseAddr`: the address, and whether it carried an IPv6 zone (`fe80::1%eth0`), which
/// `std::net` has no room for.
pub(super) fn parse_addr(s: &str) -> Result<(IpAddr, bool), String> {
    for c in s.bytes() {
        match c {
            b'.' => return parse_ipv4(s, 0, s.len()).map(|octets| (IpAddr::from(octets), false)),
            b':' => return parse_ipv6(s),
            b'%' => return Err(addr_error(s, "missing IPv6 address", "")),
            _ => {}
        }
    }
    Err(addr_error(s, "unable to parse IP", ""))
}

/// `netip.ParsePrefix`: the address, as written rather than masked, and the prefix length.
pub(super) fn parse_prefix(s: &str) -> Result<(IpAddr, u8), String> {
    let prefix_error = |message: &str| format!("netip.ParsePrefix({}): {message}", quote(s));
    let Some(slash) = s.rfind('/') else {
        return Err(prefix_error("no '/'"));
    };
    let (ip, zoned) = parse_addr(&s[..slash]).map_err(|e| prefix_error(&e))?;
    if zoned {
        return Err(prefix_error("IPv6 zones cannot be present in a prefix"));
    }
    let bits = &s[slash + 1..];
    let bad_bits = || prefix_error(&format!("bad bits after slash: {}", quote(bits)));
    // Go's `Atoi` takes a sign and leading zeros, which a prefix length may not have.
    if bits.len() > 1 && !bits.starts_with(|c: char| ('1'..='9').contains(&c)) {
        return Err(bad_bits());
    }
    let bits: i64 = bits.parse().map_err(|_| bad_bits())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    u8::try_from(bits)
        .ok()
        .filter(|bits| *bits <= max)
        .map(|bits| (ip, bits))
        .ok_or_else(|| prefix_error("prefix length out of range"))
}

/// Whether `ip` is an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, Go's `Is4In6`), which
/// upstream's libraries refuse.
pub(super) fn is_4in6(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some())
}

/// Go's `parseAddrError`: the input, why it is refused, and where, when that says more.
fn addr_error(input: &str, message: &str, at: &str) -> String {
    if at.is_empty() {
        format!("ParseAddr({}): {message}", quote(input))
    } else {
        format!("ParseAddr({}): {message} (at {})", quote(input), quote(at))
    }
}

/// Go's `parseIPv4Fields`: the four octets written in `input[start..end]`, errors naming all of
/// `input`.
fn parse_ipv4(input: &str, start: usize, end: usize) -> Result<[u8; 4], String> {
    let s = &input[start..end];
    let bytes = s.as_bytes();
    let mut octets = [0u8; 4];
    let (mut value, mut field, mut digits) = (0u16, 0, 0);
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                if digits == 1 && value == 0 {
                    return Err(addr_error(
                        input,
                        "IPv4 field has octet with leading zero",
                        "",
                    ));
                }
                value = value * 10 + u16::from(c - b'0');
                digits += 1;
                if value > 255 {
                    return Err(addr_error(input, "IPv4 field has value >255", ""));
                }
            }
            b'.' => {
                if i == 0 || i == bytes.len() - 1 || bytes[i - 1] == b'.' {
                    let message = "IPv4 field must have at least one digit";
                    return Err(addr_error(input, message, &s[i..]));
                }
                if field == 3 {
                    return Err(addr_error(input, "IPv4 address too long", ""));
                }
                octets[field] = value as u8;
                field += 1;
                value = 0;
                digits = 0;
            }
            _ => return Err(addr_error(input, "unexpected character", &s[i..])),
        }
    }
    if field < 3 {
        return Err(addr_error(input, "IPv4 address too short", ""));
    }
    octets[3] = value as u8;
    Ok(octets)
}

/// Go's `parseIPv6`: groups of up to four hex digits, one `::` standing for zeros, an IPv4
/// address in the last 32 bits, and a zone after `%`.
fn parse_ipv6(input: &str) -> Result<(IpAddr, bool), String> {
    let (mut s, zone) = match input.split_once('%') {
        Some((_, "")) => return Err(addr_error(input, "zone must be a non-empty string", "")),
        Some((address, zone)) => (address, zone),
        None => (input, ""),
    };
    let zoned = !zone.is_empty();
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if let Some(rest) = s.strip_prefix("::") {
        ellipsis = Some(0);
        s = rest;
        if s.is_empty() {
            return Ok((IpAddr::V6(Ipv6Addr::UNSPECIFIED), zoned));
        }
    }
    let mut i = 0;
    while i < 16 {
        let bytes = s.as_bytes();
        let (mut digits, mut group) = (0, 0u32);
        while let Some(digit) = bytes.get(digits).and_then(|c| char::from(*c).to_digit(16)) {
            group = (group << 4) + digit;
            if digits > 3 {
                return Err(addr_error(
                    input,
                    "each group must have 4 or less digits",
                    s,
                ));
            }
            if group > 0xffff {
                return Err(addr_error(input, "IPv6 field has value >=2^16", s));
            }
            digits += 1;
        }
        if digits == 0 {
            let message = "each colon-separated field must have at least one digit";
            return Err(addr_error(input, message, s));
        }
        if bytes.get(digits) == Some(&b'.') {
            if ellipsis.is_none() && i != 12 {
                let message =
                    "embedded IPv4 address must replace the final 2 fields of the address";
                return Err(addr_error(input, message, s));
            }
            if i + 4 > 16 {
                let message =
                    "too many hex fields to fit an embedded IPv4 at the end of the address";
                return Err(addr_error(input, message, s));
            }
            let end = if zoned {
                input.len() - zone.len() - 1
            } else {
                input.len()
            };
            let octets = parse_ipv4(input, end - s.len(), end)?;
            ip[i..i + 4].copy_from_slice(&octets);
            s = "";
            i += 4;
            break;
        }
        ip[i] = (group >> 8) as u8;
        ip[i + 1] = group as u8;
        i += 2;
        s = &s[digits..];
        if s.is_empty() {
            break;
        }
        if !s.starts_with(':') {
            return Err(addr_error(input, "unexpected character, want colon", s));
        }
        if s.len() == 1 {
            return Err(addr_error(
                input,
                "colon must be followed by more characters",
                s,
            ));
        }
        s = &s[1..];
        if s.starts_with(':') {
            if ellipsis.is_some() {
                return Err(addr_error(input, "multiple :: in address", s));
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return Err(addr_error(input, "trailing garbage after address", s));
    }
    if i < 16 {
        let Some(ellipsis) = ellipsis else {
            return Err(addr_error(input, "address string too short", ""));
        };
        let zeros = 16 - i;
        ip.copy_within(ellipsis..i, ellipsis + zeros);
        ip[ellipsis..ellipsis + zeros].fill(0);
    } else if ellipsis.is_some() {
        let message = "the :: must expand to at least one field of zeros";
        return Err(addr_error(input, message, ""));
    }
    Ok((IpAddr::V6(Ipv6Addr::from(ip)), zoned))
}
