//! Kubernetes' IP address library (`ip.go`): `isIP`, `ip()`, `ip.isCanonical` and an address's
//! family and kind, addresses read as Go's `netip.ParseAddr` reads them, with IPv4-mapped IPv6
//! addresses and zones refused on top, as upstream refuses them.

use std::net::IpAddr;

use ::cel::common::types::{CelBool, CelInt, CelString};
use ::cel::common::value::Val;
use ::cel::{DeclarationError, Env, ExecutionError};

use super::netip;
use crate::validation::go::quote;

/// An IP address, of CEL type `net.IP`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Ip(pub(super) IpAddr);

opaque_type!(Ip, "net.IP");

pub(super) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_type(Ip::cel_type().to_owned())?;
    ::cel::add_overload!(env, fn ip: (CelString) -> Result<Ip>)?;
    ::cel::add_overload!(env, fn is_ip: (CelString) -> CelBool, name = "isIP")?;
    ::cel::add_overload!(env, fn is_canonical: (CelString) -> Result<CelBool>,
        name = "ip.isCanonical")?;
    ::cel::add_overload!(env, fn ip_to_string: (Ip) -> CelString, name = "string")?;
    ::cel::add_member_overload!(env, fn family: (Ip) -> CelInt)?;
    ::cel::add_member_overload!(env, fn is_unspecified: (Ip) -> CelBool)?;
    ::cel::add_member_overload!(env, fn is_loopback: (Ip) -> CelBool)?;
    ::cel::add_member_overload!(env, fn is_link_local_multicast: (Ip) -> CelBool)?;
    ::cel::add_member_overload!(env, fn is_link_local_unicast: (Ip) -> CelBool)?;
    ::cel::add_member_overload!(env, fn is_global_unicast: (Ip) -> CelBool)?;
    Ok(())
}

/// Upstream's `parseIPAddr`: the address `s` writes, or why it is refused, in upstream's words.
pub(super) fn parse(s: &str) -> Result<IpAddr, String> {
    let (ip, zoned) = netip::parse_addr(s).map_err(|e| {
        format!(
            "IP Address {} parse error during conversion from string: {e}",
            quote(s)
        )
    })?;
    if zoned {
        return Err(format!(
            "IP address {} with zone value is not allowed",
            quote(s)
        ));
    }
    if netip::is_4in6(ip) {
        return Err(format!(
            "IPv4-mapped IPv6 address {} is not allowed",
            quote(s)
        ));
    }
    Ok(ip)
}

fn ip(s: &CelString<'_>) -> Result<Ip, ExecutionError> {
    parse(s)
        .map(Ip)
        .map_err(|e| ExecutionError::function_error("ip", e))
}

fn is_ip(s: &CelString<'_>) -> CelBool {
    CelBool::from(parse(s).is_ok())
}

/// Whether `s` is written as the address it stands for prints, the one way it can be written
/// (lower-case hex, zeros compressed), so that such strings compare as the addresses do.
fn is_canonical(s: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    let ip = parse(s).map_err(|e| ExecutionError::function_error("ip.isCanonical", e))?;
    Ok(CelBool::from(ip.to_string() == s.inner()))
}

fn ip_to_string(ip: &Ip) -> CelString<'static> {
    CelString::from(ip.0.to_string())
}

fn family(ip: &Ip) -> CelInt {
    CelInt::from(if ip.0.is_ipv4() { 4 } else { 6 })
}

fn is_unspecified(ip: &Ip) -> CelBool {
    CelBool::from(ip.0.is_unspecified())
}

fn is_loopback(ip: &Ip) -> CelBool {
    CelBool::from(ip.0.is_loopback())
}

/// `224.0.0.0/24`, or `ff02::/16` whatever the flags (Go's `IsLinkLocalMulticast`).
fn is_link_local_multicast(ip: &Ip) -> CelBool {
    CelBool::from(match ip.0 {
        IpAddr::V4(v4) => matches!(v4.octets(), [224, 0, 0, _]),
        IpAddr::V6(v6) => v6.segments()[0] & 0xff0f == 0xff02,
    })
}

fn is_link_local_unicast(ip: &Ip) -> CelBool {
    CelBool::from(link_local_unicast(ip.0))
}

/// Go's `IsGlobalUnicast`: any address but the unspecified, broadcast, loopback, multicast and
/// link-local unicast ones, private ones included.
fn is_global_unicast(ip: &Ip) -> CelBool {
    let special = match ip.0 {
        IpAddr::V4(v4) => v4.is_broadcast() || v4.is_multicast(),
        IpAddr::V6(v6) => v6.is_multicast(),
    };
    let global =
        !special && !ip.0.is_unspecified() && !ip.0.is_loopback() && !link_local_unicast(ip.0);
    CelBool::from(global)
}

/// `169.254.0.0/16` or `fe80::/10`.
fn link_local_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => matches!(v4.octets(), [169, 254, _, _]),
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

#[cfg(test)]
mod tests {
    use super::super::assert_holds;
    use crate::crd::cel::{check, evaluate};

    fn error(expression: &str) -> String {
        evaluate(expression, &[]).expect_err(expression)
    }

    #[test]
    fn addresses_are_read_as_go_reads_them() {
        assert_holds(&[
            "isIP('192.168.0.1')",
            "!isIP('192.168.0.1.0')",
            "isIP('2001:db8::68')",
            "!isIP('2001:db8:::68')",
            "!isIP('01.2.3.4')",
            "!isIP('::ffff:1.2.3.4')",
            "!isIP('fe80::1%eth0')",
            "ip('192.168.0.1') == ip('192.168.0.1')",
            "ip('2001:db8::68') != ip('2001:db8::69')",
            "string(ip('2001:DB8:0:0:0::68')) == '2001:db8::68'",
            "type(ip('192.168.0.1')) == net.IP",
        ]);
    }

    #[test]
    fn invalid_addresses_are_refused_in_upstreams_words() {
        assert_eq!(
            error("ip('192.168.0.1.0')"),
            "Error executing function 'ip': IP Address \"192.168.0.1.0\" parse error during \
             conversion from string: ParseAddr(\"192.168.0.1.0\"): IPv4 address too long"
        );
        assert_eq!(
            error("ip('2001:db8:::68')"),
            "Error executing function 'ip': IP Address \"2001:db8:::68\" parse error during \
             conversion from string: ParseAddr(\"2001:db8:::68\"): each colon-separated field \
             must have at least one digit (at \":68\")"
        );
        assert_eq!(
            error("ip('fe80::1%eth0')"),
            "Error executing function 'ip': IP address \"fe80::1%eth0\" with zone value is not allowed"
        );
        assert_eq!(
            error("ip('::ffff:1.2.3.4')"),
            "Error executing function 'ip': IPv4-mapped IPv6 address \"::ffff:1.2.3.4\" is not allowed"
        );
        assert_eq!(
            error("ip.isCanonical('127.0.0.1.0')"),
            "Error executing function 'ip.isCanonical': IP Address \"127.0.0.1.0\" parse error \
             during conversion from string: ParseAddr(\"127.0.0.1.0\"): IPv4 address too long"
        );
    }

    #[test]
    fn canonical_forms_are_lower_case_and_compressed() {
        assert_holds(&[
            "ip.isCanonical('127.0.0.1')",
            "ip.isCanonical('2001:db8::68')",
            "!ip.isCanonical('2001:DB8::68')",
            "!ip.isCanonical('2001:db8::0:0:0:abcd')",
        ]);
        assert_eq!(check("ip.isCanonical(object.ip)", &["object"]), Ok(()));
    }

    #[test]
    fn addresses_know_their_family_and_kind() {
        assert_holds(&[
            "ip('192.168.0.1').family() == 4",
            "ip('2001:db8::68').family() == 6",
            "ip('0.0.0.0').isUnspecified() && ip('::').isUnspecified()",
            "!ip('127.0.0.1').isUnspecified()",
            "ip('127.0.0.1').isLoopback() && ip('::1').isLoopback()",
            "!ip('1.2.3.4').isLoopback() && !ip('2001:db8::abcd').isLoopback()",
            "ip('224.0.0.1').isLinkLocalMulticast() && ip('ff02::1').isLinkLocalMulticast()",
            "!ip('224.0.1.1').isLinkLocalMulticast() && !ip('fd00::1').isLinkLocalMulticast()",
            "ip('169.254.169.254').isLinkLocalUnicast() && ip('fe80::1').isLinkLocalUnicast()",
            "!ip('192.168.0.1').isLinkLocalUnicast() && !ip('fd80::1').isLinkLocalUnicast()",
            "ip('192.168.0.1').isGlobalUnicast() && ip('2001:db8::abcd').isGlobalUnicast()",
            "!ip('255.255.255.255').isGlobalUnicast() && !ip('ff00::1').isGlobalUnicast()",
        ]);
    }
}
