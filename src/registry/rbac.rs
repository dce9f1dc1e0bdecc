//! RBAC's four kinds (rbac.authorization.k8s.io/v1): the roles that grant permissions and the
//! bindings that give them to users, groups and service accounts. The authorizer reads them;
//! here they are checked and stored.

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};

use super::strategy::kind;
use super::{Resource, Typed};
use crate::{defaults, validation};

kind!(Roles: Role, validate: validation::role);
kind!(ClusterRoles: ClusterRole, validate: validation::cluster_role);
kind!(
    RoleBindings: RoleBinding,
    validate: validation::role_binding,
    defaults: defaults::role_binding,
);
kind!(
    ClusterRoleBindings: ClusterRoleBinding,
    validate: validation::cluster_role_binding,
    defaults: defaults::cluster_role_binding,
);

const GROUP: &str = "rbac.authorization.k8s.io";

pub static ROLES: Resource = Resource {
    group: GROUP,
    version: "v1",
    kind: "Role",
    plural: "roles",
    singular: "role",
    short_names: &[],
    categories: &[],
    namespaced: true,
    subresources: &[],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<Roles>::NEW,
};

pub static CLUSTER_ROLES: Resource = Resource {
    kind: "ClusterRole",
    plural: "clusterroles",
    singular: "clusterrole",
    namespaced: false,
    strategy: &Typed::<ClusterRoles>::NEW,
    ..ROLES
};

pub static ROLE_BINDINGS: Resource = Resource {
    kind: "RoleBinding",
    plural: "rolebindings",
    singular: "rolebinding",
    strategy: &Typed::<RoleBindings>::NEW,
    ..ROLES
};

pub static CLUSTER_ROLE_BINDINGS: Resource = Resource {
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    singular: "clusterrolebinding",
    namespaced: false,
    strategy: &Typed::<ClusterRoleBindings>::NEW,
    ..ROLES
};
