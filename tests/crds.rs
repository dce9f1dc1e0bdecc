//! CustomResourceDefinitions as their users meet them: a CRD with a structural schema, CEL
//! rules, status and scale subresources and printer columns, driven through the oldest and
//! newest kubectl, the Python client and the Rust `kube` client; and a deleted CRD taking its
//! objects with it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::docker_cluster::eventually;
use common::{Kubectl, TestServer, kubectls};
use serde_json::{Value, json};

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.ready
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [cronSpec]
            x-kubernetes-validations:
            - rule: "self.replicas <= 5 || self.image.startsWith('big/')"
              message: only big images run more than five replicas
            properties:
              cronSpec:
                type: string
                pattern: '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'
                x-kubernetes-validations:
                - rule: self == oldSelf
                  message: cronSpec is immutable
              image:
                type: string
                default: busybox
              replicas:
                type: integer
                minimum: 1
                maximum: 10
                default: 1
          status:
            type: object
            properties:
              replicas:
                type: integer
              ready:
                type: integer
              selector:
                type: string
"#;

const CRONTAB: &str = r#"
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: nightly
spec:
  cronSpec: "* * * * */5"
"#;

fn json_of(k: &Kubectl, s: &TestServer, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    serde_json::from_str(&k.ok(s, &args)).expect("kubectl -o json")
}

/// What a user does with a CRD, through one kubectl against a server of its own.
fn a_crd_serves_its_resource(k: &Kubectl, s: &TestServer) {
    k.ok_stdin(s, &["apply", "-f", "-"], CRD);
    k.ok(
        s,
        &[
            "wait",
            "--for=condition=Established",
            "crd/crontabs.stable.example.com",
            "--timeout=10s",
        ],
    );
    let created = k.ok_stdin(s, &["apply", "-f", "-"], CRONTAB);
    assert_eq!(created.trim(), "crontab.stable.example.com/nightly created");

    // Defaults from the schema, printer columns by short name.
    let stored = json_of(k, s, &["get", "crontab", "nightly"]);
    assert_eq!(stored["spec"]["replicas"], 1);
    assert_eq!(stored["spec"]["image"], "busybox");
    assert_eq!(stored["metadata"]["generation"], 1);
    let table = k.ok(s, &["get", "ct"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "SPEC", "REPLICAS", "AGE"]);
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("nightly") && row.contains("* * * * */5") && row.contains(" 1 "),
        "{table}"
    );

    // The schema, the CEL rules and the transition rule refuse what they should, in
    // upstream's words.
    let too_many = k.fails(
        s,
        &[
            "patch",
            "ct",
            "nightly",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":20}}"#,
        ],
    );
    assert!(
        too_many.contains(
            "spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10"
        ),
        "{too_many}"
    );
    let rule = k.fails(
        s,
        &[
            "patch",
            "ct",
            "nightly",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":7}}"#,
        ],
    );
    assert!(
        rule.contains(
            "spec: Invalid value: \"object\": only big images run more than five replicas"
        ),
        "{rule}"
    );
    k.ok(
        s,
        &[
            "patch",
            "ct",
            "nightly",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":7,"image":"big/worker"}}"#,
        ],
    );
    let immutable = k.fails(
        s,
        &[
            "patch",
            "ct",
            "nightly",
            "--type=merge",
            "-p",
            r#"{"spec":{"cronSpec":"1 * * * *"}}"#,
        ],
    );
    assert!(
        immutable.contains("spec.cronSpec: Invalid value: \"string\": cronSpec is immutable"),
        "{immutable}"
    );
    let pattern = k.fails_stdin(
        s,
        &["create", "-f", "-"],
        &CRONTAB
            .replace("nightly", "broken")
            .replace("* * * * */5", "often"),
    );
    assert!(
        pattern.contains("spec.cronSpec in body should match"),
        "{pattern}"
    );
    let strategic = k.fails(
        s,
        &[
            "patch",
            "ct",
            "nightly",
            "--type=strategic",
            "-p",
            r#"{"spec":{"replicas":2}}"#,
        ],
    );
    assert!(
        strategic.contains("UnsupportedMediaType") || strategic.contains("unknown format"),
        "{strategic}"
    );

    // Unknown fields: refused when the client asks for strict validation, pruned otherwise.
    let with_unknown = CRONTAB
        .replace("nightly", "pruned")
        .replace("spec:\n", "spec:\n  color: blue\n");
    let strict = k.fails_stdin(s, &["create", "-f", "-"], &with_unknown);
    assert!(strict.contains(r#"unknown field "spec.color""#), "{strict}");
    k.ok_stdin(s, &["create", "--validate=false", "-f", "-"], &with_unknown);
    let pruned = json_of(k, s, &["get", "ct", "pruned"]);
    assert_eq!(pruned["spec"].get("color"), None, "{pruned}");

    // Status only through its subresource; scale through its own.
    k.ok(
        s,
        &[
            "patch",
            "ct",
            "nightly",
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"replicas":3,"ready":2,"selector":"app=nightly"}}"#,
        ],
    );
    k.ok(
        s,
        &[
            "patch",
            "ct",
            "nightly",
            "--type=merge",
            "-p",
            r#"{"status":{"replicas":9}}"#,
        ],
    );
    k.ok(s, &["scale", "ct", "nightly", "--replicas=4"]);
    let scaled = json_of(k, s, &["get", "ct", "nightly"]);
    assert_eq!(scaled["status"]["replicas"], 3, "{scaled}");
    assert_eq!(scaled["spec"]["replicas"], 4, "{scaled}");
    assert_eq!(scaled["metadata"]["generation"], 3, "{scaled}");
    // The Scale reads where the CRD's scale subresource points.
    let scale: Value = serde_json::from_str(&k.ok(
        s,
        &[
            "get",
            "--raw",
            "/apis/stable.example.com/v1/namespaces/default/crontabs/nightly/scale",
        ],
    ))
    .unwrap();
    assert_eq!(scale["spec"]["replicas"], 4, "{scale}");
    assert_eq!(
        scale["status"],
        json!({"replicas": 2, "selector": "app=nightly"})
    );

    // Server-side apply owns the fields it sets, and explain reads the published schema.
    k.ok_stdin(
        s,
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        &CRONTAB.replace("cronSpec", "image: big/other\n  cronSpec"),
    );
    let applied = json_of(k, s, &["get", "ct", "nightly"]);
    assert_eq!(applied["spec"]["image"], "big/other", "{applied}");
    let explained = k.ok(s, &["explain", "crontab.spec.replicas"]);
    assert!(explained.contains("<integer>"), "{explained}");
    let all = k.ok(s, &["get", "all"]);
    assert!(all.contains("crontab.stable.example.com/nightly"), "{all}");

    // Deleting the CRD deletes its objects, then the CRD, and the resource stops being served.
    k.ok(
        s,
        &[
            "delete",
            "crd",
            "crontabs.stable.example.com",
            "--wait=true",
        ],
    );
    let gone = k.fails(s, &["get", "crontabs.stable.example.com"]);
    assert!(
        gone.contains("the server doesn't have a resource type"),
        "{gone}"
    );
    k.ok_stdin(s, &["apply", "-f", "-"], CRD);
    let left = eventually("the CRD served again", Duration::from_secs(10), || {
        let run = k.run(s, &["get", "ct", "-o", "name"]);
        run.ok.then_some(run.stdout)
    });
    assert_eq!(left, "", "objects outlived their CRD");
}

#[test]
fn a_crd_serves_its_resource_to_the_oldest_and_newest_kubectl() {
    common::for_oldest_and_newest(&["--controllers", "namespace"], a_crd_serves_its_resource);
}

/// A server running `controllers`, with the CronTab CRD established, and the newest kubectl.
fn serving_crontabs(controllers: &str) -> (TestServer, Kubectl) {
    let s = TestServer::start_with(&["--controllers", controllers]);
    let k = kubectls().pop().unwrap();
    k.ok_stdin(&s, &["apply", "-f", "-"], CRD);
    k.ok(
        &s,
        &[
            "wait",
            "--for=condition=Established",
            "crd/crontabs.stable.example.com",
        ],
    );
    (s, k)
}

#[test]
fn clients_use_custom_resources_like_built_in_ones() {
    let (s, k) = serving_crontabs("namespace");

    // A namespace's custom resources go with it.
    k.ok(&s, &["create", "namespace", "doomed"]);
    k.ok_stdin(&s, &["apply", "-n", "doomed", "-f", "-"], CRONTAB);
    k.ok(&s, &["delete", "namespace", "doomed", "--timeout=20s"]);
    let left = k.ok(&s, &["get", "ct", "-A", "-o", "name"]);
    assert_eq!(left, "", "custom resources outlived their namespace");

    // Python: CustomObjectsApi's create, read, list, patch, status and delete.
    let script = r#"
import os
from kubernetes import client, config
from kubernetes.client.rest import ApiException
config.load_kube_config(config_file=os.environ["KUBECONFIG"])
api = client.CustomObjectsApi()
args = ("stable.example.com", "v1", "default", "crontabs")
body = {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": {"name": "py"}, "spec": {"cronSpec": "*/5 * * * *"}}
created = api.create_namespaced_custom_object(*args, body)
assert created["spec"]["replicas"] == 1, created
assert api.get_namespaced_custom_object(*args, "py")["metadata"]["uid"] == created["metadata"]["uid"]
assert [o["metadata"]["name"] for o in api.list_namespaced_custom_object(*args)["items"]] == ["py"]
patched = api.patch_namespaced_custom_object(*args, "py", {"spec": {"replicas": 2}})
assert patched["spec"]["replicas"] == 2, patched
status = api.patch_namespaced_custom_object_status(*args, "py", {"status": {"replicas": 2}})
assert status["status"]["replicas"] == 2, status
try:
    api.patch_namespaced_custom_object(*args, "py", {"spec": {"replicas": 0}})
    raise SystemExit("a replica count under the minimum was accepted")
except ApiException as e:
    assert e.status == 422, e
    assert "should be greater than or equal to 1" in e.body, e.body
api.delete_namespaced_custom_object(*args, "py")
print("python ok")
"#;
    let python = std::env::var("MKC_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = Command::new(&python)
        .args(["-c", script])
        .env("KUBECONFIG", &s.kubeconfig)
        .output()
        .unwrap_or_else(|e| panic!("run {python}: {e}"));
    assert!(
        output.status.success(),
        "the Python client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // kube-rs: a dynamic API found through discovery, and a watch that sees a change.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use futures::{StreamExt, TryStreamExt};
        use kube::api::{Api, DynamicObject, PostParams};
        use kube::discovery;
        use kube::runtime::{WatchStreamExt, watcher};

        let client = common::client(&s).await;
        let group = discovery::group(&client, "stable.example.com")
            .await
            .expect("the CRD's group in discovery");
        let (resource, capabilities) = group.recommended_kind("CronTab").expect("CronTab");
        assert_eq!(resource.plural, "crontabs");
        assert!(capabilities.supports_operation(discovery::verbs::WATCH));
        let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &resource);
        let mut changes = watcher(api.clone(), watcher::Config::default())
            .applied_objects()
            .boxed();
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "stable.example.com/v1",
            "kind": "CronTab",
            "metadata": {"name": "rs"},
            "spec": {"cronSpec": "0 0 * * *", "replicas": 3},
        }))
        .unwrap();
        api.create(&PostParams::default(), &object)
            .await
            .expect("create");
        let seen = tokio::time::timeout(Duration::from_secs(10), changes.try_next())
            .await
            .expect("a watch event")
            .expect("watch")
            .expect("an object");
        assert_eq!(seen.metadata.name.as_deref(), Some("rs"));
        assert_eq!(seen.data["spec"]["image"], "busybox");
    });
}

/// The garbage collector follows custom resources as owners and as dependents, from the CRD's
/// establishment on: a ConfigMap owned by a CronTab goes with it, a CronTab owned by a ConfigMap
/// goes with that, and a foreground deletion of a CronTab waits for its dependents.
#[test]
fn the_garbage_collector_follows_custom_resources() {
    let (s, k) = serving_crontabs("garbage-collector");
    let owner_ref = |api_version: &str, kind: &str, name: &str, uid: &str| json!([{"apiVersion": api_version, "kind": kind, "name": name, "uid": uid}]);
    let uid_of = |kind: &str, name: &str| {
        json_of(&k, &s, &["get", kind, name])["metadata"]["uid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let gone = |kind: &str, name: &str| {
        let run = k.run(&s, &["get", kind, name]);
        (!run.ok && run.stderr.contains("NotFound")).then_some(())
    };

    // Owner: custom; dependent: built-in.
    for (crontab, cascade) in [("owner", "background"), ("foreground", "foreground")] {
        k.ok_stdin(
            &s,
            &["apply", "-f", "-"],
            &CRONTAB.replace("nightly", crontab),
        );
        let dependent = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": format!("of-{crontab}"),
                "ownerReferences": owner_ref("stable.example.com/v1", "CronTab", crontab, &uid_of("ct", crontab)),
            },
        });
        k.ok_stdin(&s, &["create", "-f", "-"], &dependent.to_string());
        k.ok(
            &s,
            &["delete", "ct", crontab, &format!("--cascade={cascade}")],
        );
        eventually(
            &format!("the ConfigMap of {crontab} deleted"),
            Duration::from_secs(20),
            || gone("configmap", &format!("of-{crontab}")),
        );
    }

    // Owner: built-in; dependent: custom.
    k.ok(&s, &["create", "configmap", "holder"]);
    let crontab = json!({
        "apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": {
            "name": "held",
            "ownerReferences": owner_ref("v1", "ConfigMap", "holder", &uid_of("configmap", "holder")),
        },
        "spec": {"cronSpec": "0 0 * * *"},
    });
    k.ok_stdin(&s, &["create", "-f", "-"], &crontab.to_string());
    k.ok(&s, &["delete", "configmap", "holder"]);
    eventually(
        "the CronTab held by a ConfigMap deleted",
        Duration::from_secs(20),
        || gone("ct", "held"),
    );
}
