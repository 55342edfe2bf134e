//! Monitoring systems that post in their own shapes: each module maps one
//! shape to [`AlertInput`](crate::change::AlertInput)s with a pure function
//! (no I/O, no clock). Their endpoints are in `routes/` and hand the result
//! to the same all-or-nothing write as the webhook.
//!
//! - [`alertmanager`]: Prometheus Alertmanager and Grafana webhooks,
//!   `POST /internal/alertmanager` (`routes/alertmanager.rs`).
//!
//! (Zabbix needs no endpoint of its own: its media type, in
//! `scripts/zabbix/`, posts to the plain webhook.)

pub mod alertmanager;
