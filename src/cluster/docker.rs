//! The Docker provider: node containers on the machine's Docker engine, through its API.
//!
//! A node container runs its own dockerd, which needs more than a container normally has. It
//! is started `--privileged` where that works; on hosts whose capability bounding set lacks a
//! capability, runc cannot apply `--privileged` ("unable to apply caps"), and the node is made
//! again with every capability but the missing one, no seccomp or AppArmor profile and no
//! masked or read-only paths, which is what the inner dockerd needs.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Mutex;

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HostConfig,
    HostConfigCgroupnsModeEnum, Ipam, IpamConfig, Mount, MountType, NetworkCreateRequest,
    NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
    ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder, RemoveVolumeOptions,
    UploadToContainerOptionsBuilder,
};
use futures::{StreamExt, TryStreamExt};
use tokio::io::AsyncWriteExt;

use super::certs::API_PORT;
use super::files;
use super::names::{CLUSTER_LABEL, ClusterName, ROLE_LABEL, Role, docker_volume};
use super::provider::{Loaded, NodeProvider, NodeSpec, ProviderError, Removed, Security, Subnet};

/// The part of runc's error that says `--privileged` cannot be applied on this host.
const CAPS_REFUSED: &str = "unable to apply caps";
/// The capability the hosts that refuse `--privileged` lack.
const MISSING_CAPABILITY: &str = "SYS_RESOURCE";

/// The Docker engine, reached through its API.
pub struct DockerProvider {
    docker: Docker,
    /// Learned from the first node: whether `--privileged` works here.
    security: Mutex<Option<Security>>,
}

impl DockerProvider {
    /// Runs `cmd` in `node` to its end, discarding its output: whether it exited 0.
    async fn exec_succeeds(&self, node: &str, cmd: Vec<&str>) -> Result<bool, ProviderError> {
        let what = || format!("run {} in {node}", cmd[0]);
        let exec = self
            .docker
            .create_exec(
                node,
                CreateExecOptions {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(cmd.clone()),
                    ..Default::default()
                },
            )
            .await
            .map_err(refused(what()))?;
        if let StartExecResults::Attached { mut output, .. } = self
            .docker
            .start_exec(&exec.id, Some(StartExecOptions::default()))
            .await
            .map_err(refused(what()))?
        {
            while output.next().await.is_some() {}
        }
        let inspected = self
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(refused(what()))?;
        Ok(inspected.exit_code == Some(0))
    }
    /// Connects to the engine (`DOCKER_HOST` or the local socket) and agrees on an API
    /// version it speaks (bollard's default is newer than Docker 20.10's 1.41).
    pub async fn connect() -> Result<DockerProvider, ProviderError> {
        let docker = Docker::connect_with_defaults()
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?
            .negotiate_version()
            .await
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        docker
            .ping()
            .await
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        Ok(DockerProvider {
            docker,
            security: Mutex::new(None),
        })
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    fn labels(cluster: &ClusterName) -> HashMap<String, String> {
        HashMap::from([(CLUSTER_LABEL.to_owned(), cluster.to_string())])
    }

    fn cluster_filter(cluster: &ClusterName) -> HashMap<String, Vec<String>> {
        HashMap::from([(
            "label".to_owned(),
            vec![format!("{CLUSTER_LABEL}={cluster}")],
        )])
    }

    /// The containers (running or not), networks and volumes carrying a label `filter`.
    async fn labelled(
        &self,
        filter: &HashMap<String, Vec<String>>,
    ) -> Result<Labelled, ProviderError> {
        let containers = self
            .docker
            .list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(filter)
                    .build(),
            ))
            .await
            .map_err(refused("list containers".into()))?;
        let networks = self
            .docker
            .list_networks(Some(
                ListNetworksOptionsBuilder::default()
                    .filters(filter)
                    .build(),
            ))
            .await
            .map_err(refused("list networks".into()))?;
        let volumes = self
            .docker
            .list_volumes(Some(
                ListVolumesOptionsBuilder::default().filters(filter).build(),
            ))
            .await
            .map_err(refused("list volumes".into()))?
            .volumes
            .unwrap_or_default();
        Ok(Labelled {
            containers,
            networks,
            volumes,
        })
    }

    async fn create_volume(&self, name: &str, cluster: &ClusterName) -> Result<(), ProviderError> {
        self.docker
            .create_volume(VolumeCreateRequest {
                name: Some(name.to_owned()),
                labels: Some(Self::labels(cluster)),
                ..Default::default()
            })
            .await
            .map_err(refused(format!("create the volume {name}")))?;
        Ok(())
    }

    /// Creates the container, places its files and starts it.
    async fn create_and_start(
        &self,
        node: &NodeSpec,
        security: Security,
    ) -> Result<(), ProviderError> {
        let body = container_body(node, security);
        self.docker
            .create_container(
                Some(
                    CreateContainerOptionsBuilder::default()
                        .name(&node.name)
                        .build(),
                ),
                body,
            )
            .await
            .map_err(refused(format!("create the container {}", node.name)))?;
        let archive = files::archive(&node.files).map_err(|e| ProviderError::Refused {
            what: format!("pack the files of {}", node.name),
            message: e.to_string(),
        })?;
        self.docker
            .upload_to_container(
                &node.name,
                Some(UploadToContainerOptionsBuilder::default().path("/").build()),
                bollard::body_full(archive.into()),
            )
            .await
            .map_err(refused(format!("copy the files of {}", node.name)))?;
        self.docker
            .start_container(&node.name, None)
            .await
            .map_err(refused(format!("start {}", node.name)))
    }

    /// Removes a network; false if it was gone already. The engine may still hold an endpoint
    /// of a container it has just removed for a moment ("has active endpoints"): that is
    /// waited out briefly.
    async fn remove_network(&self, name: &str) -> Result<bool, ProviderError> {
        let mut attempts = 0;
        loop {
            match self.docker.remove_network(name).await {
                Ok(()) => return Ok(true),
                Err(err) if not_found(&err) => return Ok(false),
                Err(err) if docker_message(&err).contains("active endpoints") && attempts < 25 => {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(err) => return Err(refused(format!("remove the network {name}"))(err)),
            }
        }
    }

    async fn remove_container(&self, name: &str) -> Result<(), ProviderError> {
        self.docker
            .remove_container(
                name,
                Some(
                    RemoveContainerOptionsBuilder::default()
                        .force(true)
                        .v(true)
                        .build(),
                ),
            )
            .await
            .map_err(refused(format!("remove the container {name}")))
    }
}

/// What the engine holds under a label.
struct Labelled {
    containers: Vec<bollard::models::ContainerSummary>,
    networks: Vec<bollard::models::Network>,
    volumes: Vec<bollard::models::Volume>,
}

/// The container of a node: its role in the environment and labels, a fixed address on the
/// cluster network (kept across restarts), the inner dockerd's storage on a volume (overlay2
/// cannot sit on overlayfs), the server's data on a volume of its own, and a private cgroup
/// namespace so the inner containers' cgroups nest under the node's. Nodes restart with the
/// host's engine (after a reboot) unless someone stopped them: the init exits 0 on the
/// engine's SIGTERM, which `on-failure` (kind's choice) would not restart.
fn container_body(node: &NodeSpec, security: Security) -> ContainerCreateBody {
    let mut labels = DockerProvider::labels(&node.cluster);
    labels.insert(ROLE_LABEL.to_owned(), node.role.label().to_owned());
    let mut mounts = vec![volume_mount(&docker_volume(&node.name), "/var/lib/docker")];
    if node.role == Role::ControlPlane {
        mounts.push(volume_mount(
            &node.cluster.server_data_volume(),
            "/var/lib/mkc",
        ));
    }
    let api_port = format!("{API_PORT}/tcp");
    let mut host = HostConfig {
        init: Some(true),
        cgroupns_mode: Some(HostConfigCgroupnsModeEnum::PRIVATE),
        tmpfs: Some(HashMap::from([
            ("/run".to_owned(), String::new()),
            ("/tmp".to_owned(), String::new()),
        ])),
        mounts: Some(mounts),
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
            maximum_retry_count: None,
        }),
        network_mode: Some(node.cluster.network()),
        port_bindings: node.publish_api.map(|port| {
            HashMap::from([(
                api_port.clone(),
                Some(vec![PortBinding {
                    host_ip: Some(Ipv4Addr::LOCALHOST.to_string()),
                    host_port: Some(port.to_string()),
                }]),
            )])
        }),
        ..Default::default()
    };
    match security {
        Security::Privileged => host.privileged = Some(true),
        Security::Fallback => {
            host.cap_add = Some(vec!["ALL".to_owned()]);
            host.cap_drop = Some(vec![MISSING_CAPABILITY.to_owned()]);
            host.security_opt = Some(vec![
                "seccomp=unconfined".to_owned(),
                "apparmor=unconfined".to_owned(),
            ]);
            host.masked_paths = Some(vec![]);
            host.readonly_paths = Some(vec![]);
        }
    }
    ContainerCreateBody {
        image: Some(node.image.clone()),
        hostname: Some(node.name.clone()),
        env: Some(
            node.env
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect(),
        ),
        labels: Some(labels),
        exposed_ports: node.publish_api.map(|_| vec![api_port.clone()]),
        host_config: Some(host),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                node.cluster.network(),
                EndpointSettings {
                    ipam_config: Some(EndpointIpamConfig {
                        ipv4_address: Some(node.address.to_string()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    }
}

fn volume_mount(volume: &str, target: &str) -> Mount {
    Mount {
        typ: Some(MountType::VOLUME),
        source: Some(volume.to_owned()),
        target: Some(target.to_owned()),
        ..Default::default()
    }
}

fn refused(what: String) -> impl FnOnce(bollard::errors::Error) -> ProviderError {
    move |error| ProviderError::Refused {
        what,
        message: docker_message(&error),
    }
}

/// The engine's own message where it sent one, without bollard's wrapping.
fn docker_message(error: &bollard::errors::Error) -> String {
    match error {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn not_found(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The first `10.89.N.0/24` that overlaps none of `taken` (CIDRs of existing networks).
fn free_subnet(taken: &[String]) -> Option<Subnet> {
    let ranges: Vec<(u32, u32)> = taken.iter().filter_map(|cidr| cidr_range(cidr)).collect();
    (0..=255u8).find_map(|n| {
        let base = Ipv4Addr::new(10, 89, n, 0);
        let (start, end) = (u32::from(base), u32::from(base) + 255);
        let free = ranges.iter().all(|&(s, e)| end < s || start > e);
        free.then_some(Subnet { base })
    })
}

/// The first and last address of an IPv4 CIDR; `None` for IPv6 or nonsense.
fn cidr_range(cidr: &str) -> Option<(u32, u32)> {
    let (address, prefix) = cidr.split_once('/')?;
    let address = u32::from(address.parse::<Ipv4Addr>().ok()?);
    let prefix: u32 = prefix.parse().ok().filter(|p| *p <= 32)?;
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    Some((address & mask, (address & mask) | !mask))
}

impl NodeProvider for DockerProvider {
    async fn clusters(&self) -> Result<Vec<String>, ProviderError> {
        let filter = HashMap::from([("label".to_owned(), vec![CLUSTER_LABEL.to_owned()])]);
        let Labelled {
            containers,
            networks,
            volumes,
        } = self.labelled(&filter).await?;
        let mut names: Vec<String> = containers
            .into_iter()
            .filter_map(|c| c.labels)
            .chain(networks.into_iter().filter_map(|n| n.labels))
            .chain(volumes.into_iter().map(|v| v.labels))
            .filter_map(|mut labels| labels.remove(CLUSTER_LABEL))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Another `up` may take the same free subnet between the listing and the create: the
    /// engine then refuses with an overlap, and the next free one is tried.
    async fn create_network(&self, cluster: &ClusterName) -> Result<Subnet, ProviderError> {
        let mut lost: Vec<String> = Vec::new();
        loop {
            let networks = self
                .docker
                .list_networks(None::<bollard::query_parameters::ListNetworksOptions>)
                .await
                .map_err(refused("list networks".into()))?;
            let mut taken: Vec<String> = networks
                .iter()
                .filter_map(|n| n.ipam.as_ref()?.config.as_ref())
                .flatten()
                .filter_map(|config| config.subnet.clone())
                .collect();
            taken.extend(lost.iter().cloned());
            let subnet = free_subnet(&taken).ok_or_else(|| {
                ProviderError::NoFreeSubnet("10.89.0.0/24 … 10.89.255.0/24".to_owned())
            })?;
            let created = self
                .docker
                .create_network(NetworkCreateRequest {
                    name: cluster.network(),
                    driver: Some("bridge".to_owned()),
                    ipam: Some(Ipam {
                        config: Some(vec![IpamConfig {
                            subnet: Some(subnet.to_string()),
                            gateway: Some(subnet.host(1).to_string()),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }),
                    labels: Some(Self::labels(cluster)),
                    ..Default::default()
                })
                .await;
            match created {
                Ok(_) => return Ok(subnet),
                Err(error) if docker_message(&error).contains("overlaps") && lost.len() < 16 => {
                    lost.push(subnet.to_string());
                }
                Err(error) => {
                    return Err(
                        refused(format!("create the network {}", cluster.network()))(error),
                    );
                }
            }
        }
    }

    async fn create_node(&self, node: &NodeSpec) -> Result<Security, ProviderError> {
        self.create_volume(&docker_volume(&node.name), &node.cluster)
            .await?;
        if node.role == Role::ControlPlane {
            self.create_volume(&node.cluster.server_data_volume(), &node.cluster)
                .await?;
        }
        let known = *self.security.lock().unwrap_or_else(|p| p.into_inner());
        let first = known.unwrap_or(Security::Privileged);
        let security = match self.create_and_start(node, first).await {
            Err(ProviderError::Refused { message, .. })
                if first == Security::Privileged && message.contains(CAPS_REFUSED) =>
            {
                self.remove_container(&node.name).await?;
                self.create_and_start(node, Security::Fallback).await?;
                Security::Fallback
            }
            other => other.map(|()| first)?,
        };
        *self.security.lock().unwrap_or_else(|p| p.into_inner()) = Some(security);
        Ok(security)
    }

    async fn nodes(&self, cluster: &ClusterName) -> Result<Vec<String>, ProviderError> {
        let containers = self
            .labelled(&Self::cluster_filter(cluster))
            .await?
            .containers;
        let mut names: Vec<String> = containers
            .into_iter()
            .filter_map(|c| c.names?.into_iter().next())
            .map(|name| name.trim_start_matches('/').to_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    /// `docker save` on the host piped into `docker load` in the node, through the API on
    /// both ends: the export streams into the stdin of an exec in the node. A node whose
    /// engine has an image of that name with the host's image's ID is skipped.
    async fn load_image(&self, node: &str, image: &str) -> Result<Loaded, ProviderError> {
        let id = self
            .docker
            .inspect_image(image)
            .await
            .map_err(refused(format!(
                "find {image} on this machine (`docker images` lists what is there)"
            )))?
            .id
            .unwrap_or_default();
        // Compared in the node by the shell, so nothing the node's CLI prints is parsed here.
        let same =
            "test \"$(docker image inspect --format '{{.Id}}' \"$1\" 2>/dev/null)\" = \"$2\"";
        if self
            .exec_succeeds(node, vec!["sh", "-c", same, "sh", image, &id])
            .await?
        {
            return Ok(Loaded::AlreadyThere);
        }
        let exec = self
            .docker
            .create_exec(
                node,
                CreateExecOptions {
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(vec!["docker", "load", "--quiet"]),
                    ..Default::default()
                },
            )
            .await
            .map_err(refused(format!("run docker load in {node}")))?;
        let started = self
            .docker
            .start_exec(&exec.id, Some(StartExecOptions::default()))
            .await
            .map_err(refused(format!("run docker load in {node}")))?;
        let StartExecResults::Attached {
            mut output,
            mut input,
        } = started
        else {
            return Err(ProviderError::Refused {
                what: format!("attach to docker load in {node}"),
                message: "the engine detached the exec".into(),
            });
        };
        let mut export = self.docker.export_image(image);
        let send = async {
            while let Some(chunk) = export.try_next().await.map_err(refused(format!(
                "export {image} (is it on this machine? `docker images` lists what is)"
            )))? {
                input
                    .write_all(&chunk)
                    .await
                    .map_err(|e| ProviderError::Refused {
                        what: format!("send {image} to {node}"),
                        message: e.to_string(),
                    })?;
            }
            input.shutdown().await.map_err(|e| ProviderError::Refused {
                what: format!("send {image} to {node}"),
                message: e.to_string(),
            })
        };
        let mut said = String::new();
        let receive = async {
            while let Some(Ok(chunk)) = output.next().await {
                said.push_str(&chunk.to_string());
            }
        };
        let (sent, ()) = tokio::join!(send, receive);
        sent?;
        let inspected = self
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(refused(format!("check docker load in {node}")))?;
        match inspected.exit_code {
            Some(0) => Ok(Loaded::Copied),
            code => Err(ProviderError::Refused {
                what: format!("load {image} into {node} (exit {code:?})"),
                message: said.trim().to_owned(),
            }),
        }
    }

    async fn delete_cluster(&self, cluster: &ClusterName) -> Result<Removed, ProviderError> {
        let nodes = self.nodes(cluster).await?;
        // Killed together (the slow part: each node's processes end), then removed one at a
        // time: removals racing on one network can leave the engine a stale endpoint that
        // keeps the network from being removed.
        futures::future::join_all(nodes.iter().map(|node| {
            self.docker.kill_container(
                node,
                None::<bollard::query_parameters::KillContainerOptions>,
            )
        }))
        .await;
        for node in &nodes {
            self.remove_container(node).await?;
        }
        let mut removed = Removed {
            containers: nodes.len(),
            ..Removed::default()
        };
        let Labelled {
            networks, volumes, ..
        } = self.labelled(&Self::cluster_filter(cluster)).await?;
        for volume in volumes {
            match self
                .docker
                .remove_volume(&volume.name, None::<RemoveVolumeOptions>)
                .await
            {
                Ok(()) => removed.volumes += 1,
                Err(err) if not_found(&err) => {}
                Err(err) => return Err(refused(format!("remove the volume {}", volume.name))(err)),
            }
        }
        for network in networks {
            let name = network.name.unwrap_or_default();
            if self.remove_network(&name).await? {
                removed.networks += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_subnet_overlaps_no_network() {
        assert_eq!(free_subnet(&[]).unwrap().to_string(), "10.89.0.0/24");
        let taken = [
            "172.17.0.0/16".to_owned(),
            "10.89.0.0/24".to_owned(),
            "10.89.1.128/25".to_owned(),
        ];
        assert_eq!(free_subnet(&taken).unwrap().to_string(), "10.89.2.0/24");
        assert_eq!(free_subnet(&["10.0.0.0/8".to_owned()]), None);
        assert_eq!(
            free_subnet(&["fd00::/64".to_owned()]).unwrap().to_string(),
            "10.89.0.0/24"
        );
    }
}
