//! RBAC's guard against escalation, as upstream's role and binding strategies apply it: a user
//! may write a role only with rules it holds itself (or the `escalate` verb on it), and bind a
//! role only if it holds the role's rules (or the `bind` verb on it). Otherwise anyone allowed
//! to write roles could grant themselves anything.

use k8s_openapi::api::rbac::v1::{PolicyRule, RoleRef};
use serde_json::Value;

use super::Request;
use crate::apiserver::authorize::{MASTERS, decide};
use crate::apiserver::{ApiError, ApiState, meta};
use crate::rbac::{self, Attributes};

/// Refuses a role or binding that grants more than the writer holds. An update that leaves
/// the rules (or the role bound) as they were is not checked, as upstream does not.
pub async fn check(
    state: &ApiState,
    request: &Request,
    object: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let r = request.info.resource;
    let user = &request.user;
    if r.group != rbac::GROUP || user.groups.iter().any(|g| g == MASTERS) {
        return Ok(());
    }
    let unchanged = |field: &str| old.is_some_and(|old| old[field] == object[field]);
    if unchanged("rules") && unchanged("roleRef") {
        return Ok(());
    }
    let namespace = meta::namespace(object).unwrap_or_default();
    let name = meta::name(object);
    let granted: Vec<PolicyRule> = match r.plural {
        "roles" | "clusterroles" => {
            let escalate =
                Attributes::resource("escalate", rbac::GROUP, r.plural, "", namespace, name);
            if decide(state, user, &escalate).await.is_ok() {
                return Ok(());
            }
            serde_json::from_value(object["rules"].clone()).unwrap_or_default()
        }
        "rolebindings" | "clusterrolebindings" => {
            let role: RoleRef = serde_json::from_value(object["roleRef"].clone())
                .map_err(|e| ApiError::BadRequest(e.to_string()))?;
            let plural = if role.kind == "Role" {
                "roles"
            } else {
                "clusterroles"
            };
            let bind = Attributes::resource("bind", rbac::GROUP, plural, "", namespace, &role.name);
            if decide(state, user, &bind).await.is_ok() {
                return Ok(());
            }
            state.policy.loaded().await;
            let policy = state.policy.get();
            match policy.rules_of(&role, namespace) {
                Some(rules) => rules.to_vec(),
                None => {
                    return Err(refuse(
                        request,
                        name,
                        format!(
                            "user {:?} (groups={}) is attempting to grant RBAC permissions not currently held: {plural} {:?} not found",
                            user.name,
                            groups(&user.groups),
                            role.name
                        ),
                    ));
                }
            }
        }
        _ => return Ok(()),
    };
    state.policy.loaded().await;
    let held = state.policy.get().rules_for(user, namespace);
    let missing = rbac::uncovered(&held, &granted);
    if missing.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = missing.iter().map(rbac::compact).collect();
    Err(refuse(
        request,
        name,
        format!(
            "user {:?} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
            user.name,
            groups(&user.groups),
            listed.join("\n")
        ),
    ))
}

/// Go's `%q` of a string slice: `["a" "b"]`.
fn groups(groups: &[String]) -> String {
    let quoted: Vec<String> = groups.iter().map(|g| format!("{g:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

fn refuse(request: &Request, name: &str, message: String) -> ApiError {
    ApiError::Denied {
        resource: request.info.resource.qualified(),
        name: name.to_owned(),
        message,
    }
}
