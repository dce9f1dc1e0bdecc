//! Upstream's DefaultTolerationSeconds admission.

use serde_json::{Value, json};

/// Upstream's DefaultTolerationSeconds admission: a new pod that does not tolerate a not-ready
/// or unreachable node gets a toleration of `seconds` for each, so the node lifecycle
/// controller evicts it that long after its node stops answering.
pub fn admit(pod: &mut Value, seconds: i64) {
    let tolerations = &mut pod["spec"]["tolerations"];
    if !tolerations.is_array() {
        *tolerations = json!([]);
    }
    let Some(list) = tolerations.as_array_mut() else {
        return;
    };
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let tolerated = list.iter().any(|t| {
            let key_matches = t["key"].as_str().is_none_or(|k| k.is_empty() || k == key);
            let effect_matches = t["effect"]
                .as_str()
                .is_none_or(|e| e.is_empty() || e == "NoExecute");
            key_matches && effect_matches && (t["operator"] == "Exists" || !t["key"].is_null())
        });
        if !tolerated {
            list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}));
        }
    }
}
