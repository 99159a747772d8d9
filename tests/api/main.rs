//! One integration-test binary: every module drives the real router over a real database.

mod auth;
mod contract;
mod contract_check;
mod graphql;
mod posts;
mod support;
mod users;
