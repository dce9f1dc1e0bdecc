"""The official Python `kubernetes` client against a running `mkc server`.

Run by tests/python_client.rs with KUBECONFIG pointing at the server's admin kubeconfig.
"""

import json
import os
import threading
import time
import unittest

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = "python"


def configmap(name, data):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels={"suite": "python"}), data=data)


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        config.load_kube_config(config_file=os.environ["KUBECONFIG"])
        cls.core = client.CoreV1Api()
        cls.apps = client.AppsV1Api()
        cls.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))

    def test_configmap_lifecycle(self):
        created = self.core.create_namespaced_config_map(NS, configmap("life", {"a": "1"}))
        self.assertEqual(created.data, {"a": "1"})
        self.assertTrue(created.metadata.uid)

        read = self.core.read_namespaced_config_map("life", NS)
        self.assertEqual(read.metadata.resource_version, created.metadata.resource_version)

        listed = self.core.list_namespaced_config_map(NS, label_selector="suite=python")
        self.assertIn("life", [c.metadata.name for c in listed.items])

        patched = self.core.patch_namespaced_config_map("life", NS, {"data": {"b": "2"}})
        self.assertEqual(patched.data, {"a": "1", "b": "2"})

        patched.data["c"] = "3"
        replaced = self.core.replace_namespaced_config_map("life", NS, patched)
        self.assertEqual(replaced.data, {"a": "1", "b": "2", "c": "3"})

        stale = read
        stale.data = {"stale": "yes"}
        with self.assertRaises(ApiException) as conflict:
            self.core.replace_namespaced_config_map("life", NS, stale)
        self.assertEqual(conflict.exception.status, 409)

        self.core.delete_namespaced_config_map("life", NS)
        with self.assertRaises(ApiException) as missing:
            self.core.read_namespaced_config_map("life", NS)
        self.assertEqual(missing.exception.status, 404)

    def test_deletes_answer_with_what_the_client_expects(self):
        # The client validates the body each delete answers: the deleted object for
        # Services, ServiceAccounts and pods, a Status for most other kinds.
        service = client.V1Service(
            metadata=client.V1ObjectMeta(name="gone"),
            spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)]),
        )
        self.core.create_namespaced_service(NS, service)
        deleted = self.core.delete_namespaced_service("gone", NS)
        self.assertEqual(deleted.metadata.name, "gone")
        self.core.create_namespaced_service_account(NS, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="robot")))
        deleted = self.core.delete_namespaced_service_account("robot", NS)
        self.assertEqual(deleted.metadata.name, "robot")
        pod = client.V1Pod(
            metadata=client.V1ObjectMeta(name="unbound"),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
        )
        self.core.create_namespaced_pod(NS, pod)
        deleted = self.core.delete_namespaced_pod("unbound", NS)
        self.assertEqual(deleted.metadata.name, "unbound")

    def test_a_namespace_has_its_default_service_account_and_ca(self):
        deadline = time.monotonic() + 5
        while True:
            try:
                account = self.core.read_namespaced_service_account("default", NS)
                ca = self.core.read_namespaced_config_map("kube-root-ca.crt", NS)
                break
            except ApiException as e:
                self.assertEqual(e.status, 404)
                self.assertLess(time.monotonic(), deadline, "no default ServiceAccount or CA yet")
                time.sleep(0.1)
        self.assertEqual(account.metadata.name, "default")
        self.assertIn("BEGIN CERTIFICATE", ca.data["ca.crt"])

    def test_deployment_create_scale_and_delete(self):
        body = client.V1Deployment(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1DeploymentSpec(
                replicas=2,
                selector=client.V1LabelSelector(match_labels={"app": "web"}),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels={"app": "web"}),
                    spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.25")]),
                ),
            ),
        )
        created = self.apps.create_namespaced_deployment(NS, body)
        self.assertEqual(created.spec.strategy.type, "RollingUpdate")
        self.assertEqual(created.metadata.generation, 1)
        scale = self.apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 4}})
        self.assertEqual(scale.spec.replicas, 4)
        self.assertEqual(self.apps.read_namespaced_deployment("web", NS).spec.replicas, 4)
        self.apps.delete_namespaced_deployment("web", NS, propagation_policy="Background")
        names = [d.metadata.name for d in self.apps.list_namespaced_deployment(NS).items]
        self.assertNotIn("web", names)

    def test_invalid_objects_are_rejected_with_causes(self):
        with self.assertRaises(ApiException) as invalid:
            self.core.create_namespaced_config_map(NS, configmap("Not_Valid", {}))
        self.assertEqual(invalid.exception.status, 422)
        status = json.loads(invalid.exception.body)
        self.assertTrue(status["message"].startswith('ConfigMap "Not_Valid" is invalid: metadata.name: Invalid value'))
        self.assertEqual(status["details"]["causes"][0]["field"], "metadata.name")

    def test_watch_sees_changes(self):
        start = self.core.list_namespaced_config_map(NS).metadata.resource_version
        seen = []

        def follow():
            w = watch.Watch()
            for event in w.stream(self.core.list_namespaced_config_map, NS, resource_version=start, timeout_seconds=20):
                seen.append((event["type"], event["object"].metadata.name))
                if event["type"] == "DELETED":
                    w.stop()

        follower = threading.Thread(target=follow)
        follower.start()
        self.core.create_namespaced_config_map(NS, configmap("watched", {"x": "1"}))
        self.core.patch_namespaced_config_map("watched", NS, {"data": {"x": "2"}})
        self.core.delete_namespaced_config_map("watched", NS)
        follower.join(timeout=30)
        self.assertEqual(seen, [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
