//! Kubernetes manifests: loading with source positions (multi-document
//! YAML, `List`, JSON), the workload → pod template → container model, CPU
//! quantities, and the manifest rules RL701–RL705.
