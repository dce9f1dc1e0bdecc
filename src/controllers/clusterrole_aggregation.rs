//! ClusterRole aggregation, as upstream's clusterrole-aggregation controller does it: a
//! ClusterRole with an `aggregationRule` holds the rules of every ClusterRole its selectors
//! match, in name order without repeats. This is how `admin`, `edit` and `view` get their rules,
//! and how a CRD's installer extends them by labelling a role `aggregate-to-view`.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use kube::api::{Api, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};
use tokio_util::sync::CancellationToken;

use super::ReconcileError as Error;
use super::informers::Informers;
use super::selector;

struct Context {
    client: Client,
    roles: Store<ClusterRole>,
}

pub fn start(
    client: &Client,
    informers: &mut Informers,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let roles = informers.cluster_roles.store();
    let context = Arc::new(Context {
        client: client.clone(),
        roles: roles.clone(),
    });
    // Any role changing may change what an aggregating role holds.
    let aggregating = move |_: Arc<ClusterRole>| {
        roles
            .state()
            .iter()
            .filter(|r| r.aggregation_rule.is_some())
            .map(|r| ObjectRef::from_obj(r.as_ref()))
            .collect::<Vec<_>>()
    };
    let (controller, synced) = informers.cluster_roles.controller(shutdown);
    let controller =
        controller.watches_shared_stream(informers.cluster_roles.subscribe(), aggregating);
    synced.run(controller, reconcile, error_policy, context)
}

/// The rules `role` aggregates from `roles`: those of each selected role, by name, once each.
fn aggregated(role: &ClusterRole, roles: &[Arc<ClusterRole>]) -> Vec<PolicyRule> {
    let selectors = role
        .aggregation_rule
        .as_ref()
        .and_then(|a| a.cluster_role_selectors.as_deref())
        .unwrap_or_default();
    let mut selected: Vec<&Arc<ClusterRole>> = roles
        .iter()
        .filter(|other| other.name_any() != role.name_any())
        .filter(|other| {
            selectors
                .iter()
                .any(|s| selector::matches(s, other.metadata.labels.as_ref()))
        })
        .collect();
    selected.sort_by_key(|r| r.name_any());
    let mut rules: Vec<PolicyRule> = Vec::new();
    for rule in selected.iter().flat_map(|r| r.rules.iter().flatten()) {
        if !rules.contains(rule) {
            rules.push(rule.clone());
        }
    }
    rules
}

async fn reconcile(role: Arc<ClusterRole>, ctx: Arc<Context>) -> Result<Action, Error> {
    if role.aggregation_rule.is_none() {
        return Ok(Action::await_change());
    }
    let rules = aggregated(&role, &ctx.roles.state());
    if role.rules.as_deref().unwrap_or_default() == rules.as_slice() {
        return Ok(Action::await_change());
    }
    let mut next = (*role).clone();
    next.rules = Some(rules);
    let api: Api<ClusterRole> = Api::all(ctx.client.clone());
    api.replace(&role.name_any(), &PostParams::default(), &next)
        .await?;
    Ok(Action::await_change())
}

fn error_policy(_: Arc<ClusterRole>, error: &Error, _: Arc<Context>) -> Action {
    tracing::debug!(%error, "aggregating a cluster role failed; trying again");
    Action::requeue(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(name: &str, labels: serde_json::Value, rules: serde_json::Value) -> Arc<ClusterRole> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "labels": labels},
                "rules": rules,
            }))
            .unwrap(),
        )
    }

    #[test]
    fn selected_roles_rules_are_gathered_in_name_order_once_each() {
        let view: ClusterRole = serde_json::from_value(json!({
            "metadata": {"name": "view"},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"aggregate-to-view": "true"}}]},
        }))
        .unwrap();
        let pods = json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]});
        let widgets =
            json!({"verbs": ["list"], "apiGroups": ["example.com"], "resources": ["widgets"]});
        let roles = vec![
            role(
                "z-widgets",
                json!({"aggregate-to-view": "true"}),
                json!([widgets, pods]),
            ),
            role(
                "a-pods",
                json!({"aggregate-to-view": "true"}),
                json!([pods]),
            ),
            role(
                "unrelated",
                json!({}),
                json!([{"verbs": ["delete"], "apiGroups": ["*"], "resources": ["*"]}]),
            ),
        ];
        let rules = aggregated(&view, &roles);
        let resources: Vec<&str> = rules
            .iter()
            .map(|r| r.resources.as_ref().unwrap()[0].as_str())
            .collect();
        assert_eq!(resources, ["pods", "widgets"]);
    }
}
