//! A container's environment, command and arguments as Kubernetes defines them: `env` in
//! order, each plain value expanding `$(NAME)` from the variables defined before it, values
//! taken from the pod's own fields (`valueFrom.fieldRef`), and `command` / `args` expanded
//! with the result. References to ConfigMaps, Secrets and resources are not supported yet:
//! such variables are left out.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Container;

/// What `valueFrom.fieldRef` can name.
#[derive(Debug, Clone, Copy)]
pub struct PodFields<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub uid: &'a str,
    pub node_name: &'a str,
    pub service_account: &'a str,
    pub pod_ip: &'a str,
    pub host_ip: &'a str,
}

impl PodFields<'_> {
    fn get(&self, path: &str) -> Option<&str> {
        Some(match path {
            "metadata.name" => self.name,
            "metadata.namespace" => self.namespace,
            "metadata.uid" => self.uid,
            "spec.nodeName" => self.node_name,
            "spec.serviceAccountName" => self.service_account,
            "status.podIP" | "status.podIPs" => self.pod_ip,
            "status.hostIP" | "status.hostIPs" => self.host_ip,
            _ => return None,
        })
    }
}

/// The container's environment, in the engine's `NAME=value` form and in the spec's order.
pub fn environment(spec: &Container, fields: &PodFields) -> Vec<(String, String)> {
    let mut defined: HashMap<&str, String> = HashMap::new();
    let mut variables = Vec::new();
    for variable in spec.env.iter().flatten() {
        let value = match (&variable.value, &variable.value_from) {
            (_, Some(source)) => {
                let path = source.field_ref.as_ref().map(|f| f.field_path.as_str());
                match path.and_then(|path| fields.get(path)) {
                    Some(value) => value.to_owned(),
                    None => continue,
                }
            }
            (Some(value), None) => expand(value, |name| defined.get(name).map(String::as_str)),
            (None, None) => String::new(),
        };
        defined.insert(&variable.name, value.clone());
        variables.push((variable.name.clone(), value));
    }
    variables
}

/// Expands `$(NAME)` in `text` as upstream does: a defined name becomes its value, an
/// undefined one stays as written, `$$` is a literal `$`, and any other `$` is kept.
pub fn expand<'a>(text: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|r| r.split_once(')')) {
            match lookup(name) {
                Some(value) => out.push_str(value),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The entrypoint and command the engine runs: `command` replaces the image's ENTRYPOINT and
/// `args` its CMD, each expanded with the container's environment; what the spec leaves out,
/// the image decides (`None`).
pub fn command_and_args(
    spec: &Container,
    environment: &[(String, String)],
) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let lookup = |name: &str| {
        environment
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let expand_all = |words: &Vec<String>| -> Vec<String> {
        words.iter().map(|word| expand(word, lookup)).collect()
    };
    let entrypoint = spec.command.as_ref().map(expand_all);
    // A command without args runs with no arguments, not with the image's CMD.
    let args = match (&spec.args, &entrypoint) {
        (Some(args), _) => Some(expand_all(args)),
        (None, Some(_)) => Some(Vec::new()),
        (None, None) => None,
    };
    (entrypoint, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> PodFields<'static> {
        PodFields {
            name: "web",
            namespace: "default",
            uid: "6f1c",
            node_name: "worker-1",
            service_account: "default",
            pod_ip: "10.244.1.2",
            host_ip: "172.18.0.3",
        }
    }

    fn container(value: serde_json::Value) -> Container {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn expansion_follows_upstream() {
        let lookup = |name: &str| match name {
            "A" => Some("1"),
            "EMPTY" => Some(""),
            _ => None,
        };
        let cases = [
            ("$(A)", "1"),
            ("x$(A)y$(A)", "x1y1"),
            ("$(B)", "$(B)"),
            ("$$(A)", "$(A)"),
            ("$$", "$"),
            ("$(A", "$(A"),
            ("a$b", "a$b"),
            ("trailing$", "trailing$"),
            ("$(EMPTY)é", "é"),
            ("", ""),
        ];
        for (text, expanded) in cases {
            assert_eq!(expand(text, lookup), expanded, "{text:?}");
        }
    }

    #[test]
    fn variables_see_those_before_them_and_the_pods_fields() {
        let spec = container(json!({
            "name": "c",
            "env": [
                {"name": "LATER", "value": "$(FIRST)"},
                {"name": "FIRST", "value": "one"},
                {"name": "BOTH", "value": "$(FIRST)-$(POD)"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "AFTER", "value": "$(POD)@$(NODE)"},
                {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "y"}}},
                {"name": "UNSET"},
            ],
        }));
        let env = environment(&spec, &fields());
        let pairs: Vec<String> = env.iter().map(|(n, v)| format!("{n}={v}")).collect();
        assert_eq!(
            pairs,
            [
                "LATER=$(FIRST)",
                "FIRST=one",
                "BOTH=one-$(POD)",
                "POD=web",
                "AFTER=web@$(NODE)",
                "NODE=worker-1",
                "IP=10.244.1.2",
                "UNSET="
            ]
        );
    }

    #[test]
    fn command_replaces_the_entrypoint_and_args_the_cmd() {
        let env = vec![("WHO".to_owned(), "world".to_owned())];
        let both = container(json!({"name": "c", "command": ["/bin/echo"], "args": ["hi $(WHO)"]}));
        assert_eq!(
            command_and_args(&both, &env),
            (
                Some(vec!["/bin/echo".into()]),
                Some(vec!["hi world".into()])
            )
        );
        let command = container(json!({"name": "c", "command": ["/pause"]}));
        assert_eq!(
            command_and_args(&command, &env),
            (Some(vec!["/pause".into()]), Some(vec![]))
        );
        let args = container(json!({"name": "c", "args": ["-v"]}));
        assert_eq!(
            command_and_args(&args, &env),
            (None, Some(vec!["-v".into()]))
        );
        let neither = container(json!({"name": "c"}));
        assert_eq!(command_and_args(&neither, &env), (None, None));
    }
}
