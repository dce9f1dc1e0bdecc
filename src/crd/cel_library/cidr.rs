//! Kubernetes' CIDR library (`cidr.go`): `isCIDR`, `cidr()` and what a network contains, its
//! address, masked form and prefix length, networks read as Go's `netip.ParsePrefix` reads them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ::cel::common::types::{CelBool, CelInt, CelString};
use ::cel::common::value::Val;
use ::cel::{DeclarationError, Env, ExecutionError};

use super::ip::{self, Ip};
use super::netip;
use crate::validation::go::quote;

/// A network, of CEL type `net.CIDR`: an address, kept as written rather than masked
/// (`cidr('10.0.0.1/8').ip()` is `10.0.0.1`), and a prefix length.
#[derive(Clone, Debug, PartialEq)]
struct Cidr {
    ip: IpAddr,
    bits: u8,
}

opaque_type!(Cidr, "net.CIDR");

pub(super) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_type(Cidr::cel_type().to_owned())?;
    ::cel::add_overload!(env, fn cidr: (CelString) -> Result<Cidr>)?;
    ::cel::add_overload!(env, fn is_cidr: (CelString) -> CelBool, name = "isCIDR")?;
    ::cel::add_overload!(env, fn cidr_to_string: (Cidr) -> CelString, name = "string")?;
    ::cel::add_member_overload!(env, fn contains_ip: (Cidr, Ip) -> CelBool, name = "containsIP")?;
    ::cel::add_member_overload!(env, fn contains_ip_string: (Cidr, CelString) -> Result<CelBool>,
        name = "containsIP")?;
    ::cel::add_member_overload!(env, fn contains_cidr: (Cidr, Cidr) -> CelBool,
        name = "containsCIDR")?;
    ::cel::add_member_overload!(env, fn contains_cidr_string: (Cidr, CelString) -> Result<CelBool>,
        name = "containsCIDR")?;
    ::cel::add_member_overload!(env, fn address: (Cidr) -> Ip, name = "ip")?;
    ::cel::add_member_overload!(env, fn masked: (Cidr) -> Cidr)?;
    ::cel::add_member_overload!(env, fn prefix_length: (Cidr) -> CelInt)?;
    Ok(())
}

/// Upstream's `parseCIDR`: the network `s` writes, or why it is refused, in upstream's words.
fn parse(s: &str) -> Result<Cidr, String> {
    let (ip, bits) = netip::parse_prefix(s)
        .map_err(|e| format!("network address parse error during conversion from string: {e}"))?;
    if netip::is_4in6(ip) {
        return Err(format!(
            "IPv4-mapped IPv6 address {} is not allowed",
            quote(s)
        ));
    }
    Ok(Cidr { ip, bits })
}

/// `cidr(s)`, which upstream words as `parseCIDR` wrapped once more.
fn cidr(s: &CelString<'_>) -> Result<Cidr, ExecutionError> {
    parse(s).map_err(|e| {
        let message = format!("network address parse error during conversion from string: {e}");
        ExecutionError::function_error("cidr", message)
    })
}

fn is_cidr(s: &CelString<'_>) -> CelBool {
    CelBool::from(parse(s).is_ok())
}

fn cidr_to_string(cidr: &Cidr) -> CelString<'static> {
    CelString::from(format!("{}/{}", cidr.ip, cidr.bits))
}

fn contains_ip(cidr: &Cidr, ip: &Ip) -> CelBool {
    CelBool::from(same_family(cidr.ip, ip.0) && same_prefix(cidr.ip, ip.0, cidr.bits))
}

/// `containsIP` of an address written as a string. Upstream hands the parse error to
/// `containsIP`, which answers an argument that is no address with "no such overload"; so
/// does this.
fn contains_ip_string(cidr: &Cidr, s: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    let ip = ip::parse(s).map_err(|_| {
        let types = vec![Cidr::cel_type().name().to_owned(), "string".to_owned()];
        ExecutionError::no_such_member_overload("containsIP", types)
    })?;
    Ok(contains_ip(cidr, &Ip(ip)))
}

/// Whether `other` lies within `cidr`: as long a prefix or longer, the same up to `cidr`'s. The
/// addresses are compared masked, as upstream has since kubernetes#130450 (`10.0.0.0/8`
/// contains `10.1.0.0/16`).
fn contains_cidr(cidr: &Cidr, other: &Cidr) -> CelBool {
    CelBool::from(
        same_family(cidr.ip, other.ip)
            && cidr.bits <= other.bits
            && same_prefix(cidr.ip, other.ip, cidr.bits),
    )
}

fn contains_cidr_string(cidr: &Cidr, s: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    let other = parse(s).map_err(|e| {
        let message = format!("network address parse error during conversion from string: {e}");
        ExecutionError::function_error("containsCIDR", message)
    })?;
    Ok(contains_cidr(cidr, &other))
}

fn address(cidr: &Cidr) -> Ip {
    Ip(cidr.ip)
}

/// The network's address, the bits past the prefix cleared: its canonical form.
fn masked(cidr: &Cidr) -> Cidr {
    let network = bits(cidr.ip) & mask(cidr.bits);
    let ip = match cidr.ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from((network >> 96) as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(network)),
    };
    Cidr {
        ip,
        bits: cidr.bits,
    }
}

fn prefix_length(cidr: &Cidr) -> CelInt {
    CelInt::from(i64::from(cidr.bits))
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// Whether the first `len` bits of `a` and `b`, of one family, are the same.
fn same_prefix(a: IpAddr, b: IpAddr, len: u8) -> bool {
    (bits(a) ^ bits(b)) & mask(len) == 0
}

/// The address as 128 bits, an IPv4 one in the top 32 so that prefix lengths line up.
fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The first `len` of 128 bits set.
fn mask(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::assert_holds;
    use crate::crd::cel::evaluate;

    #[test]
    fn networks_are_read_as_go_reads_them() {
        assert_holds(&[
            "isCIDR('192.168.0.0/24') && isCIDR('2001:db8::/32') && isCIDR('192.168.0.1/24')",
            "!isCIDR('192.168.0.0/33') && !isCIDR('::1/129') && !isCIDR('10.0.0.0/08')",
            "!isCIDR('::ffff:1.2.3.4/120') && !isCIDR('192.168.0.0')",
            "cidr('192.168.0.0/24') == cidr('192.168.0.0/24')",
            "cidr('192.168.0.1/24') != cidr('192.168.0.0/24')",
            "string(cidr('192.168.0.0/24')) == '192.168.0.0/24'",
            "type(cidr('192.168.0.0/24')) == net.CIDR",
        ]);
        assert_eq!(
            evaluate("cidr('192.168.0.0/')", &[]),
            Err(
                "Error executing function 'cidr': network address parse error during conversion \
                 from string: network address parse error during conversion from string: \
                 netip.ParsePrefix(\"192.168.0.0/\"): bad bits after slash: \"\""
                    .to_owned()
            )
        );
        assert_eq!(
            evaluate("cidr('192.168.0.0.1/24')", &[]),
            Err(
                "Error executing function 'cidr': network address parse error during conversion \
                 from string: network address parse error during conversion from string: \
                 netip.ParsePrefix(\"192.168.0.0.1/24\"): ParseAddr(\"192.168.0.0.1\"): IPv4 \
                 address too long"
                    .to_owned()
            )
        );
    }

    #[test]
    fn networks_contain_addresses_and_networks() {
        assert_holds(&[
            "cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))",
            "!cidr('192.168.0.0/24').containsIP(ip('192.168.1.1'))",
            "cidr('192.168.0.0/24').containsIP('192.168.0.1')",
            "!cidr('192.168.0.0/24').containsIP('192.168.1.1')",
            "!cidr('0.0.0.0/0').containsIP('::1')",
            "cidr('2001:db8::/32').containsIP('2001:db8::1')",
            "!cidr('2001:db8::/32').containsIP(ip('2001:dc8::1'))",
            "cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))",
            "!cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/23'))",
            "cidr('192.168.0.0/16').containsCIDR('192.168.10.0/24')",
            "!cidr('192.168.1.0/24').containsCIDR('192.168.2.0/24')",
            "cidr('2001:db8::/32').containsCIDR('2001:db8::/33')",
            "!cidr('2001:db8::/32').containsCIDR('2001:db8::/31')",
        ]);
        let error = evaluate("cidr('10.0.0.0/8').containsIP('10.0.0')", &[]).unwrap_err();
        assert!(
            error.contains("no matching overload for 'containsIP'"),
            "{error}"
        );
    }

    #[test]
    fn networks_give_their_parts() {
        assert_holds(&[
            "cidr('192.168.0.1/24').ip() == ip('192.168.0.1')",
            "cidr('::1/128').ip().family() == 6",
            "cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')",
            "cidr('2001:db8:1::/32').masked() == cidr('2001:db8::/32')",
            "cidr('0.0.0.0/0').masked() == cidr('0.0.0.0/0')",
            "cidr('192.168.0.0/16').prefixLength() == 16",
            "cidr('::1/128').prefixLength() == 128",
        ]);
    }
}
