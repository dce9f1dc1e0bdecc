//! The iptables rules of Service routing, rendered whole as `iptables-restore --noflush` input
//! (kube-proxy's iptables mode, with our own chain names).
//!
//! In the nat table, `MKC-SERVICES` (jumped to from PREROUTING and OUTPUT) sends each cluster
//! IP and outside address to a chain per Service port: `MKC-SVC-*` spreads new connections
//! over every ready endpoint with `statistic` rules (probability 1/n, 1/(n-1), …, so each
//! endpoint gets an equal share), `MKC-SVL-*` over this node's endpoints only (the `Local`
//! traffic policies), `MKC-EXT-*` takes NodePort and LoadBalancer traffic, and `MKC-SEP-*`
//! rewrites the destination to one endpoint. Connections whose reply would not come back
//! through this node (from the node itself, from outside the cluster, or from a pod to
//! itself) are marked and masqueraded in `MKC-POSTROUTING`. In the filter table,
//! `MKC-SERVICES` refuses at once connections to a Service port with no endpoint, instead of
//! letting them wander off to the default route.
//!
//! Every chain is declared in the input, which empties it, and filled again: a sync replaces
//! the rules, it never appends to them. Chains of Service ports that are gone are emptied and
//! deleted in the same commit.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::model::{Endpoint, Route};

/// The nat chain every Service address is matched in.
pub const NAT_SERVICES: &str = "MKC-SERVICES";
/// The nat chain that masquerades marked connections.
pub const NAT_POSTROUTING: &str = "MKC-POSTROUTING";
/// The filter chain that refuses connections to Service ports without endpoints.
pub const FILTER_SERVICES: &str = "MKC-SERVICES";
const NODE_PORTS: &str = "MKC-NODEPORTS";
const MARK_MASQ: &str = "MKC-MARK-MASQ";
/// The mark bit for connections to masquerade.
const MASQ_MARK: &str = "0x4000";

/// The prefixes of the chains made per Service port or per endpoint: those found in the
/// tables but no longer wanted are deleted.
const ROUTE_CHAIN_PREFIXES: [&str; 4] = ["MKC-SVC-", "MKC-SVL-", "MKC-EXT-", "MKC-SEP-"];

/// The chains of ours an `iptables-save` listing holds that were made per Service port or
/// endpoint.
pub fn route_chains(saved: &str) -> BTreeSet<String> {
    saved
        .lines()
        .filter_map(|line| line.strip_prefix(':'))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|chain| ROUTE_CHAIN_PREFIXES.iter().any(|p| chain.starts_with(p)))
        .map(str::to_owned)
        .collect()
}

/// The whole ruleset for `routes`; `cluster_cidr` is the network of every pod.
pub fn render(routes: &[Route], cluster_cidr: &str) -> Ruleset {
    let mut nat = Table::default();
    let mut filter = Table::default();
    nat.rule(MARK_MASQ, format!("-j MARK --or-mark {MASQ_MARK}"));
    nat.rule(
        NAT_POSTROUTING,
        format!("-m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN"),
    );
    nat.rule(NAT_POSTROUTING, format!("-j MARK --xor-mark {MASQ_MARK}"));
    nat.rule(NAT_POSTROUTING, "-j MASQUERADE".to_owned());
    for route in routes {
        render_route(route, cluster_cidr, &mut nat, &mut filter);
    }
    // Last, so cluster IPs and outside addresses are matched before the node's own ports.
    nat.rule(
        NAT_SERVICES,
        format!("-m addrtype --dst-type LOCAL -j {NODE_PORTS}"),
    );
    nat.declare(NODE_PORTS);
    filter.declare(FILTER_SERVICES);
    Ruleset { nat, filter }
}

/// Every chain of ours with its rules, in both tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    nat: Table,
    filter: Table,
}

impl Ruleset {
    /// The `iptables-restore --noflush` input that takes the tables from `previous` (what the
    /// last sync applied; `None` when that is not known, after a start or a failure) to this
    /// ruleset: only the chains whose rules changed are written, since iptables-restore's
    /// time grows with what it is given (1.8 s for 32,000 rules, 20 ms for one chain); chains
    /// no longer wanted, of `previous` or `found` in the nat table, are emptied and deleted in
    /// the same commit. `None` when nothing changed.
    pub fn restore_input(
        &self,
        previous: Option<&Ruleset>,
        found: &BTreeSet<String>,
    ) -> Option<String> {
        let mut text = String::new();
        let none = BTreeSet::new();
        let nat = self.nat.changes(previous.map(|p| &p.nat), found);
        let filter = self.filter.changes(previous.map(|p| &p.filter), &none);
        if nat.is_empty() && filter.is_empty() {
            return None;
        }
        nat.write("nat", &mut text);
        filter.write("filter", &mut text);
        Some(text)
    }
}

/// One table's chains, each with its rules in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Table {
    chains: BTreeMap<String, Vec<String>>,
}

impl Table {
    fn declare(&mut self, chain: &str) {
        self.chains.entry(chain.to_owned()).or_default();
    }

    fn rule(&mut self, chain: &str, rule: String) {
        self.chains.entry(chain.to_owned()).or_default().push(rule);
    }

    fn contains(&self, chain: &str) -> bool {
        self.chains.contains_key(chain)
    }

    /// What differs from `previous` (everything, without it): the chains to write whole, and
    /// those to delete (of `previous`, or `found` in the table, that this table lacks).
    fn changes<'a>(
        &'a self,
        previous: Option<&'a Table>,
        found: &'a BTreeSet<String>,
    ) -> Changes<'a> {
        let written = self
            .chains
            .iter()
            .filter(|(chain, rules)| previous.and_then(|p| p.chains.get(*chain)) != Some(*rules))
            .map(|(chain, rules)| (chain.as_str(), rules.as_slice()))
            .collect();
        let deleted = previous
            .into_iter()
            .flat_map(|p| p.chains.keys())
            .chain(found)
            .filter(|chain| !self.contains(chain))
            .map(String::as_str)
            .collect();
        Changes { written, deleted }
    }
}

/// The part of one table a sync writes.
struct Changes<'a> {
    written: BTreeMap<&'a str, &'a [String]>,
    deleted: BTreeSet<&'a str>,
}

impl Changes<'_> {
    fn is_empty(&self) -> bool {
        self.written.is_empty() && self.deleted.is_empty()
    }

    fn write(&self, table: &str, out: &mut String) {
        let mut line =
            |text: std::fmt::Arguments| writeln!(out, "{text}").expect("writing to a String");
        line(format_args!("*{table}"));
        // Declaring a chain empties it (or makes it): written chains are filled again,
        // deleted ones must be empty before they go.
        for chain in self.written.keys().chain(self.deleted.iter()) {
            line(format_args!(":{chain} - [0:0]"));
        }
        for (chain, rules) in &self.written {
            for rule in *rules {
                line(format_args!("-A {chain} {rule}"));
            }
        }
        for chain in &self.deleted {
            line(format_args!("-X {chain}"));
        }
        line(format_args!("COMMIT"));
    }
}

fn render_route(route: &Route, cluster_cidr: &str, nat: &mut Table, filter: &mut Table) {
    let p = route.protocol;
    let comment = format!("-m comment --comment \"{}\"", route.name);
    let all = route.endpoints.iter().collect::<Vec<_>>();
    let local = route.local_endpoints();
    let svc = chain("MKC-SVC-", &[&route.name, p]);
    let svl = chain("MKC-SVL-", &[&route.name, p]);
    if !all.is_empty() {
        balance(nat, &svc, route, &all);
    }
    if (route.internal_local || route.external_local) && !local.is_empty() {
        balance(nat, &svl, route, &local);
    }

    let (internal, internal_target) = if route.internal_local {
        (&local, &svl)
    } else {
        (&all, &svc)
    };
    for ip in &route.cluster_ips {
        let dst = format!("-d {ip}/32 -p {p} -m {p} --dport {}", route.port);
        if internal.is_empty() {
            filter.rule(FILTER_SERVICES, format!("{comment} {dst} {REJECT}"));
        } else {
            nat.rule(
                NAT_SERVICES,
                format!("{comment} ! -s {cluster_cidr} {dst} -j {MARK_MASQ}"),
            );
            nat.rule(
                NAT_SERVICES,
                format!("{comment} {dst} -j {internal_target}"),
            );
        }
    }

    if !route.has_external() {
        return;
    }
    let node_port = route
        .node_port
        .map(|port| format!("-p {p} -m {p} --dport {port}"));
    let outside: Vec<String> = route
        .external_ips
        .iter()
        .map(|ip| format!("-d {ip}/32 -p {p} -m {p} --dport {}", route.port))
        .collect();
    if all.is_empty() {
        reject_outside(filter, &comment, node_port.as_deref(), &outside, REJECT);
        return;
    }
    let ext = chain("MKC-EXT-", &[&route.name, p]);
    if route.external_local {
        // Pods and the node itself may use any endpoint; outside clients keep their address
        // and reach this node's endpoints only, or nothing.
        nat.rule(&ext, format!("{comment} -s {cluster_cidr} -j {svc}"));
        nat.rule(
            &ext,
            format!("{comment} -m addrtype --src-type LOCAL -j {MARK_MASQ}"),
        );
        nat.rule(
            &ext,
            format!("{comment} -m addrtype --src-type LOCAL -j {svc}"),
        );
        if local.is_empty() {
            reject_outside(filter, &comment, node_port.as_deref(), &outside, "-j DROP");
        } else {
            nat.rule(&ext, format!("{comment} -j {svl}"));
        }
    } else {
        nat.rule(&ext, format!("{comment} -j {MARK_MASQ}"));
        nat.rule(&ext, format!("{comment} -j {svc}"));
    }
    if let Some(node_port) = &node_port {
        nat.rule(NODE_PORTS, format!("{comment} {node_port} -j {ext}"));
    }
    for dst in &outside {
        nat.rule(NAT_SERVICES, format!("{comment} {dst} -j {ext}"));
    }
}

/// What a connection to a port without endpoints gets: refused at once.
const REJECT: &str = "-j REJECT --reject-with icmp-port-unreachable";

/// Refuses (or drops) connections from outside to the route's node port and outside
/// addresses. Those connections were not rewritten, so they still carry the node's address.
fn reject_outside(
    filter: &mut Table,
    comment: &str,
    node_port: Option<&str>,
    outside: &[String],
    verdict: &str,
) {
    if let Some(node_port) = node_port {
        filter.rule(
            FILTER_SERVICES,
            format!("{comment} -m addrtype --dst-type LOCAL {node_port} {verdict}"),
        );
    }
    for dst in outside {
        filter.rule(FILTER_SERVICES, format!("{comment} {dst} {verdict}"));
    }
}

/// Fills `chain` with rules that send each new connection to one of `endpoints`, with equal
/// chances (or to the one a client used last, with session affinity).
fn balance(nat: &mut Table, chain: &str, route: &Route, endpoints: &[&Endpoint]) {
    let comment = format!("-m comment --comment \"{}\"", route.name);
    let seps: Vec<String> = endpoints
        .iter()
        .map(|e| endpoint_chain(nat, route, e))
        .collect();
    if let Some(seconds) = route.affinity_seconds {
        for sep in &seps {
            nat.rule(
                chain,
                format!(
                    "{comment} -m recent --name {sep} --mask 255.255.255.255 --rsource --rcheck --seconds {seconds} --reap -j {sep}"
                ),
            );
        }
    }
    let n = seps.len();
    for (i, sep) in seps.iter().enumerate() {
        if i + 1 == n {
            nat.rule(chain, format!("{comment} -j {sep}"));
        } else {
            let probability = 1.0 / (n - i) as f64;
            nat.rule(
                chain,
                format!(
                    "{comment} -m statistic --mode random --probability {probability:.10} -j {sep}"
                ),
            );
        }
    }
}

/// The chain that rewrites a connection's destination to `endpoint`, made once per endpoint.
fn endpoint_chain(nat: &mut Table, route: &Route, endpoint: &Endpoint) -> String {
    let target = format!("{}:{}", endpoint.ip, endpoint.port);
    let sep = chain("MKC-SEP-", &[&route.name, route.protocol, &target]);
    if nat.contains(&sep) {
        return sep;
    }
    let comment = format!("-m comment --comment \"{}\"", route.name);
    let p = route.protocol;
    // A pod reaching itself through its Service: its reply must come back through the node.
    nat.rule(
        &sep,
        format!("{comment} -s {}/32 -j {MARK_MASQ}", endpoint.ip),
    );
    let remember = if route.affinity_seconds.is_some() {
        format!(" -m recent --name {sep} --mask 255.255.255.255 --rsource --set")
    } else {
        String::new()
    };
    nat.rule(
        &sep,
        format!("{comment} -p {p}{remember} -m {p} -j DNAT --to-destination {target}"),
    );
    sep
}

/// A chain name from `prefix` and a digest of `parts`: stable across restarts (so a restarted
/// agent finds its chains) and within iptables' 28-character limit.
fn chain(prefix: &str, parts: &[&str]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, parts.join("/").as_bytes());
    let mut name = prefix.to_owned();
    for byte in &digest.as_ref()[..8] {
        write!(name, "{byte:02X}").expect("writing to a String");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(endpoints: &[(&str, bool)]) -> Route {
        Route {
            name: "shop/web:http".into(),
            protocol: "tcp",
            cluster_ips: vec!["10.96.0.20".parse().unwrap()],
            port: 80,
            node_port: None,
            external_ips: Vec::new(),
            affinity_seconds: None,
            external_local: false,
            internal_local: false,
            endpoints: endpoints
                .iter()
                .map(|(ip, local)| Endpoint {
                    ip: ip.parse().unwrap(),
                    port: 8080,
                    local: *local,
                })
                .collect(),
        }
    }

    /// The input that writes the whole ruleset of `routes`.
    fn full(routes: &[Route]) -> String {
        render(routes, "10.244.0.0/16")
            .restore_input(None, &BTreeSet::new())
            .unwrap()
    }

    /// The rules of `chain` in the nat table (`filter` for the filter table's).
    fn rules_of<'a>(text: &'a str, chain: &str) -> Vec<&'a str> {
        in_table(text, "nat", chain)
    }

    fn filter(text: &str) -> Vec<&str> {
        in_table(text, "filter", FILTER_SERVICES)
    }

    fn in_table<'a>(text: &'a str, table: &str, chain: &str) -> Vec<&'a str> {
        let head = format!("-A {chain} ");
        text.split_once(&format!("*{table}\n"))
            .unwrap()
            .1
            .lines()
            .take_while(|l| *l != "COMMIT")
            .filter(|l| l.starts_with(&head))
            .collect()
    }

    #[test]
    fn chain_names_are_stable_and_fit_iptables() {
        let name = chain(
            "MKC-SEP-",
            &["a-very-long-namespace/a-very-long-name:port", "tcp"],
        );
        assert_eq!(
            name,
            chain(
                "MKC-SEP-",
                &["a-very-long-namespace/a-very-long-name:port", "tcp"]
            )
        );
        assert_eq!(name.len(), 24);
        assert_ne!(name, chain("MKC-SEP-", &["other", "tcp"]));
    }

    #[test]
    fn connections_are_spread_evenly_over_the_endpoints() {
        let r = route(&[
            ("10.244.1.5", true),
            ("10.244.2.5", false),
            ("10.244.3.5", false),
        ]);
        let text = full(std::slice::from_ref(&r));
        let svc = chain("MKC-SVC-", &[&r.name, "tcp"]);
        let spread = rules_of(&text, &svc);
        assert_eq!(spread.len(), 3);
        assert!(
            spread[0].contains("--probability 0.3333333333"),
            "{}",
            spread[0]
        );
        assert!(
            spread[1].contains("--probability 0.5000000000"),
            "{}",
            spread[1]
        );
        assert!(!spread[2].contains("statistic"), "{}", spread[2]);
        let into = rules_of(&text, NAT_SERVICES);
        assert!(
            into.iter()
                .any(|l| l.contains("-d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j MKC-SVC-"))
        );
        assert!(
            into.iter().any(
                |l| l.contains("! -s 10.244.0.0/16 -d 10.96.0.20/32") && l.ends_with(MARK_MASQ)
            )
        );
        let sep = chain("MKC-SEP-", &[&r.name, "tcp", "10.244.2.5:8080"]);
        assert_eq!(
            rules_of(&text, &sep),
            [
                format!(
                    "-A {sep} -m comment --comment \"shop/web:http\" -s 10.244.2.5/32 -j MKC-MARK-MASQ"
                ),
                format!(
                    "-A {sep} -m comment --comment \"shop/web:http\" -p tcp -m tcp -j DNAT --to-destination 10.244.2.5:8080"
                ),
            ]
        );
        assert!(!text.contains("REJECT"));
    }

    #[test]
    fn a_port_without_endpoints_is_refused_not_routed() {
        let mut r = route(&[]);
        r.node_port = Some(30080);
        let text = full(&[r]);
        assert!(!text.contains("MKC-SVC-"));
        let refused = filter(&text);
        assert_eq!(refused.len(), 2, "{text}");
        assert!(refused[0].contains("-d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j REJECT"));
        assert!(refused[1].contains("--dst-type LOCAL -p tcp -m tcp --dport 30080 -j REJECT"));
    }

    #[test]
    fn gone_chains_are_emptied_and_deleted_in_the_same_commit() {
        let existing = route_chains(
            ":MKC-SVC-0011223344556677 - [0:0]\n:MKC-SERVICES - [0:0]\n:DOCKER - [0:0]\n",
        );
        assert_eq!(existing.len(), 1);
        let text = render(&[], "10.244.0.0/16")
            .restore_input(None, &existing)
            .unwrap();
        let declared = text.find(":MKC-SVC-0011223344556677 - [0:0]").unwrap();
        let deleted = text.find("-X MKC-SVC-0011223344556677").unwrap();
        let commit = text.find("COMMIT").unwrap();
        assert!(declared < deleted && deleted < commit);
    }

    #[test]
    fn node_ports_masquerade_unless_the_policy_is_local() {
        let mut r = route(&[("10.244.1.5", false)]);
        r.node_port = Some(30080);
        let text = full(std::slice::from_ref(&r));
        let ext = chain("MKC-EXT-", &[&r.name, "tcp"]);
        let rules = rules_of(&text, &ext);
        assert!(rules[0].ends_with("-j MKC-MARK-MASQ"));
        assert!(rules_of(&text, NODE_PORTS)[0].contains("--dport 30080 -j MKC-EXT-"));

        // Local, with no endpoint on this node: outside clients are dropped, pods still pass.
        r.external_local = true;
        let text = full(std::slice::from_ref(&r));
        let rules = rules_of(&text, &ext);
        assert!(rules[0].contains("-s 10.244.0.0/16 -j MKC-SVC-"));
        assert!(!rules.iter().any(|l| l.contains("MKC-SVL-")));
        assert!(filter(&text)[0].ends_with("--dport 30080 -j DROP"));
    }

    #[test]
    fn client_ip_affinity_remembers_the_endpoint_per_client() {
        let mut r = route(&[("10.244.1.5", true), ("10.244.2.5", false)]);
        r.affinity_seconds = Some(60);
        let text = full(std::slice::from_ref(&r));
        let svc = chain("MKC-SVC-", &[&r.name, "tcp"]);
        let rules = rules_of(&text, &svc);
        assert_eq!(rules.len(), 4);
        assert!(rules[0].contains("--rcheck --seconds 60 --reap"));
        let sep = chain("MKC-SEP-", &[&r.name, "tcp", "10.244.1.5:8080"]);
        assert!(rules_of(&text, &sep)[1].contains(&format!(
            "--name {sep} --mask 255.255.255.255 --rsource --set"
        )));
    }

    #[test]
    fn a_sync_writes_only_the_chains_that_changed() {
        let before = render(
            &[route(&[("10.244.1.5", true), ("10.244.2.5", false)])],
            "10.244.0.0/16",
        );
        assert_eq!(before.restore_input(Some(&before), &BTreeSet::new()), None);
        let r = route(&[("10.244.1.5", true), ("10.244.3.5", false)]);
        let after = render(std::slice::from_ref(&r), "10.244.0.0/16");
        let text = after
            .restore_input(Some(&before), &BTreeSet::new())
            .unwrap();
        let gone = chain("MKC-SEP-", &[&r.name, "tcp", "10.244.2.5:8080"]);
        let new = chain("MKC-SEP-", &[&r.name, "tcp", "10.244.3.5:8080"]);
        let kept = chain("MKC-SEP-", &[&r.name, "tcp", "10.244.1.5:8080"]);
        let svc = chain("MKC-SVC-", &[&r.name, "tcp"]);
        let declared: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix(':'))
            .filter_map(|l| l.split(' ').next())
            .collect();
        let mut expected = vec![gone.as_str(), new.as_str(), svc.as_str()];
        expected.sort();
        let mut declared_sorted = declared.clone();
        declared_sorted.sort();
        assert_eq!(declared_sorted, expected, "{text}");
        assert!(text.contains(&format!("-X {gone}")));
        assert!(!text.contains(&format!("-A {kept} ")));
        assert!(!text.contains("MKC-SERVICES"), "{text}");
    }
}
