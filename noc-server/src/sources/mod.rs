//! Monitoring systems: who may post ([`file`], [`registry`]), and the shapes
//! they post in. Each shape module maps its body to
//! [`AlertInput`](crate::change::AlertInput)s with a pure function (no I/O,
//! no clock). Their endpoints are in `routes/` and hand the result to the
//! same all-or-nothing write as the webhook.
//!
//! - [`file`]: `--sources-file`, read and checked whole.
//! - [`registry`]: the sources in force, their tokens, when each was last
//!   heard.
//! - [`alertmanager`]: Prometheus Alertmanager and Grafana webhooks,
//!   `POST /internal/alertmanager` (`routes/alertmanager.rs`).
//!
//! (Zabbix needs no endpoint of its own: its media type, in
//! `scripts/zabbix/`, posts to the plain webhook.)

pub mod alertmanager;
pub mod file;
pub mod registry;
