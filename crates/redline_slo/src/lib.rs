//! `redline slo`: SLO specs (Sloth `prometheus/v1`, Sloth's Kubernetes
//! resources and `AlertWindows`, OpenSLO v1), their
//! validation, Prometheus rule generation, error budgets from a
//! Prometheus-compatible HTTP API, the deploy gate and the HTML report.

pub mod alertwindows;
pub mod calendar;
pub mod check;
pub mod cli;
pub mod config;
pub mod duration;
pub mod events;
pub mod openslo;
pub mod operator;
pub mod plugins;
pub mod prom;
pub mod prometheus_rules;
pub mod report;
pub mod spec;
pub mod status;
pub mod trace;
pub mod windows;
pub mod yaml;
