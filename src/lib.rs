//! mkc: a small, real Kubernetes cluster out of Docker containers, with its own control plane.

pub mod apiserver;
pub mod cli;
pub mod cluster;
pub mod controllers;
pub mod crd;
pub mod deadline;
pub mod defaults;
pub mod dns;
pub mod kubeconfig;
pub mod patch;
pub mod pki;
pub mod printers;
pub mod private_files;
pub mod protobuf;
pub mod rbac;
pub mod registry;
pub mod scheduler;
pub mod store;
pub mod validation;
