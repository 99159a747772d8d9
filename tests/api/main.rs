//! One integration-test binary: every module drives the real router over a real database.

mod auth;
mod cli;
mod cluster;
mod comments;
mod concurrency;
mod contract;
mod contract_check;
mod demo;
mod email;
mod graphql;
mod hardening;
mod jobs;
mod live;
mod notifications;
mod operations;
mod plans;
mod posts;
mod reactions;
mod social;
mod storage;
mod support;
mod uploads;
mod users;
mod ws_client;
