//! Server-side table printing: the columns and row cells `kubectl get` shows for each resource.
//!
//! kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the cells it is
//! given verbatim, so the column names, their order, their priorities and the text of every cell
//! follow kube-apiserver's own printers; that is what makes `kubectl get` output look familiar.
//! Like kube-apiserver, rows always carry the `-o wide` (priority 1) cells; kubectl hides them
//! unless asked.
//!
//! Each printer reads the stored JSON through its `k8s-openapi` type; a field the API defaults
//! reads as its default when the stored object leaves it unset, as it would in kube-apiserver.
//! An object that does not have its resource's shape still gets a row: its name, its age and
//! `<unknown>` elsewhere.

mod admission;
mod apiregistration;
mod apps;
mod autoscaling;
mod batch;
mod certificates;
pub(crate) mod common;
mod coordination;
mod core;
mod discovery;
pub(crate) mod duration;
mod event;
mod labels;
mod networking;
mod node;
mod pod;
mod policy;
mod rbac;
mod scheduling;
mod storage;
#[cfg(test)]
mod tests;
mod volume;

pub use labels::selector_text;

use jiff::Timestamp;
use serde_json::Value;

/// One column of a Table, as upstream defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header kubectl upper-cases, e.g. "Name", "Ready", "Nominated Node".
    pub name: &'static str,
    /// The JSON "type": "string" | "integer" | "number" | "boolean" | "date".
    pub kind: &'static str,
    /// "" or "name" (the column holding the object's name).
    pub format: &'static str,
    /// Upstream's description text.
    pub description: &'static str,
    /// 0 for columns always shown, 1 for those shown only with `-o wide`.
    pub priority: i32,
}

impl Column {
    /// A text column shown by default.
    const fn string(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            kind: "string",
            format: "",
            description,
            priority: 0,
        }
    }

    /// An integer column shown by default.
    const fn integer(name: &'static str, description: &'static str) -> Self {
        Self {
            kind: "integer",
            ..Self::string(name, description)
        }
    }

    /// A true/false column shown by default.
    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self {
            kind: "boolean",
            ..Self::string(name, description)
        }
    }

    /// The same column, shown only with `-o wide`.
    const fn wide(self) -> Self {
        Self {
            priority: 1,
            ..self
        }
    }
}

/// How one resource is printed.
struct Printer {
    columns: &'static [Column],
    /// Builds the cells of one object's row, or `None` when the object does not have the
    /// resource's shape.
    row: fn(&Value, Timestamp) -> Option<Vec<Value>>,
}

/// The columns for a resource, identified by API group ("" for core) and plural resource name.
/// Resources without a dedicated printer get upstream's default columns (Name, Created At).
pub fn columns(group: &str, resource: &str) -> &'static [Column] {
    printer(group, resource).columns
}

/// The cells of one object's row, aligned with `columns(group, resource)`.
/// `now` is the server's clock, used for ages ("5m", "2d3h", "<unknown>" ...).
pub fn cells(group: &str, resource: &str, object: &Value, now: Timestamp) -> Vec<Value> {
    let printer = printer(group, resource);
    (printer.row)(object, now).unwrap_or_else(|| placeholder_cells(printer.columns, object, now))
}

fn printer(group: &str, resource: &str) -> &'static Printer {
    match (group, resource) {
        ("", "pods") => &pod::PODS,
        ("", "nodes") => &self::core::NODES,
        ("", "namespaces") => &self::core::NAMESPACES,
        ("", "services") => &self::core::SERVICES,
        ("", "endpoints") => &self::core::ENDPOINTS,
        ("", "configmaps") => &self::core::CONFIG_MAPS,
        ("", "secrets") => &self::core::SECRETS,
        ("", "serviceaccounts") => &self::core::SERVICE_ACCOUNTS,
        ("", "replicationcontrollers") => &self::core::REPLICATION_CONTROLLERS,
        ("", "podtemplates") => &self::core::POD_TEMPLATES,
        ("", "resourcequotas") => &self::core::RESOURCE_QUOTAS,
        ("", "persistentvolumes") => &volume::PERSISTENT_VOLUMES,
        ("", "persistentvolumeclaims") => &volume::PERSISTENT_VOLUME_CLAIMS,
        ("", "events") => &event::EVENTS,
        ("events.k8s.io", "events") => &event::EVENTS_V1,
        ("apps", "deployments") => &apps::DEPLOYMENTS,
        ("apps", "replicasets") => &apps::REPLICA_SETS,
        ("apps", "statefulsets") => &apps::STATEFUL_SETS,
        ("apps", "daemonsets") => &apps::DAEMON_SETS,
        ("apps", "controllerrevisions") => &apps::CONTROLLER_REVISIONS,
        ("batch", "jobs") => &batch::JOBS,
        ("batch", "cronjobs") => &batch::CRON_JOBS,
        ("autoscaling", "horizontalpodautoscalers") => &autoscaling::HORIZONTAL_POD_AUTOSCALERS,
        ("policy", "poddisruptionbudgets") => &policy::POD_DISRUPTION_BUDGETS,
        ("networking.k8s.io", "ingresses") => &networking::INGRESSES,
        ("networking.k8s.io", "ingressclasses") => &networking::INGRESS_CLASSES,
        ("networking.k8s.io", "networkpolicies") => &networking::NETWORK_POLICIES,
        ("storage.k8s.io", "storageclasses") => &storage::STORAGE_CLASSES,
        ("storage.k8s.io", "csidrivers") => &storage::CSI_DRIVERS,
        ("storage.k8s.io", "csinodes") => &storage::CSI_NODES,
        ("storage.k8s.io", "volumeattachments") => &storage::VOLUME_ATTACHMENTS,
        ("scheduling.k8s.io", "priorityclasses") => &scheduling::PRIORITY_CLASSES,
        ("node.k8s.io", "runtimeclasses") => &node::RUNTIME_CLASSES,
        ("certificates.k8s.io", "certificatesigningrequests") => {
            &certificates::CERTIFICATE_SIGNING_REQUESTS
        }
        ("rbac.authorization.k8s.io", "rolebindings") => &rbac::ROLE_BINDINGS,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => &rbac::CLUSTER_ROLE_BINDINGS,
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations") => {
            &admission::VALIDATING_WEBHOOK_CONFIGURATIONS
        }
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations") => {
            &admission::MUTATING_WEBHOOK_CONFIGURATIONS
        }
        ("admissionregistration.k8s.io", "validatingadmissionpolicies") => {
            &admission::VALIDATING_ADMISSION_POLICIES
        }
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings") => {
            &admission::VALIDATING_ADMISSION_POLICY_BINDINGS
        }
        ("apiregistration.k8s.io", "apiservices") => &apiregistration::API_SERVICES,
        ("coordination.k8s.io", "leases") => &coordination::LEASES,
        ("discovery.k8s.io", "endpointslices") => &discovery::ENDPOINT_SLICES,
        // Upstream has no printer for roles, cluster roles, limit ranges or custom resource
        // definitions either: they get the default table there too.
        _ => &common::DEFAULT,
    }
}

/// The row of an object its printer could not read: the name and age where the columns ask for
/// them, `<unknown>` everywhere else.
fn placeholder_cells(columns: &[Column], object: &Value, now: Timestamp) -> Vec<Value> {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let created = object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|text| text.parse::<Timestamp>().ok());
    columns
        .iter()
        .map(|column| match (column.format, column.name) {
            ("name", "Name") => Value::from(name),
            (_, "Age") => Value::from(duration::since(created, now)),
            _ => Value::from("<unknown>"),
        })
        .collect()
}
