//! RBAC through the real kubectl, as an administrator grants and a user meets it: identities
//! other than the admin's are taken with `--as` (impersonation, which the admin may do), the
//! way `kubectl auth can-i --as` is used to check a policy.

mod common;

use std::time::{Duration, Instant};

use common::{Kubectl, TestServer, kubectls};

/// The oldest and newest kubectl, each against a server of its own with the controllers RBAC
/// relies on.
fn for_oldest_and_newest(check: fn(&Kubectl, &TestServer)) {
    common::for_oldest_and_newest(
        &[
            "--controllers",
            "garbage-collector,namespace,clusterrole-aggregation,serviceaccount",
        ],
        check,
    );
}

/// Retries `check` for a few seconds: role aggregation is a controller's work.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_role_binding_grants_what_its_role_holds_and_nothing_more() {
    for_oldest_and_newest(|k, s| {
        assert_eq!(
            k.ok(s, &["auth", "can-i", "create", "deployments"]).trim(),
            "yes"
        );
        let no = k.run(s, &["auth", "can-i", "list", "pods", "--as", "alice"]);
        assert!(!no.ok);
        assert_eq!(no.stdout.trim(), "no");
        let denied = k.fails(s, &["get", "pods", "-n", "default", "--as", "alice"]);
        assert_eq!(
            denied.trim(),
            "Error from server (Forbidden): pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );

        k.ok(
            s,
            &[
                "create",
                "role",
                "pod-reader",
                "--verb=get,list",
                "--resource=pods",
                "-n",
                "default",
            ],
        );
        k.ok(
            s,
            &[
                "create",
                "rolebinding",
                "alice-reads",
                "--role=pod-reader",
                "--user=alice",
                "-n",
                "default",
            ],
        );
        // Allowed at once: the write is answered only once the authorizer knows it.
        k.ok(s, &["get", "pods", "-n", "default", "--as", "alice"]);
        assert_eq!(
            k.ok(
                s,
                &[
                    "auth", "can-i", "list", "pods", "-n", "default", "--as", "alice"
                ]
            )
            .trim(),
            "yes"
        );
        let elsewhere = k.fails(s, &["get", "pods", "-n", "kube-system", "--as", "alice"]);
        assert!(
            elsewhere.contains(
                "cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\""
            ),
            "{elsewhere}"
        );
        let writes = k.fails(
            s,
            &["delete", "pod", "nope", "-n", "default", "--as", "alice"],
        );
        assert!(
            writes.contains(
                "pods \"nope\" is forbidden: User \"alice\" cannot delete resource \"pods\""
            ),
            "{writes}"
        );

        let listed = k.ok(
            s,
            &["auth", "can-i", "--list", "-n", "default", "--as", "alice"],
        );
        let pods = listed
            .lines()
            .find(|l| l.starts_with("pods "))
            .unwrap_or_else(|| panic!("no rule for pods in\n{listed}"));
        assert!(pods.trim_end().ends_with("[get list]"), "{listed}");
        assert!(
            listed.contains("selfsubjectaccessreviews.authorization.k8s.io"),
            "{listed}"
        );
    });
}

#[test]
fn view_edit_and_admin_are_aggregated_and_extended_by_labels() {
    for_oldest_and_newest(|k, s| {
        k.ok(
            s,
            &[
                "create",
                "clusterrolebinding",
                "bob-views",
                "--clusterrole=view",
                "--user=bob",
            ],
        );
        eventually("view to allow reading deployments", || {
            k.run(
                s,
                &[
                    "auth",
                    "can-i",
                    "list",
                    "deployments.apps",
                    "-A",
                    "--as",
                    "bob",
                ],
            )
            .ok
        });
        assert!(
            !k.run(
                s,
                &["auth", "can-i", "delete", "deployments.apps", "--as", "bob"]
            )
            .ok
        );
        assert!(
            !k.run(s, &["auth", "can-i", "get", "secrets", "--as", "bob"])
                .ok
        );

        let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: widgets-view\n  labels:\n    rbac.authorization.k8s.io/aggregate-to-view: \"true\"\nrules:\n- apiGroups: [\"example.com\"]\n  resources: [\"widgets\"]\n  verbs: [\"get\", \"list\"]\n";
        k.ok_stdin(s, &["apply", "-f", "-"], role);
        eventually("view to take in the labelled role", || {
            let view = k.ok(
                s,
                &[
                    "get",
                    "clusterrole",
                    "view",
                    "-o",
                    "jsonpath={.rules[*].resources}",
                ],
            );
            view.contains("widgets") && view.contains("pods")
        });
        // edit takes in view's rules, and admin edit's.
        eventually("admin to hold view's rules through edit", || {
            let admin = k.ok(
                s,
                &[
                    "get",
                    "clusterrole",
                    "admin",
                    "-o",
                    "jsonpath={.rules[*].resources}",
                ],
            );
            admin.contains("widgets")
        });
    });
}

#[test]
fn nobody_grants_more_than_they_hold() {
    for_oldest_and_newest(|k, s| {
        k.ok(s, &["create", "namespace", "team"]);
        k.ok(
            s,
            &[
                "create",
                "role",
                "role-writer",
                "--verb=create,get",
                "--resource=roles,rolebindings",
                "-n",
                "team",
            ],
        );
        k.ok(
            s,
            &[
                "create",
                "rolebinding",
                "carol-writes-roles",
                "--role=role-writer",
                "--user=carol",
                "-n",
                "team",
            ],
        );
        let escalation = k.fails(
            s,
            &[
                "create",
                "role",
                "sneaky",
                "--verb=delete",
                "--resource=secrets",
                "-n",
                "team",
                "--as",
                "carol",
            ],
        );
        assert!(
            escalation.contains("roles.rbac.authorization.k8s.io \"sneaky\" is forbidden: user \"carol\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"delete\"]}"),
            "{escalation}"
        );
        // A role within what carol holds is hers to make, and to bind.
        k.ok(
            s,
            &[
                "create",
                "role",
                "fine",
                "--verb=get",
                "--resource=roles",
                "-n",
                "team",
                "--as",
                "carol",
            ],
        );
        k.ok(
            s,
            &[
                "create",
                "rolebinding",
                "dave-gets-roles",
                "--role=fine",
                "--user=dave",
                "-n",
                "team",
                "--as",
                "carol",
            ],
        );
        let admin = k.fails(
            s,
            &[
                "create",
                "rolebinding",
                "dave-admin",
                "--clusterrole=admin",
                "--user=dave",
                "-n",
                "team",
                "--as",
                "carol",
            ],
        );
        assert!(
            admin.contains("is attempting to grant RBAC permissions not currently held"),
            "{admin}"
        );
    });
}

#[test]
fn a_node_reads_only_what_its_pods_use() {
    for_oldest_and_newest(|k, s| {
        let node = ["--as", "system:node:w1", "--as-group", "system:nodes"];
        let with = |args: &[&str]| -> Vec<String> {
            args.iter()
                .chain(node.iter())
                .map(|a| a.to_string())
                .collect()
        };
        let run = |args: Vec<String>| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            k.run(s, &args)
        };
        k.ok(
            s,
            &[
                "create",
                "secret",
                "generic",
                "db",
                "--from-literal=password=x",
            ],
        );
        let unrelated = run(with(&["get", "secret", "db"]));
        assert!(!unrelated.ok);
        assert!(
            unrelated.stderr.contains("secrets \"db\" is forbidden: User \"system:node:w1\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\": no relationship found between node 'w1' and this object"),
            "{}",
            unrelated.stderr
        );
        let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  nodeName: w1\n  containers:\n  - name: app\n    image: busybox\n    env:\n    - name: PASSWORD\n      valueFrom:\n        secretKeyRef: {name: db, key: password}\n";
        k.ok_stdin(s, &["apply", "-f", "-"], pod);
        assert!(run(with(&["get", "secret", "db"])).ok);
        assert!(
            !run(with(&["get", "secrets"])).ok,
            "a node lists no secrets"
        );
        assert!(run(with(&["get", "pods", "-A"])).ok);
        let other = run(with(&["label", "node", "w2", "x=y"]));
        assert!(!other.ok);
        assert!(!run(with(&["delete", "deployment", "x"])).ok);
    });
}

#[test]
fn whoami_and_access_reviews_answer_for_the_caller() {
    let newest = kubectls().pop().unwrap();
    let s = TestServer::start_with(&["--controllers", "clusterrole-aggregation"]);
    let me = newest.ok(
        &s,
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username} {.status.userInfo.groups}",
        ],
    );
    assert_eq!(
        me.trim(),
        "kubernetes-admin [\"system:masters\",\"system:authenticated\"]"
    );
    let alice = newest.ok(
        &s,
        &[
            "auth",
            "whoami",
            "--as",
            "alice",
            "--as-group",
            "dev",
            "-o",
            "jsonpath={.status.userInfo.username} {.status.userInfo.groups}",
        ],
    );
    assert_eq!(alice.trim(), "alice [\"dev\",\"system:authenticated\"]");
    let review = "apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: system:kube-scheduler\n  resourceAttributes: {verb: create, resource: pods, subresource: binding, namespace: default}\n";
    let answer = newest.ok_stdin(
        &s,
        &[
            "create",
            "-f",
            "-",
            "-o",
            "jsonpath={.status.allowed} {.status.reason}",
        ],
        review,
    );
    assert!(
        answer.starts_with("true RBAC: allowed by ClusterRoleBinding \"system:kube-scheduler\""),
        "{answer}"
    );
    let neither =
        "apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: x\n";
    let run = newest.run_stdin(&s, &["create", "-f", "-"], neither);
    assert!(
        run.stderr.contains("spec.resourceAttributes: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_service_account_token_acts_as_its_account_until_the_account_goes() {
    for_oldest_and_newest(|k, s| {
        k.ok(s, &["create", "serviceaccount", "ci"]);
        let token = k.ok(s, &["create", "token", "ci"]);
        let short = k.fails(s, &["create", "token", "ci", "--duration=1m"]);
        assert!(short.contains("spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"), "{short}");
        // A kubeconfig holding nothing but the server, its CA and the token.
        let field = |path: &str| {
            k.ok(
                s,
                &[
                    "config",
                    "view",
                    "--raw",
                    "-o",
                    &format!("jsonpath={{{path}}}"),
                ],
            )
        };
        let kubeconfig = s.dir.path().join(format!("ci-{}.kubeconfig", k.version));
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: ci\n  user:\n    token: {}\ncontexts:\n- name: ci\n  context: {{cluster: c, user: ci}}\ncurrent-context: ci\n",
                field(".clusters[0].cluster.server"),
                field(".clusters[0].cluster.certificate-authority-data"),
                token.trim()
            ),
        )
        .unwrap();
        let denied = k.run_with(&kubeconfig, &["get", "pods"]);
        assert!(
            denied.stderr.contains(
                "User \"system:serviceaccount:default:ci\" cannot list resource \"pods\""
            ),
            "{}",
            denied.stderr
        );
        k.ok(
            s,
            &[
                "create",
                "rolebinding",
                "ci-views",
                "--clusterrole=view",
                "--serviceaccount=default:ci",
            ],
        );
        assert!(k.run_with(&kubeconfig, &["get", "pods"]).ok);
        assert!(
            k.run_with(&kubeconfig, &["get", "--raw", "/openid/v1/jwks"])
                .ok
        );
        // A token bound to a pod lasts as long as the pod.
        let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: job\nspec:\n  serviceAccountName: ci\n  containers:\n  - name: job\n    image: busybox\n";
        k.ok_stdin(s, &["apply", "-f", "-"], pod);
        let bound = k.ok(
            s,
            &[
                "create",
                "token",
                "ci",
                "--bound-object-kind=Pod",
                "--bound-object-name=job",
            ],
        );
        let bound_kubeconfig = s.dir.path().join(format!("job-{}.kubeconfig", k.version));
        let text = std::fs::read_to_string(&kubeconfig)
            .unwrap()
            .replace(token.trim(), bound.trim());
        std::fs::write(&bound_kubeconfig, text).unwrap();
        assert!(k.run_with(&bound_kubeconfig, &["get", "pods"]).ok);
        k.ok(s, &["delete", "pod", "job"]);
        assert!(!k.run_with(&bound_kubeconfig, &["get", "pods"]).ok);
        assert!(
            k.run_with(&kubeconfig, &["get", "pods"]).ok,
            "the unbound token outlives the pod"
        );

        k.ok(s, &["delete", "serviceaccount", "ci"]);
        let gone = k.run_with(&kubeconfig, &["get", "pods"]);
        assert!(
            gone.stderr.contains("You must be logged in to the server"),
            "{}",
            gone.stderr
        );
    });
}
