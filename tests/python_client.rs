//! The official Python `kubernetes` client against `mkc server`: create, read, list, patch,
//! replace, delete and watch (tests/python/client_test.py), run with the real interpreter.

mod common;

use std::process::Command;

use common::TestServer;

#[test]
fn the_python_client_works_unchanged() {
    let server = TestServer::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_test.py");
    let output = Command::new("python3")
        .arg(script)
        .env("KUBECONFIG", &server.kubeconfig)
        .output()
        .expect("run python3");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client tests failed:\n{report}"
    );
    assert!(report.contains("Ran 4 tests"), "{report}");
}
