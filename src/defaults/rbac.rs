//! RBAC defaults (rbac/v1's `SetDefaults_*`): a binding's role reference and its User and Group
//! subjects belong to the RBAC group when they name none.

use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};

const GROUP: &str = "rbac.authorization.k8s.io";

fn role_ref(role_ref: &mut RoleRef) {
    if role_ref.api_group.is_empty() {
        role_ref.api_group = GROUP.to_string();
    }
}

fn subjects(subjects: &mut Option<Vec<Subject>>) {
    for subject in subjects.iter_mut().flatten() {
        if matches!(subject.kind.as_str(), "User" | "Group")
            && subject.api_group.as_deref().is_none_or(str::is_empty)
        {
            subject.api_group = Some(GROUP.to_string());
        }
    }
}

pub fn role_binding(binding: &mut RoleBinding) {
    role_ref(&mut binding.role_ref);
    subjects(&mut binding.subjects);
}

pub fn cluster_role_binding(binding: &mut ClusterRoleBinding) {
    role_ref(&mut binding.role_ref);
    subjects(&mut binding.subjects);
}
