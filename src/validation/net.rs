//! IP addresses and CIDRs as the legacy API fields accept them (Go's "sloppy" parsing, which
//! allows leading zeros in IPv4), with upstream's messages.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::field::{ErrorList, FieldError, Path};

/// Go's `net.ParseIP` before Go 1.17: IPv4 octets may carry leading zeros.
pub fn parse_ip(value: &str) -> Option<IpAddr> {
    if value.contains(':') {
        return value.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let octets: Vec<u8> = value
        .split('.')
        .map(|part| {
            let digits_ok =
                !part.is_empty() && part.len() <= 3 && part.bytes().all(|c| c.is_ascii_digit());
            digits_ok.then(|| part.parse::<u8>().ok()).flatten()
        })
        .collect::<Option<_>>()?;
    let octets: [u8; 4] = octets.try_into().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

/// `address/prefix-length`, with the address parsed as [`parse_ip`] parses it.
pub fn parse_cidr(value: &str) -> Option<(IpAddr, u8)> {
    let (address, prefix) = value.split_once('/')?;
    let ip = parse_ip(address)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = (!prefix.is_empty() && prefix.bytes().all(|c| c.is_ascii_digit()))
        .then(|| prefix.parse().ok())
        .flatten()?;
    (prefix <= max).then_some((ip, prefix))
}

/// Go treats IPv4-mapped IPv6 addresses as IPv4.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

pub fn is_ipv6(ip: IpAddr) -> bool {
    unmapped(ip).is_ipv6()
}

/// An IP in a legacy field; values already stored (`previous`) stay acceptable.
pub fn legacy_ip(path: &Path, value: &str, previous: &[String]) -> ErrorList {
    if previous.iter().any(|p| p == value) || parse_ip(value).is_some() {
        return ErrorList::new();
    }
    vec![FieldError::invalid(
        path,
        value,
        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
    )]
}

/// A CIDR in a legacy field; values already stored (`previous`) stay acceptable.
pub fn legacy_cidr(path: &Path, value: &str, previous: &[String]) -> ErrorList {
    if previous.iter().any(|p| p == value) || parse_cidr(value).is_some() {
        return ErrorList::new();
    }
    vec![FieldError::invalid(
        path,
        value,
        "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
    )]
}

/// Whether the list holds exactly one IPv4 and one IPv6 value.
pub fn is_dual_stack(ips: &[IpAddr]) -> bool {
    ips.len() == 2 && is_ipv6(ips[0]) != is_ipv6(ips[1])
}

/// Addresses that make no sense as an endpoint (`ValidateEndpointIP`).
pub fn endpoint_ip(value: &str, path: &Path) -> ErrorList {
    let Some(ip) = parse_ip(value).map(unmapped) else {
        return vec![FieldError::invalid(
            path,
            value,
            "must be a valid IP address",
        )];
    };
    let mut errs = ErrorList::new();
    if ip.is_unspecified() {
        errs.push(FieldError::invalid(
            path,
            value,
            format!("may not be unspecified ({value})"),
        ));
    }
    if ip.is_loopback() {
        errs.push(FieldError::invalid(
            path,
            value,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    if is_link_local_unicast(ip) {
        errs.push(FieldError::invalid(
            path,
            value,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if is_link_local_multicast(ip) {
        errs.push(FieldError::invalid(
            path,
            value,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
    errs
}

fn is_link_local_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

fn is_link_local_multicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
        IpAddr::V6(v6) => v6.octets()[0] == 0xff && v6.octets()[1] & 0x0f == 0x02,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sloppy_parsing() {
        assert_eq!(
            parse_ip("010.0.0.1"),
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert!(parse_ip("256.0.0.1").is_none());
        assert!(parse_ip("1.2.3").is_none());
        assert!(parse_ip("::1").is_some());
        assert_eq!(parse_cidr("10.244.0.0/24").map(|(_, p)| p), Some(24));
        assert!(parse_cidr("10.244.0.0/33").is_none());
        assert!(parse_cidr("10.244.0.0").is_none());
    }

    #[test]
    fn endpoint_addresses() {
        let path = Path::new("ip");
        assert!(endpoint_ip("10.0.0.1", &path).is_empty());
        assert_eq!(
            endpoint_ip("127.0.0.1", &path)[0].to_string(),
            "ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)"
        );
        assert_eq!(endpoint_ip("169.254.1.1", &path).len(), 1);
        assert_eq!(endpoint_ip("224.0.0.1", &path).len(), 1);
        assert_eq!(
            legacy_ip(&path, "nope", &[])[0].message(),
            "Invalid value: \"nope\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
        );
    }
}
