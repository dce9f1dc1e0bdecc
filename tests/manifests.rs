//! Widely used public manifests (`../shared/manifests/`, beside the checkout) applied as their
//! users apply them, with the oldest and newest kubectl, client-side on one server and
//! server-side on another, each twice: every object is accepted, and the second apply changes
//! none. kubectl's move from client-side to server-side apply is checked on its own.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{Kubectl, TestServer, kubectls};
use serde_json::Value;

/// The manifests, and the namespace each is applied to, if any (argo-cd's documentation has
/// it applied into `argocd`, created first).
const MANIFESTS: [(&str, Option<&str>); 7] = [
    ("01-ingress-nginx-kind.yaml", None),
    ("03-cert-manager.yaml", None),
    ("06-argo-cd.yaml", Some("argocd")),
    ("08-local-path-storage.yaml", None),
    ("11-descheduler-cronjob.yaml", None),
    ("12-job-pi.yaml", Some("default")),
    ("13-zookeeper-statefulset.yaml", Some("default")),
];

/// Objects whose client-side apply upstream refuses, because the whole object does not fit
/// in the last-applied annotation (256 KiB); argo-cd's documentation applies server-side for
/// this reason.
const TOO_BIG_FOR_CLIENT_SIDE: [(&str, &str); 1] =
    [("06-argo-cd.yaml", "applicationsets.argoproj.io")];

fn manifest(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/manifests")
        .join(name)
}

/// Every object as stored, by kind, namespace and name, without its resourceVersion and
/// managedFields: a server-side apply of an object without managed fields credits what it
/// holds to `before-first-apply` on the next apply, as upstream does, changing no content.
fn contents(
    k: &Kubectl,
    s: &TestServer,
    file: &str,
    namespace: Option<&str>,
) -> BTreeMap<String, Value> {
    let mut args = vec![
        "get",
        "-f",
        file,
        "-o",
        "json",
        "--show-managed-fields",
        "--ignore-not-found",
    ];
    args.extend(namespace.iter().flat_map(|ns| ["-n", *ns]));
    let listed = k.ok(s, &args);
    let listed: Value = serde_json::from_str(&listed).expect("kubectl get -o json");
    let items = match listed["items"].as_array() {
        Some(items) => items.clone(),
        None => vec![listed],
    };
    items
        .into_iter()
        .map(|mut o| {
            let key = format!(
                "{}/{}/{}",
                o["kind"].as_str().unwrap_or_default(),
                o["metadata"]["namespace"].as_str().unwrap_or_default(),
                o["metadata"]["name"].as_str().unwrap_or_default()
            );
            let metadata = o["metadata"].as_object_mut().expect("metadata");
            metadata.remove("resourceVersion");
            metadata.remove("managedFields");
            (key, o)
        })
        .collect()
}

/// Applies every manifest twice, as `mode` says (`None` for client-side apply), and checks
/// that every object is accepted and that the second apply changes none of them.
fn apply_every_manifest(k: &Kubectl, s: &TestServer, mode: Option<&str>) {
    k.ok(s, &["create", "namespace", "argocd"]);
    for (name, namespace) in MANIFESTS {
        let path = manifest(name);
        let file = path.to_str().unwrap();
        let mut args = vec!["apply", "-f", file];
        args.extend(namespace.iter().flat_map(|ns| ["-n", *ns]));
        args.extend(mode);
        let run = k.run(s, &args);
        let refused: Vec<&str> = run.stderr.lines().filter(|l| !l.is_empty()).collect();
        let expected_refusals: Vec<String> = TOO_BIG_FOR_CLIENT_SIDE
            .iter()
            .filter(|(manifest, _)| *manifest == name && mode.is_none())
            .map(|(_, crd)| format!("The CustomResourceDefinition \"{crd}\" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes"))
            .collect();
        assert_eq!(
            refused.len(),
            expected_refusals.len(),
            "{name}, first apply:\n{}{}",
            run.stdout,
            run.stderr
        );
        for expected in &expected_refusals {
            assert!(
                run.stderr.contains(expected.as_str()),
                "{name}:\n{}",
                run.stderr
            );
        }
        let first = run.stdout;
        let done = if mode.is_some() {
            " serverside-applied"
        } else {
            " created"
        };
        assert!(
            first.lines().all(|l| l.ends_with(done)),
            "{name}, first apply:\n{first}"
        );
        let before = contents(k, s, file, namespace);
        assert_eq!(
            before.len(),
            first.lines().count(),
            "{name}: {:?}",
            before.keys()
        );
        // Client-side apply may still send a patch (for `data: null`, or a list the server
        // defaults into), as it does against any cluster; no object may change.
        k.run(s, &args);
        assert_eq!(
            contents(k, s, file, namespace),
            before,
            "{name}: a second apply changed objects"
        );
    }
}

#[test]
fn public_manifests_apply_whole_client_side_and_server_side() {
    let all = kubectls();
    let ends = [all.first().cloned(), all.last().cloned()];
    let handles: Vec<_> = ends
        .into_iter()
        .flatten()
        .flat_map(|kubectl| [(kubectl.clone(), None), (kubectl, Some("--server-side"))])
        .map(|(kubectl, mode)| {
            std::thread::spawn(move || {
                let server =
                    TestServer::start_with(&["--controllers", "garbage-collector,namespace"]);
                apply_every_manifest(&kubectl, &server, mode);
            })
        })
        .collect();
    let failures = handles.into_iter().filter_map(|h| h.join().err()).count();
    assert_eq!(failures, 0, "{failures} runs failed (see above)");
}

#[test]
fn moving_to_server_side_apply_hands_over_the_fields() {
    let newest = kubectls().pop().unwrap();
    let s = TestServer::start_with(&["--controllers", "namespace"]);
    let first = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n";
    newest.ok_stdin(&s, &["apply", "-f", "-"], first);
    newest.ok_stdin(&s, &["apply", "--server-side", "-f", "-"], first);
    let second =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  b: \"2\"\n";
    newest.ok_stdin(&s, &["apply", "--server-side", "-f", "-"], second);
    let data = newest.ok(
        &s,
        &["get", "configmap", "settings", "-o", "jsonpath={.data}"],
    );
    assert_eq!(data.trim(), "{\"b\":\"2\"}");

    let reset = "{\"metadata\": {\"managedFields\": [{}]}}";
    newest.ok(
        &s,
        &[
            "patch",
            "configmap",
            "settings",
            "--type=merge",
            "-p",
            reset,
        ],
    );
    let managers = newest.ok(
        &s,
        &[
            "get",
            "configmap",
            "settings",
            "-o",
            "jsonpath={.metadata.managedFields}",
            "--show-managed-fields",
        ],
    );
    assert_eq!(managers.trim(), "", "managedFields: [{{}}] resets them");
}
