//! `/api/admin/jobs`: the job queue for administrators (counts, failures, schedules),
//! and retrying or discarding a dead job.

use aide::axum::{
    ApiRouter,
    routing::{delete_with, get_with, post_with},
};
use axum::{
    Json,
    extract::{Path, State},
};
use serde::Deserialize;

use super::respond::{Done, Envelope, done, ok};
use crate::{
    auth::{Caller, Viewer},
    error::AppResult,
    jobs::monitor::{self, FailedJob, JobStats},
    state::AppState,
};

/// The OpenAPI tag of these routes.
pub const TAG: &str = "Jobs";

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/api/admin/jobs",
            get_with(stats, |op| {
                op.tag(TAG).summary("Job queue status").description(
                    "ADMIN only: per queue the pending, scheduled, running, retrying and dead jobs, those done in the last 24 hours and the oldest pending job's age; the latest failures with their errors; the schedules",
                )
            }),
        )
        .api_route(
            "/api/admin/jobs/{id}/retry",
            post_with(retry, |op| {
                op.tag(TAG)
                    .summary("Retry a dead job")
                    .description("ADMIN only: runs a dead job again now, with one more attempt")
            }),
        )
        .api_route(
            "/api/admin/jobs/{id}",
            delete_with(discard, |op| {
                op.tag(TAG)
                    .summary("Discard a dead job")
                    .description("ADMIN only: deletes a dead job")
            }),
        )
}

#[derive(Deserialize, schemars::JsonSchema)]
struct JobPath {
    id: String,
}

async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
) -> AppResult<Json<Envelope<JobStats>>> {
    Ok(ok(monitor::stats(&state, &caller).await?))
}

async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<JobPath>,
) -> AppResult<Json<Envelope<FailedJob>>> {
    Ok(ok(monitor::retry(&state, &caller, &path.id).await?))
}

async fn discard(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<JobPath>,
) -> AppResult<Json<Done>> {
    monitor::discard(&state, &caller, &path.id).await?;
    Ok(done())
}
