//! mkc: a small, real Kubernetes cluster out of Docker containers, with its own control plane.

pub mod store;
