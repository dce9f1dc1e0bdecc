//! Pod addresses from a node's pod CIDR, the way a bridge network hands them out: `.1` is the
//! bridge, `.2` to `.254` go to pods, round-robin so a freed address is not reused at once.

use std::net::Ipv4Addr;

/// Why a CIDR cannot serve pods, or has no address left.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    #[error("not an IPv4 CIDR")]
    Malformed,
    #[error("only /24 pod CIDRs are supported")]
    UnsupportedPrefix,
    #[error("host bits are set; the network address is {0}/24")]
    HostBitsSet(Ipv4Addr),
    #[error("all {} pod addresses are in use", LAST - FIRST + 1)]
    Exhausted,
}

const FIRST: u8 = 2;
const LAST: u8 = 254;

/// The addresses of one /24 and which of them pods hold.
#[derive(Debug, Clone)]
pub struct PodCidr {
    text: String,
    network: [u8; 3],
    used: [u64; 4],
    /// The host part handed out last; the search for a free one starts after it.
    last: u8,
}

impl PodCidr {
    pub fn parse(cidr: &str) -> Result<PodCidr, IpamError> {
        let (address, prefix) = cidr.split_once('/').ok_or(IpamError::Malformed)?;
        let address: Ipv4Addr = address.parse().map_err(|_| IpamError::Malformed)?;
        let prefix: u8 = prefix.parse().map_err(|_| IpamError::Malformed)?;
        if prefix != 24 {
            return Err(IpamError::UnsupportedPrefix);
        }
        let [a, b, c, host] = address.octets();
        if host != 0 {
            return Err(IpamError::HostBitsSet(Ipv4Addr::new(a, b, c, 0)));
        }
        Ok(PodCidr {
            text: cidr.to_owned(),
            network: [a, b, c],
            used: [0; 4],
            last: LAST,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Takes the next free address after the one handed out last.
    pub fn allocate(&mut self) -> Result<Ipv4Addr, IpamError> {
        let span = LAST - FIRST + 1;
        let free = (1..=span)
            .map(|step| FIRST + (self.last - FIRST + step) % span)
            .find(|&host| !self.is_used(host))
            .ok_or(IpamError::Exhausted)?;
        self.set(free, true);
        self.last = free;
        Ok(self.address(free))
    }

    /// Gives an address back; addresses outside this CIDR are ignored.
    pub fn release(&mut self, ip: Ipv4Addr) {
        let [a, b, c, host] = ip.octets();
        if [a, b, c] == self.network {
            self.set(host, false);
        }
    }

    fn address(&self, host: u8) -> Ipv4Addr {
        let [a, b, c] = self.network;
        Ipv4Addr::new(a, b, c, host)
    }

    fn is_used(&self, host: u8) -> bool {
        self.used[usize::from(host / 64)] & (1 << (host % 64)) != 0
    }

    fn set(&mut self, host: u8, used: bool) {
        let word = &mut self.used[usize::from(host / 64)];
        let bit = 1 << (host % 64);
        if used { *word |= bit } else { *word &= !bit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_network_addresses_of_a_slash_24() {
        assert!(PodCidr::parse("10.244.3.0/24").is_ok());
        assert_eq!(
            PodCidr::parse("10.244.3.0").unwrap_err(),
            IpamError::Malformed
        );
        assert_eq!(
            PodCidr::parse("fd00::/64").unwrap_err(),
            IpamError::Malformed
        );
        assert_eq!(
            PodCidr::parse("10.244.0.0/16").unwrap_err(),
            IpamError::UnsupportedPrefix
        );
        assert_eq!(
            PodCidr::parse("10.244.3.7/24").unwrap_err(),
            IpamError::HostBitsSet(Ipv4Addr::new(10, 244, 3, 0))
        );
    }

    #[test]
    fn hands_out_two_to_two_hundred_fifty_four_then_runs_out() {
        let mut cidr = PodCidr::parse("10.244.1.0/24").unwrap();
        let all: Vec<_> = (0..253).map(|_| cidr.allocate().unwrap()).collect();
        assert_eq!(all[0], Ipv4Addr::new(10, 244, 1, 2));
        assert_eq!(all[252], Ipv4Addr::new(10, 244, 1, 254));
        assert_eq!(cidr.allocate(), Err(IpamError::Exhausted));
        cidr.release(Ipv4Addr::new(10, 244, 1, 100));
        assert_eq!(cidr.allocate(), Ok(Ipv4Addr::new(10, 244, 1, 100)));
    }

    #[test]
    fn freed_addresses_wait_for_the_round_to_come_back() {
        let mut cidr = PodCidr::parse("10.244.1.0/24").unwrap();
        let first = cidr.allocate().unwrap();
        cidr.release(first);
        assert_eq!(cidr.allocate(), Ok(Ipv4Addr::new(10, 244, 1, 3)));
        cidr.release(Ipv4Addr::new(10, 9, 9, 3));
        assert_eq!(cidr.allocate(), Ok(Ipv4Addr::new(10, 244, 1, 4)));
    }
}
