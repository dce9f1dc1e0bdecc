//! Tables of rbac.authorization.k8s.io bindings: the role each grants and, with `-o wide`, to
//! which users, groups and service accounts. Roles and cluster roles have no printer upstream
//! and get the default table.

use jiff::Timestamp;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer};

pub(super) static ROLE_BINDINGS: Printer = Printer {
    columns: &ROLE_BINDING_COLUMNS,
    row: role_binding_row,
};
pub(super) static CLUSTER_ROLE_BINDINGS: Printer = Printer {
    columns: &CLUSTER_ROLE_BINDING_COLUMNS,
    row: cluster_role_binding_row,
};

const ROLE_BINDING_COLUMNS: [Column; 6] = [
    NAME,
    Column::string(
        "Role",
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
    ),
    AGE,
    Column::string("Users", "Users in the roleBinding").wide(),
    Column::string("Groups", "Groups in the roleBinding").wide(),
    Column::string("ServiceAccounts", "ServiceAccounts in the roleBinding").wide(),
];

const CLUSTER_ROLE_BINDING_COLUMNS: [Column; 6] = [
    NAME,
    Column::string(
        "Role",
        "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
    ),
    AGE,
    Column::string("Users", "Users in the clusterRoleBinding").wide(),
    Column::string("Groups", "Groups in the clusterRoleBinding").wide(),
    Column::string(
        "ServiceAccounts",
        "ServiceAccounts in the clusterRoleBinding",
    )
    .wide(),
];

fn role_binding_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let binding: RoleBinding = common::parse(object)?;
    Some(binding_cells(
        &binding.metadata,
        &binding.role_ref,
        binding.subjects.as_deref().unwrap_or_default(),
        now,
    ))
}

fn cluster_role_binding_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let binding: ClusterRoleBinding = common::parse(object)?;
    Some(binding_cells(
        &binding.metadata,
        &binding.role_ref,
        binding.subjects.as_deref().unwrap_or_default(),
        now,
    ))
}

/// "Kind/name" of the role, then the subjects by kind, each list joined with ", ". Service
/// accounts show as "namespace/name"; subjects of any other kind are left out.
fn binding_cells(
    meta: &ObjectMeta,
    role: &RoleRef,
    subjects: &[Subject],
    now: Timestamp,
) -> Vec<Value> {
    let names = |kind: &str| {
        let names: Vec<String> = subjects
            .iter()
            .filter(|subject| subject.kind == kind)
            .map(|subject| match kind {
                "ServiceAccount" => format!(
                    "{}/{}",
                    subject.namespace.as_deref().unwrap_or_default(),
                    subject.name
                ),
                _ => subject.name.clone(),
            })
            .collect();
        names.join(", ")
    };
    vec![
        common::name(meta),
        format!("{}/{}", role.kind, role.name).into(),
        common::age(meta, now),
        names("User").into(),
        names("Group").into(),
        names("ServiceAccount").into(),
    ]
}
