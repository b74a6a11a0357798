//! The Kubernetes platform, checked against the code it deploys: every rendered overlay's
//! names, ports, variables, images and pod hardening agree with the services' own options
//! (`manifests`), and the `smoke` overlay's pods run under podman and answer a job exactly as
//! the embedded mode does (`smoke`, run by scripts/smoke.sh); every PromQL expression of the
//! dashboards and rules names only what the services export (`promql`).
//!
//! Schemas (kubernetes-validate, the strict CRD schemas), yamllint, NetworkPolicy reachability
//! (nca) and the autoscaling replay live beside this: scripts/check-deploy.sh and
//! `e2e/tests/e2e/autoscaling.rs`.

#![allow(clippy::unwrap_used)] // a failed step should just fail the test

mod env;
mod manifests;
mod promql;
