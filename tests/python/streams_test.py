"""The official Python client's exec and port-forward against a pod of a cluster on Docker.

The client streams over WebSockets only (v4.channel.k8s.io): exec with stdout, stderr, stdin
and the exit code, and port-forward carrying an HTTP request to nginx in the pod. The pod is
named by MKC_POD (namespace default); KUBECONFIG points at the cluster.
"""

import os
import unittest

from kubernetes import client, config
from kubernetes.stream import portforward, stream

POD = os.environ["MKC_POD"]


class Streams(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        config.load_kube_config()
        cls.api = client.CoreV1Api()

    def exec(self, command, **options):
        return stream(
            self.api.connect_get_namespaced_pod_exec,
            POD,
            "default",
            command=command,
            stdout=True,
            stderr=True,
            tty=False,
            **options,
        )

    def test_exec_returns_the_output(self):
        out = self.exec(["sh", "-c", "echo out; echo err >&2"], stdin=False)
        self.assertIn("out\n", out)
        self.assertIn("err\n", out)

    def test_exec_reports_the_exit_code(self):
        resp = self.exec(["sh", "-c", "exit 3"], stdin=False, _preload_content=False)
        resp.run_forever(timeout=30)
        self.assertEqual(resp.returncode, 3)

    def test_exec_passes_stdin(self):
        resp = self.exec(["head", "-c", "6"], stdin=True, _preload_content=False)
        resp.write_stdin("hello\n")
        out = ""
        while resp.is_open():
            resp.update(timeout=5)
            out += resp.read_stdout()
        self.assertEqual(out, "hello\n")
        self.assertEqual(resp.returncode, 0)

    def test_port_forward_carries_http(self):
        forward = portforward(
            self.api.connect_get_namespaced_pod_portforward,
            POD,
            "default",
            ports="80",
        )
        sock = forward.socket(80)
        sock.setblocking(True)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n")
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        sock.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer[:200])
        self.assertIsNone(forward.error(80))
        forward.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
