//! Sparkle Universe API: one server, two API styles (GraphQL for the app, REST with
//! OpenAPI for third parties) over one domain layer.
//!
//! A request flows `app` (layers) → `rest` or `graphql` (thin adapters) → `domain`
//! (rules, validation, authorization) → `entity` rows through Sea-ORM.

pub mod app;
/// Password hashing, tokens, roles and the caller of a request.
pub mod auth;
pub mod config;
pub mod db;
/// The shared resolvers called by both APIs.
pub mod domain;
pub mod error;
pub mod graphql;
pub mod html;
pub mod jobs;
/// Per-client rate limits.
pub mod limits;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod raw_input;
pub mod realtime;
pub mod request_log;
pub mod rest;
pub mod seed;
pub mod server;
pub mod signing;
pub mod state;

pub use app::app;
pub use config::Config;
pub use state::AppState;
