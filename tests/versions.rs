//! One resource read and written through several versions: HorizontalPodAutoscalers as
//! autoscaling/v1 and v2 (stored as v2, with what v1 cannot say kept in annotations), and a
//! CRD serving two versions, whose objects each version answers in its own apiVersion, in
//! reads, lists and watches.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Kubectl, TestServer, kubectls};
use serde_json::{Value, json};

fn newest() -> Kubectl {
    kubectls().pop().expect("a kubectl")
}

fn raw(kubectl: &Kubectl, server: &TestServer, path: &str) -> Value {
    serde_json::from_str(&kubectl.ok(server, &["get", "--raw", path])).expect("JSON")
}

#[test]
fn autoscalers_are_served_as_v1_and_v2() {
    let server = TestServer::start_with(&["--controllers", "namespace"]);
    let kubectl = newest();
    let v1 = json!({
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "maxReplicas": 5, "targetCPUUtilizationPercentage": 60},
    });
    kubectl.ok_stdin(&server, &["create", "-f", "-"], &v1.to_string());

    let as_v2 = raw(
        &kubectl,
        &server,
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web",
    );
    assert_eq!(as_v2["apiVersion"], "autoscaling/v2");
    assert_eq!(as_v2["spec"]["minReplicas"], 1);
    assert_eq!(
        as_v2["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}])
    );

    // A second metric, written through v2, is kept for v1 in an annotation and comes back.
    kubectl.ok(
        &server,
        &[
            "patch", "hpa.v2.autoscaling", "web", "--type=json", "-p",
            r#"[{"op": "add", "path": "/spec/metrics/-", "value": {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}}]"#,
        ],
    );
    let as_v1 = raw(
        &kubectl,
        &server,
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web",
    );
    assert_eq!(as_v1["apiVersion"], "autoscaling/v1");
    assert_eq!(as_v1["spec"]["targetCPUUtilizationPercentage"], 60);
    let kept = as_v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"]
        .as_str()
        .unwrap_or_default();
    assert!(kept.contains("memory"), "{as_v1}");
    kubectl.ok(
        &server,
        &[
            "patch",
            "hpa.v1.autoscaling",
            "web",
            "--type=merge",
            "-p",
            r#"{"spec": {"maxReplicas": 7}}"#,
        ],
    );
    let after = raw(
        &kubectl,
        &server,
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web",
    );
    assert_eq!(after["spec"]["maxReplicas"], 7);
    assert_eq!(
        after["spec"]["metrics"].as_array().map(Vec::len),
        Some(2),
        "{after}"
    );
    assert!(
        after["metadata"]["annotations"].is_null(),
        "the annotation is v1's alone: {after}"
    );

    // Tables print both versions with upstream's columns.
    let table = kubectl.ok(&server, &["get", "hpa.v1.autoscaling", "web"]);
    assert!(
        table.contains("Deployment/web") && table.contains("cpu: <unknown>/60%"),
        "{table}"
    );

    // Validation speaks for v1 too.
    let invalid = json!({
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "bad", "namespace": "default"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 0},
    });
    let refused = kubectl.fails_stdin(&server, &["create", "-f", "-"], &invalid.to_string());
    assert!(refused.contains("maxReplicas"), "{refused}");
}

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.mkc.io}
spec:
  group: example.mkc.io
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1beta1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#;

#[test]
fn each_version_of_a_custom_resource_answers_in_its_own_apiversion() {
    let server = TestServer::start_with(&["--controllers", "namespace"]);
    let kubectl = newest();
    kubectl.ok_stdin(&server, &["apply", "-f", "-"], CRD);
    kubectl.ok(
        &server,
        &[
            "wait",
            "--for=condition=Established",
            "crd/gadgets.example.mkc.io",
        ],
    );
    let base = "/apis/example.mkc.io";
    // A watch through v1beta1 sees the object written through v1 as v1beta1.
    let mut watch = Command::new(&kubectl.path)
        .arg("--kubeconfig")
        .arg(&server.kubeconfig)
        .args([
            "get",
            "--raw",
            &format!("{base}/v1beta1/namespaces/default/gadgets?watch=true"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl watch");
    let gadget = json!({"apiVersion": "example.mkc.io/v1", "kind": "Gadget",
                        "metadata": {"name": "g", "namespace": "default"}, "size": 3});
    kubectl.ok_stdin(&server, &["create", "-f", "-"], &gadget.to_string());
    let mut first = String::new();
    BufReader::new(watch.stdout.take().unwrap())
        .read_line(&mut first)
        .expect("a watch event");
    let _ = watch.kill();
    let _ = watch.wait();
    let event: Value = serde_json::from_str(&first).expect("a JSON event");
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["apiVersion"], "example.mkc.io/v1beta1");

    for version in ["v1", "v1beta1"] {
        let one = raw(
            &kubectl,
            &server,
            &format!("{base}/{version}/namespaces/default/gadgets/g"),
        );
        assert_eq!(one["apiVersion"], format!("example.mkc.io/{version}"));
        assert_eq!(one["size"], 3);
        let list = raw(&kubectl, &server, &format!("{base}/{version}/gadgets"));
        assert_eq!(
            list["items"][0]["apiVersion"],
            format!("example.mkc.io/{version}")
        );
    }
}
