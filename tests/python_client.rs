//! The official Python `kubernetes` client against `mkc server`: create, read, list, patch,
//! replace, delete and watch (tests/python/client_test.py), run with the real interpreter:
//! `MKC_PYTHON` when set (test.sh points it at a virtual environment of its own), else python3.

mod common;

use std::process::Command;

use common::TestServer;

#[test]
fn the_python_client_works_unchanged() {
    let server = TestServer::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_test.py");
    let python = std::env::var("MKC_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = Command::new(&python)
        .arg(script)
        .env("KUBECONFIG", &server.kubeconfig)
        .output()
        .unwrap_or_else(|e| panic!("run {python}: {e}"));
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client tests failed:\n{report}"
    );
    assert!(report.contains("Ran 6 tests"), "{report}");
}
