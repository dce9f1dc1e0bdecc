//! A node's heartbeat: its Lease in `kube-node-lease`, renewed every few seconds, and its
//! status posted again every few minutes. The node lifecycle controller marks a node NotReady
//! when its Lease lapses. Nodes of a fleet start their beats at staggered offsets so renewals
//! reach the server evenly spread.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use kube::api::PostParams;
use kube::{Api, Client};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::config::{NodeConfig, Settings};
use crate::node::{self, SystemInfo};

pub const LEASE_NAMESPACE: &str = "kube-node-lease";

/// The node a heartbeat speaks for, as registered.
pub struct Beating<'a> {
    pub node: &'a NodeConfig,
    pub uid: &'a str,
    pub system: &'a Arc<SystemInfo>,
}

/// Beats until `shutdown`: renews the Lease at each beat and re-posts the node status when
/// `settings.status_report_interval` has passed. Failures are logged and retried at the next
/// beat, reading the Lease afresh.
pub async fn run(
    client: Client,
    beating: Beating<'_>,
    first_beat_after: Duration,
    settings: &Settings,
    shutdown: CancellationToken,
) {
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let duration = i32::try_from(settings.lease_duration.as_secs()).unwrap_or(i32::MAX);
    let mut schedule = Schedule::new(
        first_beat_after,
        settings.lease_renew_interval,
        settings.status_report_interval,
    );
    let mut cached: Option<Lease> = None;
    loop {
        let beat = tokio::select! {
            () = shutdown.cancelled() => return,
            beat = schedule.next() => beat,
        };
        let wanted = lease(&beating, duration, Timestamp::now());
        // Requests are boxed so that a fleet's thousands of idle heartbeats stay small: a
        // task is as large as the largest future it awaits inline.
        cached = match Box::pin(renew(&leases, cached.take(), wanted)).await {
            Ok(renewed) => Some(renewed),
            Err(error) => {
                tracing::warn!(node = %beating.node.name, %error, "renewing the node lease failed");
                None
            }
        };
        if beat == Beat::RenewAndReport
            && let Err(error) = Box::pin(report(&Api::all(client.clone()), &beating)).await
        {
            tracing::warn!(node = %beating.node.name, %error, "posting the node status failed");
        }
    }
}

/// Writes `wanted` over the Lease, creating it when missing. `cached` is the Lease as last
/// written, which saves a read; without it the Lease is read first.
async fn renew(
    api: &Api<Lease>,
    cached: Option<Lease>,
    wanted: Lease,
) -> Result<Lease, kube::Error> {
    let name = wanted.metadata.name.clone().unwrap_or_default();
    let current = match cached {
        Some(lease) => Some(lease),
        None => api.get_opt(&name).await?,
    };
    match current {
        None => api.create(&PostParams::default(), &wanted).await,
        Some(mut lease) => {
            lease.spec = wanted.spec;
            lease.metadata.owner_references = wanted.metadata.owner_references;
            api.replace(&name, &PostParams::default(), &lease).await
        }
    }
}

async fn report(nodes: &Api<Node>, beating: &Beating<'_>) -> Result<(), node::NodeError> {
    let current = nodes.get(&beating.node.name).await?;
    node::post_status(nodes, beating.node, beating.system, &current).await?;
    Ok(())
}

/// The Lease as a kubelet writes it: held by the node, owned by the Node object.
fn lease(beating: &Beating<'_>, duration_seconds: i32, now: Timestamp) -> Lease {
    let name = &beating.node.name;
    Lease {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(LEASE_NAMESPACE.to_owned()),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".to_owned(),
                kind: "Node".to_owned(),
                name: name.clone(),
                uid: beating.uid.to_owned(),
                ..OwnerReference::default()
            }]),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(name.clone()),
            lease_duration_seconds: Some(duration_seconds),
            renew_time: Some(MicroTime(now)),
            ..LeaseSpec::default()
        }),
    }
}

/// Where in the renewal interval node `index` of `count` beats first, spreading a fleet's
/// renewals evenly.
pub fn stagger(index: u32, count: u32, interval: Duration) -> Duration {
    interval.checked_div(count).unwrap_or_default() * index
}

/// What one beat does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Beat {
    Renew,
    RenewAndReport,
}

/// The beats of one node: the first after its stagger offset, then one per interval; a beat
/// also reports the status once `report_every` has passed since the last report (registration
/// counts as one). A beat that comes late does not make the next ones bunch up.
struct Schedule {
    ticks: Interval,
    report_every: Duration,
    last_report: Instant,
}

impl Schedule {
    fn new(first_after: Duration, interval: Duration, report_every: Duration) -> Schedule {
        let start = Instant::now();
        let mut ticks = tokio::time::interval_at(start + first_after, interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Schedule {
            ticks,
            report_every,
            last_report: start,
        }
    }

    async fn next(&mut self) -> Beat {
        let now = self.ticks.tick().await;
        if now.duration_since(self.last_report) >= self.report_every {
            self.last_report = now;
            Beat::RenewAndReport
        } else {
            Beat::Renew
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Capacity;

    #[test]
    fn a_fleet_spreads_its_first_beats_over_one_interval() {
        let interval = Duration::from_secs(10);
        assert_eq!(stagger(0, 5000, interval), Duration::ZERO);
        assert_eq!(stagger(2500, 5000, interval), Duration::from_secs(5));
        assert_eq!(stagger(4999, 5000, interval), Duration::from_millis(9998));
        assert_eq!(stagger(0, 0, interval), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn beats_come_every_interval_after_the_offset_and_report_every_few() {
        let start = Instant::now();
        let mut schedule = Schedule::new(
            Duration::from_secs(3),
            Duration::from_secs(10),
            Duration::from_secs(30),
        );
        let mut beats = Vec::new();
        for _ in 0..7 {
            let beat = schedule.next().await;
            beats.push((Instant::now().duration_since(start).as_secs(), beat));
        }
        use Beat::*;
        assert_eq!(
            beats,
            [
                (3, Renew),
                (13, Renew),
                (23, Renew),
                (33, RenewAndReport),
                (43, Renew),
                (53, Renew),
                (63, RenewAndReport),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_beat_does_not_make_the_next_ones_bunch_up() {
        let start = Instant::now();
        let mut schedule = Schedule::new(Duration::ZERO, Duration::from_secs(10), Duration::MAX);
        schedule.next().await;
        tokio::time::advance(Duration::from_secs(25)).await;
        schedule.next().await;
        schedule.next().await;
        assert_eq!(
            Instant::now().duration_since(start),
            Duration::from_secs(35)
        );
    }

    #[test]
    fn the_lease_is_held_and_owned_by_its_node() {
        let node = NodeConfig {
            name: "worker-1".into(),
            address: "10.0.0.1".parse().unwrap(),
            control_plane: false,
            capacity: Capacity::default(),
        };
        let system = Arc::new(SystemInfo::detect("simulated://1.0".into()));
        let beating = Beating {
            node: &node,
            uid: "uid-1",
            system: &system,
        };
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let lease = serde_json::to_value(lease(&beating, 40, now)).unwrap();
        assert_eq!(lease["metadata"]["namespace"], "kube-node-lease");
        assert_eq!(
            lease["metadata"]["ownerReferences"],
            serde_json::json!([{"apiVersion": "v1", "kind": "Node", "name": "worker-1", "uid": "uid-1"}])
        );
        assert_eq!(lease["spec"]["holderIdentity"], "worker-1");
        assert_eq!(lease["spec"]["leaseDurationSeconds"], 40);
        assert_eq!(lease["spec"]["renewTime"], "2023-11-14T22:13:20.000000Z");
    }
}
