//! The labels that let the runtime find everything it made in the engine alone, after an agent
//! restart as well: the pod a container belongs to, which of the pod's containers it is an
//! instance of, its attempt and role, and the node whose runtime made it, so several runtimes
//! (and tests) sharing one engine never see each other's pods. Also the names containers get,
//! readable in `docker ps` as the dockershim's were: `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`.

use std::collections::HashMap;

use crate::runtime::{ContainerRole, PodKey};

pub const NODE: &str = "io.mkc.node";
const POD_UID: &str = "io.mkc.pod.uid";
const POD_NAMESPACE: &str = "io.mkc.pod.namespace";
const POD_NAME: &str = "io.mkc.pod.name";
const CONTAINER: &str = "io.mkc.container.name";
const ATTEMPT: &str = "io.mkc.container.attempt";
const ROLE: &str = "io.mkc.container.role";

/// The container name of a pod's sandbox, as the dockershim named it.
const SANDBOX_NAME: &str = "POD";

/// What a container is to its pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The pause container holding the pod's namespaces.
    Sandbox,
    Init,
    Main,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Sandbox => "sandbox",
            Role::Init => "init",
            Role::Main => "main",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        [Role::Sandbox, Role::Init, Role::Main]
            .into_iter()
            .find(|role| role.as_str() == text)
    }
}

impl From<ContainerRole> for Role {
    fn from(role: ContainerRole) -> Role {
        match role {
            ContainerRole::Init => Role::Init,
            ContainerRole::Main => Role::Main,
        }
    }
}

/// One container instance as its labels describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub pod: PodKey,
    /// The container's name in the pod spec; `POD` for the sandbox.
    pub container: String,
    pub attempt: u32,
    pub role: Role,
}

impl Instance {
    /// The sandbox of `pod`.
    pub fn sandbox(pod: &PodKey) -> Instance {
        Instance {
            pod: pod.clone(),
            container: SANDBOX_NAME.to_owned(),
            attempt: 0,
            role: Role::Sandbox,
        }
    }

    /// The labels that say all of this, and which node's runtime made the container.
    pub fn labels(&self, node: &str) -> HashMap<String, String> {
        [
            (NODE, node.to_owned()),
            (POD_UID, self.pod.uid.clone()),
            (POD_NAMESPACE, self.pod.namespace.clone()),
            (POD_NAME, self.pod.name.clone()),
            (CONTAINER, self.container.clone()),
            (ATTEMPT, self.attempt.to_string()),
            (ROLE, self.role.as_str().to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }

    /// The instance the labels describe; `None` when a label is missing or malformed (a
    /// container someone else labelled).
    pub fn parse(labels: &HashMap<String, String>) -> Option<Instance> {
        let label = |key| labels.get(key).cloned();
        Some(Instance {
            pod: PodKey {
                uid: label(POD_UID)?,
                namespace: label(POD_NAMESPACE)?,
                name: label(POD_NAME)?,
            },
            container: label(CONTAINER)?,
            attempt: labels.get(ATTEMPT)?.parse().ok()?,
            role: Role::parse(labels.get(ROLE)?)?,
        })
    }

    /// The engine's name for the container.
    pub fn name(&self) -> String {
        let PodKey {
            uid,
            namespace,
            name,
        } = &self.pod;
        format!(
            "k8s_{}_{name}_{namespace}_{uid}_{}",
            self.container, self.attempt
        )
    }
}

/// The engine's list filter for the containers of `node`, of one pod if given, of one role if
/// given.
pub fn filters(
    node: &str,
    pod: Option<&PodKey>,
    role: Option<Role>,
) -> HashMap<String, Vec<String>> {
    let mut labels = vec![format!("{NODE}={node}")];
    labels.extend(pod.map(|pod| format!("{POD_UID}={}", pod.uid)));
    labels.extend(role.map(|role| format!("{ROLE}={}", role.as_str())));
    HashMap::from([("label".to_owned(), labels)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PodKey {
        PodKey {
            uid: "6f1c".into(),
            namespace: "default".into(),
            name: "web".into(),
        }
    }

    #[test]
    fn labels_describe_an_instance_and_parse_back() {
        let instance = Instance {
            pod: key(),
            container: "nginx".into(),
            attempt: 3,
            role: Role::Init,
        };
        let labels = instance.labels("worker-1");
        assert_eq!(labels[NODE], "worker-1");
        assert_eq!(labels[ROLE], "init");
        assert_eq!(Instance::parse(&labels), Some(instance.clone()));
        assert_eq!(instance.name(), "k8s_nginx_web_default_6f1c_3");
        assert_eq!(
            Instance::sandbox(&key()).name(),
            "k8s_POD_web_default_6f1c_0"
        );
    }

    #[test]
    fn containers_labelled_by_others_are_not_ours() {
        let mut labels = Instance::sandbox(&key()).labels("n");
        labels.insert(ATTEMPT.into(), "one".into());
        assert_eq!(Instance::parse(&labels), None);
        labels.remove(ATTEMPT);
        assert_eq!(Instance::parse(&labels), None);
        let mut labels = Instance::sandbox(&key()).labels("n");
        labels.insert(ROLE.into(), "sidecar".into());
        assert_eq!(Instance::parse(&labels), None);
        assert_eq!(Instance::parse(&HashMap::new()), None);
    }

    #[test]
    fn filters_select_the_node_then_the_pod_and_role() {
        assert_eq!(
            filters("n", Some(&key()), Some(Role::Sandbox))["label"],
            [
                "io.mkc.node=n",
                "io.mkc.pod.uid=6f1c",
                "io.mkc.container.role=sandbox"
            ]
        );
        assert_eq!(filters("n", None, None)["label"], ["io.mkc.node=n"]);
    }
}
