//! The NOC alert server: monitoring systems post alerts, the server stores
//! them durably and pushes every change to the connected wall screens.
//!
//! # Layout
//!
//! Data flows one way: a change comes in through [`routes`], goes down
//! through the [`writer`] into the [`store`], and its [`event`] comes back
//! up through the [`hub`] to each [`screen`]. A module lower in this list
//! never imports one above it.
//!
//! - [`server`]: [`run`], the one seam that `main` and the tests share:
//!   builds the parts, serves, and shuts down within one 5 s deadline.
//! - [`routes`]: the HTTP surface ([`routes::app`], [`routes::AppState`]):
//!   webhook, REST API, Alertmanager webhook, WebSocket admission, health,
//!   metrics, the browser screen; extractors and the JSON body.
//! - [`error`]: [`error::ApiError`], the one error of the HTTP boundary.
//! - [`reload`]: SIGHUP reads the users, sites, screens and sources files
//!   again.
//! - [`demo`]: `--demo`'s made-up alerts through the writer, its site
//!   groups and profiles.
//! - [`liveness`]: the sources' signs of life saved, and the server's
//!   `source-silent-<name>` alert raised and resolved, through the writer.
//! - [`writeback`]: operators' actions told to the source the alert came
//!   from: the Zabbix and Alertmanager clients, and the worker that sends
//!   the outbox's rows through the writer's way down.
//! - [`silencing`]: the silence clock: when a silence starts or ends,
//!   one write marks or unmarks the alerts it matches.
//! - [`clock`]: what is due at a time (a `ttl`, an ack's expiry) fired
//!   through the writer at that time; its [`clock::Timer`]s and the
//!   [`clock::Alarm`] that wakes it.
//! - [`screen`]: a wall screen's connection once admitted: its state
//!   machine, its IO, heartbeats and `rtt_ms`, its rate limit, close codes;
//!   and the list of connected screens.
//! - [`profiles`]: screen profiles by name, one set kept in the store
//!   (screens file and API), their validation, and the notices that carry
//!   a change (or an identify) to the screens of that name.
//! - [`writer`]: the single writer task: group commit, then publish;
//!   [`writer::Writer::ingest`] is the one way down for every sender.
//! - [`retention`]: `--keep-resolved`: old resolved alerts deleted in
//!   small batches.
//! - [`hub`]: the fan-out: offer each event only to the screens that want
//!   it, resync the ones that fell behind; implements [`event::Publish`].
//! - [`outlet`]: a screen's outgoing bytes: written straight to its socket
//!   from the hub's task when nothing waits, queued (in order) otherwise.
//! - [`store`]: durable storage behind the [`store::Store`] trait (SQLite,
//!   PostgreSQL and its followers of events and screen news).
//! - [`sources`]: monitoring systems: the sources file, their tokens and
//!   when each was last heard; their own webhook bodies (Alertmanager,
//!   Grafana) mapped to alert changes, purely.
//! - [`silence`]: silences, purely: a posted silence validated, its
//!   matchers compiled, which silence hides an alert, and
//!   [`silence::mark`], which the store's write path applies to every op.
//! - [`change`]: the change itself: [`change::AlertInput`] validated from
//!   JSON, [`change::WriteOp`] (an [`change::Actor`] and its
//!   [`change::Action`]), and the pure [`change::apply`] (the life of an
//!   alert: order, expiry, ownership, acks, notes) and history's `changes`;
//!   [`change::flap`], the flapping rule and the step the store applies
//!   to every op's result (its end is due on the [`clock`]).
//! - [`event`]: a committed [`event::Event`], its [`event::Frame`]
//!   (serialized and framed once), and the [`event::Publish`] seam; screen
//!   news and its [`event::Announce`] seam.
//! - [`config`] also holds [`config::Live`], a file's value a reload
//!   replaces.
//! - [`auth`], [`sites`]: tokens and users; site groups.
//! - [`socket`], [`tls`]: plain TCP connections whose write side the hub
//!   can share; HTTPS and WSS without a proxy.
//! - [`config`], [`metrics`]: the flags; the Prometheus counters.
//!
//! # Where a behaviour lives
//!
//! - A webhook or API write: `routes/alerts.rs` → [`writer`] → [`store`];
//!   what it does to the alert (create, update, resolve, re-open, ack):
//!   [`change::apply`] (`change/life.rs`); what a body may hold:
//!   `change/input.rs`; an ack made in the source (Zabbix's `ack`):
//!   `change/source_ack.rs`; the history row and note written with each event:
//!   `store/sql.rs`.
//! - Who may do what: [`auth`] (sources: `sources/registry.rs`); how a
//!   request shows its token: `routes/extract.rs`.
//! - Which screens get an event: [`hub`]; the snapshot, `lagged` resyncs
//!   and the seq rules at the boundary: [`outlet`] and
//!   `screen/connection.rs`.
//! - Heartbeats, `rtt_ms`, silent and stalled screens, close codes:
//!   `screen/connection.rs` and `screen/heartbeat.rs`; the message rate:
//!   `screen/rate.rs`; screens, origins and site counts refused at the
//!   door: `routes/ws.rs`.
//! - Silences: what one may hold and which hides an alert: [`silence`];
//!   their rows: `store/silences.rs`; `silenced_by` on every write:
//!   `store/sql.rs` calling [`silence::mark`], and in bulk for the clock:
//!   `store/silence_writes.rs`; starts and ends on the
//!   clock: [`silencing`]; the API: `routes/silences.rs`.
//! - Several instances on one PostgreSQL: `store/postgres.rs`; the events
//!   of the others: `store/postgres/follow.rs`; their profile news:
//!   `store/news.rs`.
//! - Flapping: the rule and [`change::flap::follow`], which `store/sql.rs`
//!   applies to every op, turning a change of
//!   the flag into a second event of the op; its end due on the [`clock`]
//!   (`store/due.rs`, with expiries and ack lapses).
//! - Paging resolved alerts: `store/sql.rs` (`list_resolved`); deleting
//!   old ones: [`retention`] and `store/retention.rs`.
//! - A screen's profile: set through `routes/screens.rs` → [`profiles`]
//!   → [`store`]; followed by the screen in `screen/connection.rs`, its
//!   filter in `screen/profile.rs`; the screens file: `profiles/file.rs`;
//!   SIGHUP: [`reload`].
//! - Write-back to the source: queued in the action's own write
//!   (`store/outbox.rs`), sent by `writeback/worker.rs`.
//! - Expiry and ack lapses on time, once across instances: [`clock`].
//! - Shutdown and its 5 s: [`server`].

pub mod auth;
pub mod change;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod event;
pub mod hub;
pub mod liveness;
pub mod metrics;
pub mod outlet;
pub mod profiles;
pub mod reload;
pub mod retention;
pub mod routes;
pub mod screen;
pub mod server;
pub mod silence;
pub mod silencing;
pub mod sites;
pub mod socket;
pub mod sources;
pub mod store;
pub mod tls;
pub mod writeback;
pub mod writer;

pub use server::run;
