//! Kubernetes' bootstrap RBAC policy: the ClusterRoles, ClusterRoleBindings, Roles and
//! RoleBindings a kube-apiserver writes on its first start, as Kubernetes v1.33 makes them with
//! its default feature gates.
//!
//! The names and rules are upstream's, not ours to choose. `kubectl auth can-i --list` and
//! `kubectl get clusterrole admin -o yaml` are read against them; Helm charts bind their service
//! accounts to `view`, `edit` or `system:auth-delegator`; extension API servers read their
//! client CA through `extension-apiserver-authentication-reader` in kube-system; every controller
//! of kube-controller-manager runs as the kube-system service account that its
//! `system:controller:*` role is bound to. A role that is missing, renamed or narrower than
//! upstream's breaks such clients with a Forbidden error naming a role they expect to exist.
//!
//! Every object carries upstream's `kubernetes.io/bootstrapping: rbac-defaults` label, by which
//! tools tell the defaults from a cluster's own objects, and the
//! `rbac.authorization.kubernetes.io/autoupdate: "true"` annotation, which tells the server it may
//! put the object back to its default (an administrator opts out by setting it to `"false"`).
//!
//! Rules keep upstream's order; within a rule the verbs, groups, resources, names and URLs are
//! sorted, as upstream stores them, so `kubectl get -o yaml` prints the same text here as against
//! a kube-apiserver. Objects come sorted by namespace and name. Roles and rules behind feature
//! gates that v1.33 leaves off (dynamic resource allocation, ClusterTrustBundles,
//! VolumeAttributesClasses, the storage version APIs, service account tokens for image
//! credential providers) are left out; those behind gates it turns on (fine-grained kubelet
//! authorization, multiple service CIDRs, the SELinux change policy, StatefulSet PVC
//! auto-deletion) are in.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef,
    Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

/// The RBAC API group, which role references and User and Group subjects name.
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The label, and its value, that mark an object as one of the bootstrap defaults.
const BOOTSTRAPPING_LABEL: &str = "kubernetes.io/bootstrapping";
const BOOTSTRAPPING_VALUE: &str = "rbac-defaults";

/// The annotation that lets the server reconcile an object back to its default.
const AUTOUPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";

/// The labels by which `admin`, `edit` and `view` gather the rules of other ClusterRoles: a
/// cluster's own roles (and CRD authors') join the defaults by carrying them.
const AGGREGATE_TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const AGGREGATE_TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const AGGREGATE_TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

/// The prefix of the roles of kube-controller-manager's controllers. What follows it names the
/// kube-system service account the controller runs as when it uses its own credentials.
const CONTROLLER_PREFIX: &str = "system:controller:";

const KUBE_SYSTEM: &str = "kube-system";
const KUBE_PUBLIC: &str = "kube-public";

// Users and groups the authenticators give the control plane's components and other callers.
const MASTERS: &str = "system:masters";
const MONITORING: &str = "system:monitoring";
const AUTHENTICATED: &str = "system:authenticated";
const UNAUTHENTICATED: &str = "system:unauthenticated";
const SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
const KUBE_PROXY: &str = "system:kube-proxy";
const KUBE_CONTROLLER_MANAGER: &str = "system:kube-controller-manager";
const KUBE_SCHEDULER: &str = "system:kube-scheduler";

// API groups.
const CORE: &str = "";
const ADMISSION: &str = "admissionregistration.k8s.io";
const APPS: &str = "apps";
const AUTHENTICATION: &str = "authentication.k8s.io";
const AUTHORIZATION: &str = "authorization.k8s.io";
const AUTOSCALING: &str = "autoscaling";
const BATCH: &str = "batch";
const CERTIFICATES: &str = "certificates.k8s.io";
const COORDINATION: &str = "coordination.k8s.io";
const CUSTOM_METRICS: &str = "custom.metrics.k8s.io";
const DISCOVERY: &str = "discovery.k8s.io";
const EVENTS: &str = "events.k8s.io";
const EXTENSIONS: &str = "extensions";
const EXTERNAL_METRICS: &str = "external.metrics.k8s.io";
const METRICS: &str = "metrics.k8s.io";
const NETWORKING: &str = "networking.k8s.io";
const NODE: &str = "node.k8s.io";
const POLICY: &str = "policy";
const STORAGE: &str = "storage.k8s.io";

// The built-in certificate signers, which appear as resource names of `signers`.
const LEGACY_UNKNOWN_SIGNER: &str = "kubernetes.io/legacy-unknown";
const KUBE_APISERVER_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client";
const KUBE_APISERVER_CLIENT_KUBELET_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
const KUBELET_SERVING_SIGNER: &str = "kubernetes.io/kubelet-serving";

// The verb sets upstream's roles are written with.
const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];
const READ_UPDATE: &[&str] = &["get", "list", "watch", "update", "patch"];

/// One rule of a role, built from its verbs. Its lists are kept sorted, as upstream stores
/// them, so two servers holding the same policy print the same objects.
#[derive(Clone, Debug)]
struct Rule(PolicyRule);

fn rule(verbs: &[&str]) -> Rule {
    Rule(PolicyRule {
        verbs: sorted(verbs),
        ..PolicyRule::default()
    })
}

impl Rule {
    fn groups(mut self, groups: &[&str]) -> Self {
        self.0.api_groups = Some(sorted(groups));
        self
    }

    fn resources(mut self, resources: &[&str]) -> Self {
        self.0.resources = Some(sorted(resources));
        self
    }

    fn names(mut self, names: &[&str]) -> Self {
        self.0.resource_names = Some(sorted(names));
        self
    }

    fn urls(mut self, urls: &[&str]) -> Self {
        self.0.non_resource_urls = Some(sorted(urls));
        self
    }
}

fn sorted(items: &[&str]) -> Vec<String> {
    let mut items: Vec<String> = items.iter().map(|item| (*item).to_owned()).collect();
    items.sort();
    items
}

fn into_rules(rules: Vec<Rule>) -> Vec<PolicyRule> {
    rules.into_iter().map(|rule| rule.0).collect()
}

/// Recording events, through either events API: nearly every component needs it, and
/// upstream grants it with this one rule.
fn events() -> Rule {
    rule(&["create", "update", "patch"])
        .groups(&[CORE, EVENTS])
        .resources(&["events"])
}

/// The metadata every bootstrap object carries: its name, its namespace if it has one, the
/// bootstrapping label and the autoupdate annotation.
fn metadata(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        labels: Some(BTreeMap::from([(
            BOOTSTRAPPING_LABEL.to_owned(),
            BOOTSTRAPPING_VALUE.to_owned(),
        )])),
        annotations: Some(BTreeMap::from([(
            AUTOUPDATE_ANNOTATION.to_owned(),
            "true".to_owned(),
        )])),
        ..ObjectMeta::default()
    }
}

fn cluster_role(name: &str, rules: Vec<Rule>) -> ClusterRole {
    ClusterRole {
        metadata: metadata(name, None),
        rules: Some(into_rules(rules)),
        aggregation_rule: None,
    }
}

/// A ClusterRole with no rules of its own: its rules are the union of those of every
/// ClusterRole labelled `label: "true"`, kept up to date by the server's aggregation controller.
fn aggregated_role(name: &str, label: &str) -> ClusterRole {
    ClusterRole {
        metadata: metadata(name, None),
        rules: None,
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: Some(BTreeMap::from([(label.to_owned(), "true".to_owned())])),
                match_expressions: None,
            }]),
        }),
    }
}

/// Labels `role` so that the aggregated role selecting `label` takes in its rules.
fn aggregate_into(mut role: ClusterRole, label: &str) -> ClusterRole {
    role.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(label.to_owned(), "true".to_owned());
    role
}

fn namespaced_role(namespace: &str, name: &str, rules: Vec<Rule>) -> Role {
    Role {
        metadata: metadata(name, Some(namespace)),
        rules: Some(into_rules(rules)),
    }
}

fn user(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_GROUP.to_owned()),
        kind: "User".to_owned(),
        name: name.to_owned(),
        namespace: None,
    }
}

fn group(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_GROUP.to_owned()),
        kind: "Group".to_owned(),
        name: name.to_owned(),
        namespace: None,
    }
}

fn service_account(namespace: &str, name: &str) -> Subject {
    Subject {
        api_group: None,
        kind: "ServiceAccount".to_owned(),
        name: name.to_owned(),
        namespace: Some(namespace.to_owned()),
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: RBAC_GROUP.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
    }
}

/// A ClusterRoleBinding named after the ClusterRole it grants. With no subjects it grants the
/// role to no one, and its subjects are left unset, as upstream leaves them.
fn cluster_binding(role: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: metadata(role, None),
        role_ref: role_ref("ClusterRole", role),
        subjects: (!subjects.is_empty()).then_some(subjects),
    }
}

fn role_binding(namespace: &str, name: &str, role: &str, subjects: Vec<Subject>) -> RoleBinding {
    RoleBinding {
        metadata: metadata(name, Some(namespace)),
        role_ref: role_ref("Role", role),
        subjects: Some(subjects),
    }
}

/// Every bootstrap ClusterRole: upstream's general roles and one `system:controller:*` role per
/// controller, sorted by name.
pub fn cluster_roles() -> Vec<ClusterRole> {
    let mut roles = general_roles();
    roles.extend(
        controller_policies()
            .into_iter()
            .map(|(controller, rules)| cluster_role(&controller_role(controller), rules)),
    );
    roles.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    roles
}

/// Every bootstrap ClusterRoleBinding: the general bindings and, for each controller, its role
/// bound to the kube-system service account of the same name, sorted by name.
pub fn cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    let mut bindings = general_bindings();
    bindings.extend(controller_policies().into_iter().map(|(controller, _)| {
        cluster_binding(
            &controller_role(controller),
            vec![service_account(KUBE_SYSTEM, controller)],
        )
    }));
    bindings.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    bindings
}

/// The bootstrap Roles of kube-system and kube-public, sorted by namespace and name.
pub fn roles() -> Vec<Role> {
    let mut roles = vec![
        // Lets extension API servers read the client CA and request-header settings they
        // authenticate callers with; they are told to bind their service accounts to it.
        namespaced_role(
            KUBE_SYSTEM,
            "extension-apiserver-authentication-reader",
            vec![
                rule(READ)
                    .groups(&[CORE])
                    .resources(&["configmaps"])
                    .names(&["extension-apiserver-authentication"]),
            ],
        ),
        namespaced_role(
            KUBE_SYSTEM,
            &controller_role("bootstrap-signer"),
            vec![rule(READ).groups(&[CORE]).resources(&["secrets"])],
        ),
        // Kept for cloud providers that still store their state in kube-system ConfigMaps.
        namespaced_role(
            KUBE_SYSTEM,
            &controller_role("cloud-provider"),
            vec![
                rule(&["create", "get", "list", "watch"])
                    .groups(&[CORE])
                    .resources(&["configmaps"]),
            ],
        ),
        // Bootstrap tokens live as kube-system Secrets; the cleaner deletes expired ones there
        // and nowhere else.
        namespaced_role(
            KUBE_SYSTEM,
            &controller_role("token-cleaner"),
            vec![
                rule(&["get", "list", "watch", "delete"])
                    .groups(&[CORE])
                    .resources(&["secrets"]),
                events(),
            ],
        ),
        // Leader election of kube-controller-manager and kube-scheduler, on their own lock
        // objects only.
        namespaced_role(
            KUBE_SYSTEM,
            "system::leader-locking-kube-controller-manager",
            vec![
                rule(&["watch"]).groups(&[CORE]).resources(&["configmaps"]),
                rule(&["get", "update"])
                    .groups(&[CORE])
                    .resources(&["configmaps"])
                    .names(&["kube-controller-manager"]),
                rule(&["get", "watch", "list", "create", "update"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"]),
            ],
        ),
        namespaced_role(
            KUBE_SYSTEM,
            "system::leader-locking-kube-scheduler",
            vec![
                rule(&["watch"]).groups(&[CORE]).resources(&["configmaps"]),
                rule(&["get", "update"])
                    .groups(&[CORE])
                    .resources(&["configmaps"])
                    .names(&["kube-scheduler"]),
            ],
        ),
        // The bootstrap signer signs the `cluster-info` ConfigMap that joining nodes read
        // before they hold any credentials.
        namespaced_role(
            KUBE_PUBLIC,
            &controller_role("bootstrap-signer"),
            vec![
                rule(READ).groups(&[CORE]).resources(&["configmaps"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["configmaps"])
                    .names(&["cluster-info"]),
                events(),
            ],
        ),
    ];
    roles.sort_by(|a, b| namespaced_key(&a.metadata).cmp(&namespaced_key(&b.metadata)));
    roles
}

/// The bootstrap RoleBindings of kube-system and kube-public, sorted by namespace and name.
pub fn role_bindings() -> Vec<RoleBinding> {
    let mut bindings = vec![
        // Named apart from its role, as upstream names it.
        role_binding(
            KUBE_SYSTEM,
            "system::extension-apiserver-authentication-reader",
            "extension-apiserver-authentication-reader",
            vec![user(KUBE_CONTROLLER_MANAGER), user(KUBE_SCHEDULER)],
        ),
        role_binding(
            KUBE_SYSTEM,
            "system::leader-locking-kube-controller-manager",
            "system::leader-locking-kube-controller-manager",
            vec![
                user(KUBE_CONTROLLER_MANAGER),
                service_account(KUBE_SYSTEM, "kube-controller-manager"),
            ],
        ),
        role_binding(
            KUBE_SYSTEM,
            "system::leader-locking-kube-scheduler",
            "system::leader-locking-kube-scheduler",
            vec![
                user(KUBE_SCHEDULER),
                service_account(KUBE_SYSTEM, "kube-scheduler"),
            ],
        ),
        controller_role_binding(KUBE_SYSTEM, "bootstrap-signer"),
        controller_role_binding(KUBE_SYSTEM, "cloud-provider"),
        controller_role_binding(KUBE_SYSTEM, "token-cleaner"),
        controller_role_binding(KUBE_PUBLIC, "bootstrap-signer"),
    ];
    bindings.sort_by(|a, b| namespaced_key(&a.metadata).cmp(&namespaced_key(&b.metadata)));
    bindings
}

fn namespaced_key(metadata: &ObjectMeta) -> (Option<&str>, Option<&str>) {
    (metadata.namespace.as_deref(), metadata.name.as_deref())
}

fn controller_role(controller: &str) -> String {
    format!("{CONTROLLER_PREFIX}{controller}")
}

/// Binds a controller's Role in `namespace` to the controller's service account, which lives
/// in kube-system whichever namespace the Role is in.
fn controller_role_binding(namespace: &str, controller: &str) -> RoleBinding {
    let role = controller_role(controller);
    role_binding(
        namespace,
        &role,
        &role,
        vec![service_account(KUBE_SYSTEM, controller)],
    )
}

/// The ClusterRoles that are not a controller's, in upstream's order.
fn general_roles() -> Vec<ClusterRole> {
    vec![
        // The superuser role.
        cluster_role(
            "cluster-admin",
            vec![
                rule(&["*"]).groups(&["*"]).resources(&["*"]),
                rule(&["*"]).urls(&["*"]),
            ],
        ),
        // Enough to see that the server is up and to negotiate API versions, which every
        // client does before anything else.
        cluster_role(
            "system:discovery",
            vec![rule(&["get"]).urls(&[
                "/livez",
                "/readyz",
                "/healthz",
                "/version",
                "/version/",
                "/openapi",
                "/openapi/*",
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
            ])],
        ),
        // Scraping metrics and reading the individual health checks, which may say more about
        // the cluster than the bare health endpoints do.
        cluster_role(
            "system:monitoring",
            vec![rule(&["get"]).urls(&[
                "/metrics",
                "/metrics/slis",
                "/livez",
                "/readyz",
                "/healthz",
                "/livez/*",
                "/readyz/*",
                "/healthz/*",
            ])],
        ),
        // What any signed-in user may ask about themselves: `kubectl auth can-i` and
        // `kubectl auth whoami`.
        cluster_role(
            "system:basic-user",
            vec![
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                rule(&["create"])
                    .groups(&[AUTHENTICATION])
                    .resources(&["selfsubjectreviews"]),
            ],
        ),
        // What may be shown even to callers who are not signed in.
        cluster_role(
            "system:public-info-viewer",
            vec![rule(&["get"]).urls(&["/livez", "/readyz", "/healthz", "/version", "/version/"])],
        ),
        // The user-facing roles. Each is the union of the roles labelled for it; edit is
        // labelled into admin and view into edit, so each contains the one below it.
        aggregated_role("admin", AGGREGATE_TO_ADMIN),
        aggregate_into(
            aggregated_role("edit", AGGREGATE_TO_EDIT),
            AGGREGATE_TO_ADMIN,
        ),
        aggregate_into(
            aggregated_role("view", AGGREGATE_TO_VIEW),
            AGGREGATE_TO_EDIT,
        ),
        // What admin adds to edit: granting access within a namespace.
        aggregate_into(
            cluster_role(
                "system:aggregate-to-admin",
                vec![
                    rule(&["create"])
                        .groups(&[AUTHORIZATION])
                        .resources(&["localsubjectaccessreviews"]),
                    rule(READ_WRITE)
                        .groups(&[RBAC_GROUP])
                        .resources(&["roles", "rolebindings"]),
                ],
            ),
            AGGREGATE_TO_ADMIN,
        ),
        // What edit adds to view: changing a namespace's workloads, and reading what could
        // escalate (secrets, exec, attach, port-forward, proxies). Quotas, limits and status
        // belong to the system and stay read-only.
        aggregate_into(
            cluster_role(
                "system:aggregate-to-edit",
                vec![
                    rule(READ).groups(&[CORE]).resources(&[
                        "pods/attach",
                        "pods/proxy",
                        "pods/exec",
                        "pods/portforward",
                        "secrets",
                        "services/proxy",
                    ]),
                    rule(&["impersonate"])
                        .groups(&[CORE])
                        .resources(&["serviceaccounts"]),
                    rule(WRITE).groups(&[CORE]).resources(&[
                        "pods",
                        "pods/attach",
                        "pods/proxy",
                        "pods/exec",
                        "pods/portforward",
                    ]),
                    rule(&["create"])
                        .groups(&[CORE])
                        .resources(&["pods/eviction"]),
                    rule(WRITE).groups(&[CORE]).resources(&[
                        "replicationcontrollers",
                        "replicationcontrollers/scale",
                        "serviceaccounts",
                        "services",
                        "services/proxy",
                        "persistentvolumeclaims",
                        "configmaps",
                        "secrets",
                        "events",
                    ]),
                    rule(&["create"])
                        .groups(&[CORE])
                        .resources(&["serviceaccounts/token"]),
                    rule(WRITE).groups(&[APPS]).resources(&[
                        "statefulsets",
                        "statefulsets/scale",
                        "daemonsets",
                        "deployments",
                        "deployments/scale",
                        "deployments/rollback",
                        "replicasets",
                        "replicasets/scale",
                    ]),
                    rule(WRITE)
                        .groups(&[AUTOSCALING])
                        .resources(&["horizontalpodautoscalers"]),
                    rule(WRITE)
                        .groups(&[BATCH])
                        .resources(&["jobs", "cronjobs"]),
                    rule(WRITE).groups(&[EXTENSIONS]).resources(&[
                        "daemonsets",
                        "deployments",
                        "deployments/scale",
                        "deployments/rollback",
                        "ingresses",
                        "replicasets",
                        "replicasets/scale",
                        "replicationcontrollers/scale",
                        "networkpolicies",
                    ]),
                    rule(WRITE)
                        .groups(&[POLICY])
                        .resources(&["poddisruptionbudgets"]),
                    rule(WRITE)
                        .groups(&[NETWORKING])
                        .resources(&["networkpolicies", "ingresses"]),
                    rule(READ_WRITE)
                        .groups(&[COORDINATION])
                        .resources(&["leases"]),
                ],
            ),
            AGGREGATE_TO_EDIT,
        ),
        // Read-only access to a namespace's objects, leaving out those that could escalate.
        // Reading namespaces lets a user see the namespace the binding is in.
        aggregate_into(
            cluster_role(
                "system:aggregate-to-view",
                vec![
                    rule(READ).groups(&[CORE]).resources(&[
                        "pods",
                        "replicationcontrollers",
                        "replicationcontrollers/scale",
                        "serviceaccounts",
                        "services",
                        "services/status",
                        "endpoints",
                        "persistentvolumeclaims",
                        "persistentvolumeclaims/status",
                        "configmaps",
                    ]),
                    rule(READ).groups(&[CORE]).resources(&[
                        "limitranges",
                        "resourcequotas",
                        "bindings",
                        "events",
                        "pods/status",
                        "resourcequotas/status",
                        "namespaces/status",
                        "replicationcontrollers/status",
                        "pods/log",
                    ]),
                    rule(READ).groups(&[CORE]).resources(&["namespaces"]),
                    rule(READ)
                        .groups(&[DISCOVERY])
                        .resources(&["endpointslices"]),
                    rule(READ).groups(&[APPS]).resources(&[
                        "controllerrevisions",
                        "statefulsets",
                        "statefulsets/status",
                        "statefulsets/scale",
                        "daemonsets",
                        "daemonsets/status",
                        "deployments",
                        "deployments/status",
                        "deployments/scale",
                        "replicasets",
                        "replicasets/status",
                        "replicasets/scale",
                    ]),
                    rule(READ).groups(&[AUTOSCALING]).resources(&[
                        "horizontalpodautoscalers",
                        "horizontalpodautoscalers/status",
                    ]),
                    rule(READ).groups(&[BATCH]).resources(&[
                        "jobs",
                        "cronjobs",
                        "cronjobs/status",
                        "jobs/status",
                    ]),
                    rule(READ).groups(&[EXTENSIONS]).resources(&[
                        "daemonsets",
                        "daemonsets/status",
                        "deployments",
                        "deployments/scale",
                        "deployments/status",
                        "ingresses",
                        "ingresses/status",
                        "replicasets",
                        "replicasets/scale",
                        "replicasets/status",
                        "replicationcontrollers/scale",
                        "networkpolicies",
                    ]),
                    rule(READ)
                        .groups(&[POLICY])
                        .resources(&["poddisruptionbudgets", "poddisruptionbudgets/status"]),
                    rule(READ).groups(&[NETWORKING]).resources(&[
                        "networkpolicies",
                        "ingresses",
                        "ingresses/status",
                    ]),
                ],
            ),
            AGGREGATE_TO_VIEW,
        ),
        cluster_role(
            "system:heapster",
            vec![
                rule(READ)
                    .groups(&[CORE])
                    .resources(&["events", "pods", "nodes", "namespaces"]),
                rule(READ).groups(&[EXTENSIONS]).resources(&["deployments"]),
            ],
        ),
        // What a kubelet may do, were a node granted it by role. Nodes are authorized by the
        // Node authorizer instead, which narrows these rules to the node's own objects, so the
        // role is created but its binding grants it to no one (see `general_bindings`).
        cluster_role("system:node", node_rules()),
        // Left unbound: node-problem-detector runs under whatever account its deployer picks.
        cluster_role(
            "system:node-problem-detector",
            vec![
                rule(&["get"]).groups(&[CORE]).resources(&["nodes"]),
                rule(&["patch"])
                    .groups(&[CORE])
                    .resources(&["nodes/status"]),
                events(),
            ],
        ),
        // For bootstrap tokens: enough to ask for a node's client certificate and wait for it.
        cluster_role(
            "system:node-bootstrapper",
            vec![
                rule(&["create", "get", "list", "watch"])
                    .groups(&[CERTIFICATES])
                    .resources(&["certificatesigningrequests"]),
            ],
        ),
        // For servers that delegate authentication and authorization to this one, such as
        // extension API servers and metrics-server.
        cluster_role(
            "system:auth-delegator",
            vec![
                rule(&["create"])
                    .groups(&[AUTHENTICATION])
                    .resources(&["tokenreviews"]),
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["subjectaccessreviews"]),
            ],
        ),
        // The aggregator checks that the services its APIServices point at exist.
        cluster_role(
            "system:kube-aggregator",
            vec![
                rule(READ)
                    .groups(&[CORE])
                    .resources(&["services", "endpoints"]),
            ],
        ),
        // What kube-controller-manager needs under its own identity: leader election, the
        // shared informers (list and watch of everything), and making the service accounts
        // and tokens its controllers then run as.
        cluster_role(
            "system:kube-controller-manager",
            vec![
                events(),
                rule(&["create"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"]),
                rule(&["get", "update"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"])
                    .names(&["kube-controller-manager"]),
                rule(&["create"])
                    .groups(&[CORE])
                    .resources(&["secrets", "serviceaccounts"]),
                rule(&["delete"]).groups(&[CORE]).resources(&["secrets"]),
                rule(&["get"]).groups(&[CORE]).resources(&[
                    "namespaces",
                    "secrets",
                    "serviceaccounts",
                    "configmaps",
                ]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["secrets", "serviceaccounts"]),
                rule(&["create"])
                    .groups(&[AUTHENTICATION])
                    .resources(&["tokenreviews"]),
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["subjectaccessreviews"]),
                rule(&["list", "watch"]).groups(&["*"]).resources(&["*"]),
                rule(&["create"])
                    .groups(&[CORE])
                    .resources(&["serviceaccounts/token"]),
            ],
        ),
        cluster_role(
            "system:kube-dns",
            vec![
                rule(&["list", "watch"])
                    .groups(&[CORE])
                    .resources(&["endpoints", "services"]),
            ],
        ),
        // For out-of-tree provisioners; bound by whoever deploys one.
        cluster_role(
            "system:persistent-volume-provisioner",
            vec![
                rule(&["get", "list", "watch", "create", "delete"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumes"]),
                rule(&["get", "list", "watch", "update"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims"]),
                rule(READ).groups(&[STORAGE]).resources(&["storageclasses"]),
                rule(&["watch"]).groups(&[CORE]).resources(&["events"]),
                events(),
            ],
        ),
        // Bound by cluster installers to let the CSR approver accept node client
        // certificates, asked for by a bootstrap token or by the node itself.
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![
                rule(&["create"])
                    .groups(&[CERTIFICATES])
                    .resources(&["certificatesigningrequests/nodeclient"]),
            ],
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![
                rule(&["create"])
                    .groups(&[CERTIFICATES])
                    .resources(&["certificatesigningrequests/selfnodeclient"]),
            ],
        ),
        // Binding volumes while scheduling.
        cluster_role(
            "system:volume-scheduler",
            vec![
                rule(READ_UPDATE)
                    .groups(&[CORE])
                    .resources(&["persistentvolumes"]),
                rule(READ).groups(&[STORAGE]).resources(&["storageclasses"]),
                rule(READ_UPDATE)
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims"]),
            ],
        ),
        // One approver role per built-in signer, so approving can be granted signer by signer.
        signer_approver("legacy-unknown-approver", LEGACY_UNKNOWN_SIGNER),
        signer_approver("kubelet-serving-approver", KUBELET_SERVING_SIGNER),
        signer_approver(
            "kube-apiserver-client-approver",
            KUBE_APISERVER_CLIENT_SIGNER,
        ),
        signer_approver(
            "kube-apiserver-client-kubelet-approver",
            KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
        ),
        // The OIDC discovery documents of the service account issuer; the slash-ended forms
        // serve clients generated from older OpenAPI documents.
        cluster_role(
            "system:service-account-issuer-discovery",
            vec![rule(&["get"]).urls(&[
                "/.well-known/openid-configuration",
                "/.well-known/openid-configuration/",
                "/openid/v1/jwks",
                "/openid/v1/jwks/",
            ])],
        ),
        // Full use of the kubelet API, for the API server's calls to kubelets (logs, exec,
        // port-forward) and for monitoring that scrapes them. The fine-grained subresources
        // come with kubelet authorization by subresource, on by default since v1.33.
        cluster_role(
            "system:kubelet-api-admin",
            vec![
                rule(READ).groups(&[CORE]).resources(&["nodes"]),
                rule(&["proxy"]).groups(&[CORE]).resources(&["nodes"]),
                rule(&["*"]).groups(&[CORE]).resources(&[
                    "nodes/proxy",
                    "nodes/metrics",
                    "nodes/stats",
                    "nodes/log",
                ]),
                rule(&["*"]).groups(&[CORE]).resources(&[
                    "nodes/pods",
                    "nodes/healthz",
                    "nodes/configz",
                ]),
            ],
        ),
        // kube-proxy: services and where their endpoints are, its node, and the service CIDRs
        // (multiple service CIDRs are on by default since v1.33).
        cluster_role(
            "system:node-proxier",
            vec![
                rule(&["list", "watch"])
                    .groups(&[CORE])
                    .resources(&["services", "endpoints"]),
                rule(READ).groups(&[CORE]).resources(&["nodes"]),
                events(),
                rule(&["list", "watch"])
                    .groups(&[NETWORKING])
                    .resources(&["servicecidrs"]),
                rule(&["list", "watch"])
                    .groups(&[DISCOVERY])
                    .resources(&["endpointslices"]),
            ],
        ),
        // kube-scheduler: leader election on its own lease, binding pods, and reading what
        // constrains where a pod may go.
        cluster_role(
            "system:kube-scheduler",
            vec![
                events(),
                rule(&["create"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"]),
                rule(&["get", "update", "list", "watch"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"])
                    .names(&["kube-scheduler"]),
                rule(READ_WRITE)
                    .groups(&[COORDINATION])
                    .resources(&["leasecandidates"]),
                rule(READ).groups(&[CORE]).resources(&["nodes"]),
                rule(&["get", "list", "watch", "delete"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                rule(&["create"])
                    .groups(&[CORE])
                    .resources(&["pods/binding", "bindings"]),
                rule(&["patch", "update"])
                    .groups(&[CORE])
                    .resources(&["pods/status"]),
                rule(READ)
                    .groups(&[CORE])
                    .resources(&["services", "replicationcontrollers"]),
                rule(READ)
                    .groups(&[APPS, EXTENSIONS])
                    .resources(&["replicasets"]),
                rule(READ).groups(&[APPS]).resources(&["statefulsets"]),
                rule(READ)
                    .groups(&[POLICY])
                    .resources(&["poddisruptionbudgets"]),
                rule(READ)
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims", "persistentvolumes"]),
                rule(&["create"])
                    .groups(&[AUTHENTICATION])
                    .resources(&["tokenreviews"]),
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["subjectaccessreviews"]),
                rule(READ).groups(&[STORAGE]).resources(&["csinodes"]),
                rule(&["get", "list", "watch"])
                    .groups(&[STORAGE])
                    .resources(&["volumeattachments"]),
                rule(READ).groups(&[CORE]).resources(&["namespaces"]),
                rule(READ).groups(&[STORAGE]).resources(&["csidrivers"]),
                rule(READ)
                    .groups(&[STORAGE])
                    .resources(&["csistoragecapacities"]),
            ],
        ),
    ]
}

/// The rules of `system:node`: what a kubelet needs to register its node, run its pods and
/// report on them.
fn node_rules() -> Vec<Rule> {
    vec![
        rule(&["create"])
            .groups(&[AUTHENTICATION])
            .resources(&["tokenreviews"]),
        rule(&["create"])
            .groups(&[AUTHORIZATION])
            .resources(&["subjectaccessreviews", "localsubjectaccessreviews"]),
        rule(READ).groups(&[CORE]).resources(&["services"]),
        rule(&["create", "get", "list", "watch"])
            .groups(&[CORE])
            .resources(&["nodes"]),
        rule(&["update", "patch"])
            .groups(&[CORE])
            .resources(&["nodes/status"]),
        rule(&["update", "patch"])
            .groups(&[CORE])
            .resources(&["nodes"]),
        rule(&["create", "update", "patch"])
            .groups(&[CORE])
            .resources(&["events"]),
        rule(READ).groups(&[CORE]).resources(&["pods"]),
        rule(&["create", "delete"])
            .groups(&[CORE])
            .resources(&["pods"]),
        rule(&["update", "patch"])
            .groups(&[CORE])
            .resources(&["pods/status"]),
        rule(&["create"])
            .groups(&[CORE])
            .resources(&["pods/eviction"]),
        rule(READ)
            .groups(&[CORE])
            .resources(&["secrets", "configmaps"]),
        rule(&["get"])
            .groups(&[CORE])
            .resources(&["persistentvolumeclaims", "persistentvolumes"]),
        rule(&["get"]).groups(&[CORE]).resources(&["endpoints"]),
        rule(&["create", "get", "list", "watch"])
            .groups(&[CERTIFICATES])
            .resources(&["certificatesigningrequests"]),
        rule(&["get", "create", "update", "patch", "delete"])
            .groups(&[COORDINATION])
            .resources(&["leases"]),
        rule(&["get"])
            .groups(&[STORAGE])
            .resources(&["volumeattachments"]),
        rule(&["create"])
            .groups(&[CORE])
            .resources(&["serviceaccounts/token"]),
        rule(&["get", "update", "patch"])
            .groups(&[CORE])
            .resources(&["persistentvolumeclaims/status"]),
        rule(&["get", "watch", "list"])
            .groups(&[STORAGE])
            .resources(&["csidrivers"]),
        rule(&["get", "create", "update", "patch", "delete"])
            .groups(&[STORAGE])
            .resources(&["csinodes"]),
        rule(READ).groups(&[NODE]).resources(&["runtimeclasses"]),
    ]
}

fn signer_approver(name: &str, signer: &str) -> ClusterRole {
    cluster_role(
        &format!("system:certificates.k8s.io:{name}"),
        vec![
            rule(&["approve"])
                .groups(&[CERTIFICATES])
                .resources(&["signers"])
                .names(&[signer]),
        ],
    )
}

/// The ClusterRoleBindings that are not a controller's, in upstream's order.
fn general_bindings() -> Vec<ClusterRoleBinding> {
    vec![
        cluster_binding("cluster-admin", vec![group(MASTERS)]),
        cluster_binding("system:monitoring", vec![group(MONITORING)]),
        cluster_binding("system:discovery", vec![group(AUTHENTICATED)]),
        cluster_binding("system:basic-user", vec![group(AUTHENTICATED)]),
        cluster_binding(
            "system:public-info-viewer",
            vec![group(AUTHENTICATED), group(UNAUTHENTICATED)],
        ),
        cluster_binding("system:node-proxier", vec![user(KUBE_PROXY)]),
        cluster_binding(
            "system:kube-controller-manager",
            vec![user(KUBE_CONTROLLER_MANAGER)],
        ),
        cluster_binding(
            "system:kube-dns",
            vec![service_account(KUBE_SYSTEM, "kube-dns")],
        ),
        cluster_binding("system:kube-scheduler", vec![user(KUBE_SCHEDULER)]),
        cluster_binding("system:volume-scheduler", vec![user(KUBE_SCHEDULER)]),
        // Binds system:node to no one. Upstream keeps the binding, emptied, so that clusters
        // that once granted the role to the system:nodes group lose that grant when their
        // defaults are reconciled; nodes are authorized by the Node authorizer.
        cluster_binding("system:node", Vec::new()),
        // Every service account may read the issuer's discovery documents: they hold nothing
        // a token of its own does not already tell it.
        cluster_binding(
            "system:service-account-issuer-discovery",
            vec![group(SERVICE_ACCOUNTS)],
        ),
    ]
}

/// Each controller of kube-controller-manager, by the name of the kube-system service account
/// it runs as, with the rules of its `system:controller:*` role, in upstream's order.
fn controller_policies() -> Vec<(&'static str, Vec<Rule>)> {
    vec![
        (
            "attachdetach-controller",
            vec![
                rule(&["list", "watch"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumes", "persistentvolumeclaims"]),
                rule(READ).groups(&[CORE]).resources(&["nodes"]),
                rule(&["patch", "update"])
                    .groups(&[CORE])
                    .resources(&["nodes/status"]),
                rule(&["list", "watch"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                events(),
                rule(&["get", "create", "delete", "list", "watch"])
                    .groups(&[STORAGE])
                    .resources(&["volumeattachments"]),
                rule(READ).groups(&[STORAGE]).resources(&["csidrivers"]),
                rule(READ).groups(&[STORAGE]).resources(&["csinodes"]),
            ],
        ),
        (
            // Writing an aggregated role's rules means holding them all, hence escalate.
            "clusterrole-aggregation-controller",
            vec![
                rule(&["escalate", "get", "list", "watch", "update", "patch"])
                    .groups(&[RBAC_GROUP])
                    .resources(&["clusterroles"]),
            ],
        ),
        (
            "cronjob-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[BATCH])
                    .resources(&["cronjobs"]),
                rule(&[
                    "get", "list", "watch", "create", "update", "delete", "patch",
                ])
                .groups(&[BATCH])
                .resources(&["jobs"]),
                rule(&["update"])
                    .groups(&[BATCH])
                    .resources(&["cronjobs/status"]),
                rule(&["update"])
                    .groups(&[BATCH])
                    .resources(&["cronjobs/finalizers"]),
                rule(&["list", "watch", "delete"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                events(),
            ],
        ),
        (
            "daemon-set-controller",
            vec![
                rule(READ)
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["daemonsets"]),
                rule(&["update"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["daemonsets/status"]),
                rule(&["update"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["daemonsets/finalizers"]),
                rule(&["list", "watch"])
                    .groups(&[CORE])
                    .resources(&["nodes"]),
                rule(&["list", "watch", "create", "delete", "patch"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                rule(&["create"])
                    .groups(&[CORE])
                    .resources(&["pods/binding"]),
                rule(&[
                    "get", "list", "watch", "create", "delete", "update", "patch",
                ])
                .groups(&[APPS])
                .resources(&["controllerrevisions"]),
                events(),
            ],
        ),
        (
            "deployment-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["deployments"]),
                rule(&["update"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["deployments/status"]),
                rule(&["update"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["deployments/finalizers"]),
                rule(&[
                    "get", "list", "watch", "create", "update", "patch", "delete",
                ])
                .groups(&[APPS, EXTENSIONS])
                .resources(&["replicasets"]),
                rule(&["get", "list", "watch", "update"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                events(),
            ],
        ),
        (
            "disruption-controller",
            vec![
                rule(READ)
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["deployments"]),
                rule(READ)
                    .groups(&[APPS, EXTENSIONS])
                    .resources(&["replicasets"]),
                rule(READ)
                    .groups(&[CORE])
                    .resources(&["replicationcontrollers"]),
                rule(READ)
                    .groups(&[POLICY])
                    .resources(&["poddisruptionbudgets"]),
                rule(READ).groups(&[APPS]).resources(&["statefulsets"]),
                rule(&["update"])
                    .groups(&[POLICY])
                    .resources(&["poddisruptionbudgets/status"]),
                rule(&["patch", "update"])
                    .groups(&[CORE])
                    .resources(&["pods/status"]),
                rule(&["get"]).groups(&["*"]).resources(&["*/scale"]),
                events(),
            ],
        ),
        (
            // Writing endpoints that point into the cluster's own networks takes
            // endpoints/restricted.
            "endpoint-controller",
            vec![
                rule(READ).groups(&[CORE]).resources(&["services", "pods"]),
                rule(&["get", "list", "watch", "create", "update", "delete"])
                    .groups(&[CORE])
                    .resources(&["endpoints"]),
                rule(&["create"])
                    .groups(&[CORE])
                    .resources(&["endpoints/restricted"]),
                events(),
            ],
        ),
        (
            // Setting blockOwnerDeletion on a slice owned by a Service takes the right to
            // set the Service's finalizers.
            "endpointslice-controller",
            vec![
                rule(READ)
                    .groups(&[CORE])
                    .resources(&["services", "pods", "nodes"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["services/finalizers"]),
                rule(&["get", "list", "watch", "create", "update", "delete"])
                    .groups(&[DISCOVERY])
                    .resources(&["endpointslices"]),
                events(),
            ],
        ),
        (
            // Mirrored slices are owned by the Endpoints they copy, so the controller also
            // sets Endpoints' finalizers.
            "endpointslicemirroring-controller",
            vec![
                rule(READ)
                    .groups(&[CORE])
                    .resources(&["services", "endpoints"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["services/finalizers"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["endpoints/finalizers"]),
                rule(&["get", "list", "watch", "create", "update", "delete"])
                    .groups(&[DISCOVERY])
                    .resources(&["endpointslices"]),
                events(),
            ],
        ),
        (
            "expand-controller",
            vec![
                rule(&["get", "list", "watch", "update", "patch"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumes"]),
                rule(&["update", "patch"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims/status"]),
                rule(READ)
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims"]),
                events(),
                // The in-tree Portworx plugin looks up its service.
                rule(&["get"]).groups(&[CORE]).resources(&["services"]),
            ],
        ),
        (
            "ephemeral-volume-controller",
            vec![
                rule(READ).groups(&[CORE]).resources(&["pods"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["pods/finalizers"]),
                rule(&["get", "list", "watch", "create"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims"]),
                events(),
            ],
        ),
        (
            // Any owner of any object may be looked up, and any dependent deleted or orphaned.
            "generic-garbage-collector",
            vec![
                rule(&["get", "list", "watch", "patch", "update", "delete"])
                    .groups(&["*"])
                    .resources(&["*"]),
                events(),
            ],
        ),
        (
            // Scales anything with a scale subresource, from resource, custom or external
            // metrics.
            "horizontal-pod-autoscaler",
            vec![
                rule(READ)
                    .groups(&[AUTOSCALING])
                    .resources(&["horizontalpodautoscalers"]),
                rule(&["update"])
                    .groups(&[AUTOSCALING])
                    .resources(&["horizontalpodautoscalers/status"]),
                rule(&["get", "update"])
                    .groups(&["*"])
                    .resources(&["*/scale"]),
                rule(&["list", "watch"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                rule(&["list", "watch"])
                    .groups(&[METRICS])
                    .resources(&["pods"]),
                rule(READ).groups(&[CUSTOM_METRICS]).resources(&["*"]),
                rule(READ).groups(&[EXTERNAL_METRICS]).resources(&["*"]),
                events(),
            ],
        ),
        (
            "job-controller",
            vec![
                rule(&["get", "list", "watch", "update", "patch"])
                    .groups(&[BATCH])
                    .resources(&["jobs"]),
                rule(&["update"])
                    .groups(&[BATCH])
                    .resources(&["jobs/status"]),
                rule(&["update"])
                    .groups(&[BATCH])
                    .resources(&["jobs/finalizers"]),
                rule(&["list", "watch", "create", "delete", "patch"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                events(),
            ],
        ),
        (
            // Emptying a deleted namespace means deleting whatever it holds.
            "namespace-controller",
            vec![
                rule(&["get", "list", "watch", "delete"])
                    .groups(&[CORE])
                    .resources(&["namespaces"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["namespaces/finalize", "namespaces/status"]),
                rule(&["get", "list", "watch", "delete", "deletecollection"])
                    .groups(&["*"])
                    .resources(&["*"]),
            ],
        ),
        (
            // Marks unreachable nodes and evicts their pods.
            "node-controller",
            vec![
                rule(&["get", "list", "watch", "update", "delete", "patch"])
                    .groups(&[CORE])
                    .resources(&["nodes"]),
                rule(&["patch", "update"])
                    .groups(&[CORE])
                    .resources(&["nodes/status"]),
                rule(&["patch", "update"])
                    .groups(&[CORE])
                    .resources(&["pods/status"]),
                rule(&["list", "watch", "get", "delete"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                events(),
            ],
        ),
        (
            "persistent-volume-binder",
            vec![
                rule(&["get", "list", "watch", "update", "create", "delete"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumes"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumes/status"]),
                rule(&["get", "list", "watch", "update"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims/status"]),
                rule(&["list", "watch", "get", "create", "delete"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                rule(READ).groups(&[STORAGE]).resources(&["storageclasses"]),
                rule(&["list", "watch"])
                    .groups(&[CORE])
                    .resources(&["nodes"]),
                events(),
                // The recycler watches the events of its recycling pods.
                rule(&["watch"]).groups(&[CORE]).resources(&["events"]),
                // The in-tree Portworx plugin looks up its service.
                rule(&["get"]).groups(&[CORE]).resources(&["services"]),
            ],
        ),
        (
            "pod-garbage-collector",
            vec![
                rule(&["list", "watch", "delete"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                rule(READ).groups(&[CORE]).resources(&["nodes"]),
                rule(&["patch"]).groups(&[CORE]).resources(&["pods/status"]),
            ],
        ),
        (
            "replicaset-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[APPS, EXTENSIONS])
                    .resources(&["replicasets"]),
                rule(&["update"])
                    .groups(&[APPS, EXTENSIONS])
                    .resources(&["replicasets/status"]),
                rule(&["update"])
                    .groups(&[APPS, EXTENSIONS])
                    .resources(&["replicasets/finalizers"]),
                rule(&["list", "watch", "patch", "create", "delete"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                events(),
            ],
        ),
        (
            // get and update on replicationcontrollers themselves are what controllers
            // older than the status subresource used.
            "replication-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[CORE])
                    .resources(&["replicationcontrollers"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["replicationcontrollers/status"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["replicationcontrollers/finalizers"]),
                rule(&["list", "watch", "patch", "create", "delete"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                events(),
            ],
        ),
        (
            // A quota may count objects of any kind.
            "resourcequota-controller",
            vec![
                rule(&["list", "watch"]).groups(&["*"]).resources(&["*"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["resourcequotas/status"]),
                events(),
            ],
        ),
        (
            "route-controller",
            vec![
                rule(&["list", "watch"])
                    .groups(&[CORE])
                    .resources(&["nodes"]),
                rule(&["patch"])
                    .groups(&[CORE])
                    .resources(&["nodes/status"]),
                events(),
            ],
        ),
        (
            "service-account-controller",
            vec![
                rule(&["create"])
                    .groups(&[CORE])
                    .resources(&["serviceaccounts"]),
                events(),
            ],
        ),
        (
            "service-controller",
            vec![
                rule(READ).groups(&[CORE]).resources(&["services"]),
                rule(&["patch", "update"])
                    .groups(&[CORE])
                    .resources(&["services/status"]),
                rule(&["list", "watch"])
                    .groups(&[CORE])
                    .resources(&["nodes"]),
                events(),
            ],
        ),
        (
            // Multiple service CIDRs are on by default since v1.33.
            "service-cidrs-controller",
            vec![
                rule(&["get", "list", "watch", "patch", "update"])
                    .groups(&[NETWORKING])
                    .resources(&["servicecidrs"]),
                rule(&["patch", "update"])
                    .groups(&[NETWORKING])
                    .resources(&["servicecidrs/finalizers"]),
                rule(&["patch", "update"])
                    .groups(&[NETWORKING])
                    .resources(&["servicecidrs/status"]),
                rule(READ).groups(&[NETWORKING]).resources(&["ipaddresses"]),
                events(),
            ],
        ),
        (
            // The last two rules come with PVC auto-deletion (GA, always on): claims are
            // released or deleted, with their pods as owners.
            "statefulset-controller",
            vec![
                rule(&["list", "watch"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                rule(READ).groups(&[APPS]).resources(&["statefulsets"]),
                rule(&["update"])
                    .groups(&[APPS])
                    .resources(&["statefulsets/status"]),
                rule(&["update"])
                    .groups(&[APPS])
                    .resources(&["statefulsets/finalizers"]),
                rule(&["get", "create", "delete", "update", "patch"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                rule(&[
                    "get", "create", "delete", "update", "patch", "list", "watch",
                ])
                .groups(&[APPS])
                .resources(&["controllerrevisions"]),
                rule(&["get", "create", "list", "watch"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims"]),
                events(),
                rule(&["update", "delete"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims"]),
                rule(&["update"])
                    .groups(&[CORE])
                    .resources(&["pods/finalizers"]),
            ],
        ),
        (
            "ttl-controller",
            vec![
                rule(&["update", "patch", "list", "watch"])
                    .groups(&[CORE])
                    .resources(&["nodes"]),
                events(),
            ],
        ),
        (
            // Approves kubelet client certificates itself, and signs for the built-in
            // signers; the subject access reviews check that a requester may ask.
            "certificate-controller",
            vec![
                rule(&["get", "list", "watch", "delete"])
                    .groups(&[CERTIFICATES])
                    .resources(&["certificatesigningrequests"]),
                rule(&["update"]).groups(&[CERTIFICATES]).resources(&[
                    "certificatesigningrequests/status",
                    "certificatesigningrequests/approval",
                ]),
                rule(&["approve"])
                    .groups(&[CERTIFICATES])
                    .resources(&["signers"])
                    .names(&[KUBE_APISERVER_CLIENT_KUBELET_SIGNER]),
                rule(&["sign"])
                    .groups(&[CERTIFICATES])
                    .resources(&["signers"])
                    .names(&[
                        LEGACY_UNKNOWN_SIGNER,
                        KUBE_APISERVER_CLIENT_SIGNER,
                        KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
                        KUBELET_SERVING_SIGNER,
                    ]),
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["subjectaccessreviews"]),
                events(),
            ],
        ),
        (
            "pvc-protection-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims"]),
                rule(&["list", "watch", "get"])
                    .groups(&[CORE])
                    .resources(&["pods"]),
                events(),
            ],
        ),
        (
            "pv-protection-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[CORE])
                    .resources(&["persistentvolumes"]),
                events(),
            ],
        ),
        (
            "ttl-after-finished-controller",
            vec![
                rule(&["get", "list", "watch", "delete"])
                    .groups(&[BATCH])
                    .resources(&["jobs"]),
                events(),
            ],
        ),
        (
            // Publishes kube-root-ca.crt into every namespace.
            "root-ca-cert-publisher",
            vec![
                rule(&["create", "update"])
                    .groups(&[CORE])
                    .resources(&["configmaps"]),
                events(),
            ],
        ),
        (
            "validatingadmissionpolicy-status-controller",
            vec![
                rule(READ)
                    .groups(&[ADMISSION])
                    .resources(&["validatingadmissionpolicies"]),
                rule(&["get", "patch", "update"])
                    .groups(&[ADMISSION])
                    .resources(&["validatingadmissionpolicies/status"]),
                events(),
            ],
        ),
        (
            // Reads when legacy token tracking began, then labels and deletes the unused
            // legacy token Secrets.
            "legacy-service-account-token-cleaner",
            vec![
                rule(&["get"])
                    .groups(&[CORE])
                    .resources(&["configmaps"])
                    .names(&["kube-apiserver-legacy-service-account-token-tracking"]),
                rule(&["patch", "delete"])
                    .groups(&[CORE])
                    .resources(&["secrets"]),
            ],
        ),
        (
            // The SELinux change policy is on by default since v1.33; the controller only
            // reads, and reports conflicts as events.
            "selinux-warning-controller",
            vec![
                events(),
                rule(READ).groups(&[CORE]).resources(&["persistentvolumes"]),
                rule(READ)
                    .groups(&[CORE])
                    .resources(&["persistentvolumeclaims"]),
                rule(READ).groups(&[CORE]).resources(&["pods"]),
                rule(READ).groups(&[STORAGE]).resources(&["csidrivers"]),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn name(metadata: &ObjectMeta) -> &str {
        metadata.name.as_deref().unwrap_or_default()
    }

    fn cluster_role_named(wanted: &str) -> ClusterRole {
        cluster_roles()
            .into_iter()
            .find(|role| name(&role.metadata) == wanted)
            .unwrap_or_else(|| panic!("no ClusterRole {wanted}"))
    }

    fn cluster_binding_named(wanted: &str) -> ClusterRoleBinding {
        cluster_role_bindings()
            .into_iter()
            .find(|binding| name(&binding.metadata) == wanted)
            .unwrap_or_else(|| panic!("no ClusterRoleBinding {wanted}"))
    }

    fn rules_of(wanted: &str) -> Vec<PolicyRule> {
        cluster_role_named(wanted).rules.unwrap_or_default()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    fn label(metadata: &ObjectMeta, key: &str) -> Option<String> {
        metadata.labels.as_ref()?.get(key).cloned()
    }

    fn all_metadata() -> Vec<ObjectMeta> {
        let mut all: Vec<ObjectMeta> = cluster_roles().into_iter().map(|o| o.metadata).collect();
        all.extend(cluster_role_bindings().into_iter().map(|o| o.metadata));
        all.extend(roles().into_iter().map(|o| o.metadata));
        all.extend(role_bindings().into_iter().map(|o| o.metadata));
        all
    }

    #[test]
    fn the_policy_has_upstreams_size() {
        assert_eq!(cluster_roles().len(), 66);
        assert_eq!(cluster_role_bindings().len(), 47);
        assert_eq!(roles().len(), 7);
        assert_eq!(role_bindings().len(), 7);
    }

    #[test]
    fn names_are_unique_within_their_kind_and_namespace() {
        let cluster_role_names: BTreeSet<String> = cluster_roles()
            .iter()
            .map(|o| name(&o.metadata).to_owned())
            .collect();
        assert_eq!(cluster_role_names.len(), cluster_roles().len());
        let binding_names: BTreeSet<String> = cluster_role_bindings()
            .iter()
            .map(|o| name(&o.metadata).to_owned())
            .collect();
        assert_eq!(binding_names.len(), cluster_role_bindings().len());
        let role_keys: BTreeSet<(Option<String>, Option<String>)> = roles()
            .into_iter()
            .map(|o| (o.metadata.namespace, o.metadata.name))
            .collect();
        assert_eq!(role_keys.len(), roles().len());
        let role_binding_keys: BTreeSet<(Option<String>, Option<String>)> = role_bindings()
            .into_iter()
            .map(|o| (o.metadata.namespace, o.metadata.name))
            .collect();
        assert_eq!(role_binding_keys.len(), role_bindings().len());
    }

    #[test]
    fn objects_come_sorted() {
        let names: Vec<String> = cluster_roles()
            .iter()
            .map(|o| name(&o.metadata).to_owned())
            .collect();
        let mut sorted_names = names.clone();
        sorted_names.sort();
        assert_eq!(names, sorted_names);
        let names: Vec<String> = cluster_role_bindings()
            .iter()
            .map(|o| name(&o.metadata).to_owned())
            .collect();
        let mut sorted_names = names.clone();
        sorted_names.sort();
        assert_eq!(names, sorted_names);
        let keys: Vec<_> = roles()
            .into_iter()
            .map(|o| (o.metadata.namespace, o.metadata.name))
            .collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort();
        assert_eq!(keys, sorted_keys);
        let keys: Vec<_> = role_bindings()
            .into_iter()
            .map(|o| (o.metadata.namespace, o.metadata.name))
            .collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort();
        assert_eq!(keys, sorted_keys);
    }

    #[test]
    fn cluster_bindings_refer_to_existing_cluster_roles() {
        let roles: BTreeSet<String> = cluster_roles()
            .iter()
            .map(|o| name(&o.metadata).to_owned())
            .collect();
        for binding in cluster_role_bindings() {
            assert_eq!(binding.role_ref.api_group, RBAC_GROUP);
            assert_eq!(
                binding.role_ref.kind,
                "ClusterRole",
                "{}",
                name(&binding.metadata)
            );
            assert!(
                roles.contains(&binding.role_ref.name),
                "{} refers to a missing ClusterRole {}",
                name(&binding.metadata),
                binding.role_ref.name
            );
        }
    }

    #[test]
    fn role_bindings_refer_to_roles_in_their_own_namespace() {
        let roles: BTreeSet<(Option<String>, String)> = roles()
            .into_iter()
            .map(|o| (o.metadata.namespace.clone(), name(&o.metadata).to_owned()))
            .collect();
        for binding in role_bindings() {
            assert_eq!(binding.role_ref.api_group, RBAC_GROUP);
            assert_eq!(binding.role_ref.kind, "Role", "{}", name(&binding.metadata));
            let key = (
                binding.metadata.namespace.clone(),
                binding.role_ref.name.clone(),
            );
            assert!(roles.contains(&key), "{key:?} is not a bootstrap Role");
        }
    }

    #[test]
    fn every_object_is_marked_as_a_reconcilable_default() {
        for metadata in all_metadata() {
            assert_eq!(
                label(&metadata, BOOTSTRAPPING_LABEL).as_deref(),
                Some("rbac-defaults"),
                "{}",
                name(&metadata)
            );
            let annotations = metadata.annotations.clone().unwrap_or_default();
            assert_eq!(
                annotations.get(AUTOUPDATE_ANNOTATION).map(String::as_str),
                Some("true"),
                "{}",
                name(&metadata)
            );
        }
    }

    #[test]
    fn namespaced_objects_live_in_kube_system_or_kube_public_and_others_nowhere() {
        for role in roles() {
            let namespace = role.metadata.namespace.as_deref();
            assert!(
                matches!(namespace, Some(KUBE_SYSTEM | KUBE_PUBLIC)),
                "{namespace:?}"
            );
        }
        for binding in role_bindings() {
            let namespace = binding.metadata.namespace.as_deref();
            assert!(
                matches!(namespace, Some(KUBE_SYSTEM | KUBE_PUBLIC)),
                "{namespace:?}"
            );
        }
        assert!(
            cluster_roles()
                .iter()
                .all(|o| o.metadata.namespace.is_none())
        );
        assert!(
            cluster_role_bindings()
                .iter()
                .all(|o| o.metadata.namespace.is_none())
        );
    }

    #[test]
    fn cluster_admin_can_do_anything_and_is_held_by_system_masters() {
        let rules = rules_of("cluster-admin");
        assert!(rules.contains(&PolicyRule {
            api_groups: Some(strings(&["*"])),
            resources: Some(strings(&["*"])),
            verbs: strings(&["*"]),
            ..PolicyRule::default()
        }));
        assert!(rules.contains(&PolicyRule {
            non_resource_urls: Some(strings(&["*"])),
            verbs: strings(&["*"]),
            ..PolicyRule::default()
        }));
        assert_eq!(
            cluster_binding_named("cluster-admin").subjects,
            Some(vec![Subject {
                api_group: Some(RBAC_GROUP.to_owned()),
                kind: "Group".to_owned(),
                name: "system:masters".to_owned(),
                namespace: None,
            }])
        );
    }

    #[test]
    fn admin_edit_and_view_gather_the_roles_labelled_for_them() {
        for (role, label_key, labelled) in [
            ("admin", AGGREGATE_TO_ADMIN, "system:aggregate-to-admin"),
            ("edit", AGGREGATE_TO_EDIT, "system:aggregate-to-edit"),
            ("view", AGGREGATE_TO_VIEW, "system:aggregate-to-view"),
        ] {
            let aggregated = cluster_role_named(role);
            assert_eq!(aggregated.rules, None, "{role} has rules of its own");
            let selectors = aggregated
                .aggregation_rule
                .and_then(|rule| rule.cluster_role_selectors)
                .unwrap_or_default();
            assert_eq!(
                selectors,
                vec![LabelSelector {
                    match_labels: Some(BTreeMap::from([(label_key.to_owned(), "true".to_owned())])),
                    match_expressions: None,
                }]
            );
            let source = cluster_role_named(labelled);
            assert_eq!(label(&source.metadata, label_key).as_deref(), Some("true"));
            assert!(!source.rules.unwrap_or_default().is_empty());
        }
        assert_eq!(
            label(&cluster_role_named("view").metadata, AGGREGATE_TO_VIEW),
            None
        );
        assert_eq!(
            label(&cluster_role_named("view").metadata, AGGREGATE_TO_EDIT).as_deref(),
            Some("true")
        );
        assert_eq!(
            label(&cluster_role_named("edit").metadata, AGGREGATE_TO_ADMIN).as_deref(),
            Some("true")
        );
        assert_eq!(
            label(&cluster_role_named("admin").metadata, AGGREGATE_TO_ADMIN),
            None
        );
    }

    #[test]
    fn every_controller_binding_grants_its_role_to_its_service_account() {
        let bindings: Vec<ClusterRoleBinding> = cluster_role_bindings()
            .into_iter()
            .filter(|binding| name(&binding.metadata).starts_with(CONTROLLER_PREFIX))
            .collect();
        let roles: Vec<ClusterRole> = cluster_roles()
            .into_iter()
            .filter(|role| name(&role.metadata).starts_with(CONTROLLER_PREFIX))
            .collect();
        assert_eq!(bindings.len(), roles.len());
        assert_eq!(bindings.len(), 35);
        for binding in bindings {
            let binding_name = name(&binding.metadata);
            let controller = &binding_name[CONTROLLER_PREFIX.len()..];
            assert_eq!(binding.role_ref.name, binding_name);
            assert!(
                roles
                    .iter()
                    .any(|role| name(&role.metadata) == binding_name)
            );
            assert_eq!(
                binding.subjects,
                Some(vec![Subject {
                    api_group: None,
                    kind: "ServiceAccount".to_owned(),
                    name: controller.to_owned(),
                    namespace: Some("kube-system".to_owned()),
                }])
            );
        }
    }

    #[test]
    fn system_node_is_created_but_granted_to_no_one() {
        let rules = rules_of("system:node");
        assert!(rules.iter().any(|rule| {
            rule.resources.as_deref() == Some(&strings(&["nodes/status"])[..])
                && rule.verbs == strings(&["patch", "update"])
        }));
        let binding = cluster_binding_named("system:node");
        assert_eq!(binding.role_ref.name, "system:node");
        assert_eq!(binding.subjects, None);
        assert!(
            cluster_role_bindings()
                .iter()
                .filter(|binding| binding.role_ref.name == "system:node")
                .all(|binding| binding.subjects.is_none())
        );
    }

    #[test]
    fn well_known_bindings_name_upstreams_subjects() {
        let subjects = |role: &str| cluster_binding_named(role).subjects.unwrap_or_default();
        assert_eq!(subjects("system:discovery"), vec![group(AUTHENTICATED)]);
        assert_eq!(subjects("system:basic-user"), vec![group(AUTHENTICATED)]);
        assert_eq!(
            subjects("system:public-info-viewer"),
            vec![
                group("system:authenticated"),
                group("system:unauthenticated")
            ]
        );
        assert_eq!(
            subjects("system:monitoring"),
            vec![group("system:monitoring")]
        );
        assert_eq!(
            subjects("system:node-proxier"),
            vec![user("system:kube-proxy")]
        );
        assert_eq!(
            subjects("system:kube-controller-manager"),
            vec![user("system:kube-controller-manager")]
        );
        assert_eq!(
            subjects("system:kube-scheduler"),
            vec![user("system:kube-scheduler")]
        );
        assert_eq!(
            subjects("system:volume-scheduler"),
            vec![user("system:kube-scheduler")]
        );
        assert_eq!(
            subjects("system:kube-dns"),
            vec![service_account("kube-system", "kube-dns")]
        );
        assert_eq!(
            subjects("system:service-account-issuer-discovery"),
            vec![group("system:serviceaccounts")]
        );
        let reader = role_bindings()
            .into_iter()
            .find(|binding| {
                name(&binding.metadata) == "system::extension-apiserver-authentication-reader"
            })
            .expect("the authentication reader binding");
        assert_eq!(reader.metadata.namespace.as_deref(), Some("kube-system"));
        assert_eq!(
            reader.role_ref.name,
            "extension-apiserver-authentication-reader"
        );
        assert_eq!(
            reader.subjects,
            Some(vec![
                user("system:kube-controller-manager"),
                user("system:kube-scheduler")
            ])
        );
        let public_signer = role_bindings()
            .into_iter()
            .find(|binding| {
                binding.metadata.namespace.as_deref() == Some("kube-public")
                    && name(&binding.metadata) == "system:controller:bootstrap-signer"
            })
            .expect("kube-public's bootstrap-signer binding");
        assert_eq!(
            public_signer.subjects,
            Some(vec![service_account("kube-system", "bootstrap-signer")])
        );
    }

    #[test]
    fn rules_are_well_formed_and_sorted_as_upstream_stores_them() {
        let mut all: Vec<(String, PolicyRule)> = Vec::new();
        for role in cluster_roles() {
            let role_name = name(&role.metadata).to_owned();
            all.extend(
                role.rules
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| (role_name.clone(), r)),
            );
        }
        for role in roles() {
            let role_name = name(&role.metadata).to_owned();
            all.extend(
                role.rules
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| (role_name.clone(), r)),
            );
        }
        for (role, rule) in all {
            assert!(!rule.verbs.is_empty(), "{role}: a rule without verbs");
            let for_resources = rule.resources.is_some();
            let for_urls = rule.non_resource_urls.is_some();
            assert!(for_resources != for_urls, "{role}: {rule:?}");
            assert_eq!(rule.api_groups.is_some(), for_resources, "{role}: {rule:?}");
            for list in [
                Some(&rule.verbs),
                rule.api_groups.as_ref(),
                rule.resources.as_ref(),
                rule.resource_names.as_ref(),
                rule.non_resource_urls.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                assert!(!list.is_empty(), "{role}: an empty list in {rule:?}");
                assert!(list.is_sorted(), "{role}: unsorted {list:?}");
            }
        }
    }

    #[test]
    fn roles_that_clients_rely_on_carry_upstreams_rules() {
        assert_eq!(
            rules_of("system:auth-delegator"),
            vec![
                rule(&["create"])
                    .groups(&[AUTHENTICATION])
                    .resources(&["tokenreviews"])
                    .0,
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["subjectaccessreviews"])
                    .0,
            ]
        );
        let view = rules_of("system:aggregate-to-view");
        assert_eq!(view[0].verbs, strings(&["get", "list", "watch"]));
        assert!(
            view[0]
                .resources
                .as_ref()
                .is_some_and(|r| r.contains(&"pods".to_owned()))
        );
        assert!(!view.iter().any(|rule| {
            rule.resources
                .as_ref()
                .is_some_and(|r| r.contains(&"secrets".to_owned()))
        }));
        let kubelet_admin = rules_of("system:kubelet-api-admin");
        assert!(kubelet_admin.iter().any(|rule| rule.resources.as_ref()
            == Some(&strings(&["nodes/configz", "nodes/healthz", "nodes/pods"]))));
        let proxier = rules_of("system:node-proxier");
        for resource in ["servicecidrs", "endpointslices"] {
            assert!(proxier.iter().any(|rule| {
                rule.resources
                    .as_ref()
                    .is_some_and(|r| r == &strings(&[resource]))
            }));
        }
        let discovery = rules_of("system:discovery");
        assert!(
            discovery[0]
                .non_resource_urls
                .as_ref()
                .is_some_and(|urls| urls.contains(&"/apis/*".to_owned()))
        );
    }
}
