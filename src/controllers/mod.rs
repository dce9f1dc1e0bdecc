//! The controllers that make the cluster act, each reconciling through the API like any client:
//! one module per controller, started together by [`run`] and stopped by one cancellation.

mod clusterrole_aggregation;
mod deployment;
mod endpoints;
pub(crate) mod events;
mod garbage_collector;
mod informers;
mod namespace;
mod namespace_defaults;
mod node_ipam;
mod node_lifecycle;
mod owners;
mod pace;
mod pod_gc;
mod pods;
mod replicaset;
pub(crate) mod selector;
mod service_lb;

use std::collections::BTreeSet;
use std::time::Duration;

pub use node_ipam::Cidr;

use kube::Client;
use mkc_supervisor::supervise;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::apiserver::User;

/// Every controller, by the name `--controllers` uses.
pub const ALL: &[&str] = &[
    "garbage-collector",
    "clusterrole-aggregation",
    "namespace",
    "deployment",
    "replicaset",
    "node-lifecycle",
    "node-ipam",
    "endpoints",
    "service-lb",
    "serviceaccount",
    "root-ca-cert-publisher",
    "scheduler",
];

/// Why a reconcile failed: the API refused or could not be reached, or the reconcile panicked.
/// Every controller's error policy retries both alike.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("API request failed: {0}")]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    Panicked(#[from] mkc_supervisor::Panicked),
}

/// What `--controllers` can get wrong.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("unknown controller {0:?}; known controllers are {known}", known = ALL.join(", "))]
    Unknown(String),
}

/// Which controllers run, from a list in kube-controller-manager's form: `*` for all, a name to
/// add one, `-name` to leave one out (`*,-garbage-collector`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection(BTreeSet<&'static str>);

impl Selection {
    pub fn parse(text: &str) -> Result<Selection, SelectionError> {
        let mut enabled = BTreeSet::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match item {
                "*" => enabled.extend(ALL.iter().copied()),
                _ => {
                    let (disable, name) = match item.strip_prefix('-') {
                        Some(name) => (true, name),
                        None => (false, item),
                    };
                    let known = ALL
                        .iter()
                        .copied()
                        .find(|c| *c == name)
                        .ok_or_else(|| SelectionError::Unknown(name.to_owned()))?;
                    if disable {
                        enabled.remove(known);
                    } else {
                        enabled.insert(known);
                    }
                }
            }
        }
        Ok(Selection(enabled))
    }

    pub fn all() -> Selection {
        Selection(ALL.iter().copied().collect())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }
}

/// Settings of the controllers that have any.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long a node's Lease may go unrenewed before the node is marked Unknown.
    pub node_monitor_grace_period: Duration,
    /// Where node pod CIDRs are carved from.
    pub cluster_cidr: Cidr,
    /// The cluster CA's certificate, published to every namespace in `kube-root-ca.crt`.
    pub root_ca_pem: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            node_monitor_grace_period: Duration::from_secs(40),
            cluster_cidr: Cidr {
                network: std::net::Ipv4Addr::new(10, 244, 0, 0),
                prefix: 16,
            },
            root_ca_pem: String::new(),
        }
    }
}

/// Runs the selected controllers until `shutdown`. A panic in a reconcile is retried as any
/// failure is; the scheduler and the garbage collector, which run as single tasks, are
/// started again with back-off if they panic.
/// The identities the controllers act as, each with a client of its own, as upstream's
/// controller manager runs with `--use-service-account-credentials`: the shared informers read
/// as `system:kube-controller-manager`, each controller writes as its service account in
/// kube-system (so RBAC holds it to its `system:controller:*` role), and the scheduler acts
/// as `system:kube-scheduler`.
#[derive(Clone)]
pub struct Clients {
    connect: std::sync::Arc<dyn Fn(User) -> Client + Send + Sync>,
}

impl Clients {
    /// Clients made by `connect` for each identity.
    pub fn new(connect: impl Fn(User) -> Client + Send + Sync + 'static) -> Clients {
        Clients {
            connect: std::sync::Arc::new(connect),
        }
    }

    fn manager(&self) -> Client {
        (self.connect)(User {
            name: "system:kube-controller-manager".into(),
            groups: vec![],
        })
    }

    /// The client of the controller that runs as service account `account`.
    fn controller(&self, account: &str) -> Client {
        (self.connect)(User {
            name: format!("system:serviceaccount:kube-system:{account}"),
            groups: vec![
                "system:serviceaccounts".into(),
                "system:serviceaccounts:kube-system".into(),
            ],
        })
    }

    fn scheduler(&self) -> Client {
        (self.connect)(User {
            name: "system:kube-scheduler".into(),
            groups: vec![],
        })
    }
}

pub async fn run(
    clients: Clients,
    selection: Selection,
    options: Options,
    shutdown: CancellationToken,
) {
    let mut tasks = JoinSet::new();
    let mut informers = informers::Informers::new();
    if selection.contains("node-lifecycle") {
        let grace = options.node_monitor_grace_period;
        tasks.spawn(node_lifecycle::start(
            &clients.controller("node-controller"),
            &mut informers,
            grace,
            shutdown.clone(),
        ));
        tasks.spawn(pod_gc::start(
            &clients.controller("pod-garbage-collector"),
            &mut informers,
            shutdown.clone(),
        ));
    }
    if selection.contains("node-ipam") {
        tasks.spawn(node_ipam::start(
            &clients.controller("node-controller"),
            &mut informers,
            options.cluster_cidr,
            shutdown.clone(),
        ));
    }
    if selection.contains("endpoints") {
        tasks.spawn(endpoints::start(
            &clients.controller("endpoint-controller"),
            &clients.controller("endpointslice-controller"),
            &mut informers,
            shutdown.clone(),
        ));
    }
    if selection.contains("service-lb") {
        tasks.spawn(service_lb::start(
            &clients.controller("service-controller"),
            &mut informers,
            shutdown.clone(),
        ));
    }
    if selection.contains("deployment") {
        tasks.spawn(deployment::start(
            &clients.controller("deployment-controller"),
            &mut informers,
            shutdown.clone(),
        ));
    }
    if selection.contains("replicaset") {
        let pods = owners::PodsByOwner::new(&mut informers.pods);
        tasks.spawn(replicaset::start(
            &clients.controller("replicaset-controller"),
            &mut informers,
            pods,
            shutdown.clone(),
        ));
    }
    if selection.contains("namespace") {
        tasks.spawn(namespace::start(
            &clients.controller("namespace-controller"),
            &mut informers,
            shutdown.clone(),
        ));
    }
    if selection.contains("serviceaccount") {
        tasks.spawn(namespace_defaults::start_service_accounts(
            &clients.controller("service-account-controller"),
            &mut informers,
            shutdown.clone(),
        ));
    }
    if selection.contains("root-ca-cert-publisher") {
        tasks.spawn(namespace_defaults::start_root_ca_publisher(
            &clients.controller("root-ca-cert-publisher"),
            &mut informers,
            options.root_ca_pem.clone(),
            shutdown.clone(),
        ));
    }
    if selection.contains("clusterrole-aggregation") {
        tasks.spawn(clusterrole_aggregation::start(
            &clients.controller("clusterrole-aggregation-controller"),
            &mut informers,
            shutdown.clone(),
        ));
    }
    informers.start(&clients.manager(), &mut tasks, &shutdown);
    if selection.contains("scheduler") {
        let (client, stop) = (clients.scheduler(), shutdown.clone());
        tasks.spawn(supervise("scheduler", shutdown.clone(), move || {
            crate::scheduler::run(client.clone(), stop.clone())
        }));
    }
    if selection.contains("garbage-collector") {
        let (client, stop) = (
            clients.controller("generic-garbage-collector"),
            shutdown.clone(),
        );
        tasks.spawn(supervise(
            "garbage-collector",
            shutdown.clone(),
            move || garbage_collector::run(client.clone(), stop.clone()),
        ));
    }
    while let Some(ended) = tasks.join_next().await {
        // A reconcile's panic is retried and the single tasks are restarted; a panic that
        // still ends a controller (one inside kube-runtime) is at least never silent.
        if let Err(err) = ended
            && err.is_panic()
        {
            tracing::error!(error = %err, "a controller stopped after a panic");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_read_like_kube_controller_manager_flags() {
        assert_eq!(Selection::parse("*").unwrap(), Selection::all());
        let without = Selection::parse("*,-garbage-collector").unwrap();
        assert!(!without.contains("garbage-collector") && without.contains("namespace"));
        let only = Selection::parse("namespace").unwrap();
        assert!(only.contains("namespace") && !only.contains("garbage-collector"));
        assert!(Selection::parse("").unwrap().0.is_empty());
        assert!(
            matches!(Selection::parse("bogus"), Err(SelectionError::Unknown(n)) if n == "bogus")
        );
    }
}
