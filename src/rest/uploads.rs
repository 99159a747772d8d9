//! `/api/upload/*`: upload URLs, the local upload target, completion and status; and
//! `/media/*`, where stored files are served.

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, put},
};
use serde::Deserialize;

use super::{
    byte_range::{self, Requested},
    extract::{ApiJson, ApiQuery},
    respond::{Done, Envelope, done, ok},
};
use crate::{
    auth::{Caller, Viewer},
    error::{AppError, AppResult},
    media::{
        CACHE_FOR_GOOD, kinds,
        uploads::{self, MediaView, PresignInput, PresignedUpload, UploadUrlQuery},
    },
    state::AppState,
};

const TAG: &str = "Upload";

/// The path prefix of local upload URLs (exempt from the request body limit: the
/// upload enforces its own signed size).
pub const LOCAL_UPLOAD_PREFIX: &str = "/api/upload/local/";

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/api/upload/presigned-url",
            post_with(presign, |op| {
                op.tag(TAG).summary("Get presigned upload URL").description(
                    "Get a URL to PUT one file to, signed for its type, size and a short time; then complete the upload",
                )
            }),
        )
        .api_route(
            "/api/upload/{fileId}/complete",
            post_with(complete, |op| {
                op.tag(TAG).summary("Complete an upload").description(
                    "Check the uploaded file (its size, and its real type from its first bytes) and start processing it; a file that is not what was declared is removed",
                )
            }),
        )
        .api_route(
            "/api/upload/{fileId}",
            get_with(status, |op| {
                op.tag(TAG)
                    .summary("Upload status")
                    .description("The caller's upload: PENDING, PROCESSING, READY or FAILED, with its URL once READY")
            })
            .delete_with(remove, |op| {
                op.tag(TAG).summary("Delete an upload").description(
                    "Delete the caller's upload; its file and variants go too unless another upload shares them",
                )
            }),
        )
        .route("/api/upload/local/{fileId}", put(receive))
        .route("/media/{*key}", get(serve))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FilePath {
    file_id: String,
}

async fn presign(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    ApiJson(input): ApiJson<PresignInput>,
) -> AppResult<Json<Envelope<PresignedUpload>>> {
    Ok(ok(uploads::presign(&state, &caller, input).await?))
}

async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<FilePath>,
) -> AppResult<Json<Envelope<MediaView>>> {
    Ok(ok(uploads::complete(&state, &caller, &path.file_id).await?))
}

async fn status(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<FilePath>,
) -> AppResult<Json<Envelope<MediaView>>> {
    Ok(ok(uploads::get(&state, &caller, &path.file_id).await?))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<FilePath>,
) -> AppResult<Json<Done>> {
    uploads::delete(&state, &caller, &path.file_id).await?;
    Ok(done())
}

async fn receive(
    State(state): State<AppState>,
    Path(file_id): Path<String>,
    ApiQuery(query): ApiQuery<UploadUrlQuery>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<Done>> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
    };
    let content_length = header(header::CONTENT_LENGTH).and_then(|value| value.parse().ok());
    uploads::receive(
        &state,
        &file_id,
        query,
        header(header::CONTENT_TYPE),
        content_length,
        body,
    )
    .await?;
    Ok(done())
}

/// Serves a stored file of a completed upload (or one of its variants), with the
/// type of its extension (checked against its first bytes on completion, or written
/// by the server). Bytes of uploads not completed yet live elsewhere and are never
/// served.
async fn serve(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let not_found = || AppError::NotFound("File");
    if !key.starts_with(uploads::SERVED_PREFIX) {
        return Err(not_found());
    }
    let content_type = key
        .rsplit_once('.')
        .and_then(|(_, extension)| kinds::content_type_of_extension(extension))
        .ok_or_else(not_found)?;
    let storage = &state.media.storage;
    let size = storage.size(&key).await?.ok_or_else(not_found)?;
    let range = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    let (status, range) = match byte_range::requested(range, size) {
        Requested::Whole => (StatusCode::OK, 0..size),
        Requested::Part(range) => (StatusCode::PARTIAL_CONTENT, range),
        Requested::Unsatisfiable => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{size}"))],
            )
                .into_response());
        }
    };
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(CACHE_FOR_GOOD),
            ),
            (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
            // Uploaded files are never a page: nothing in one runs (a PDF's scripts).
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
            (
                header::CONTENT_LENGTH,
                HeaderValue::from(range.end - range.start),
            ),
        ],
        storage.body(&key, range.clone()).await?,
    )
        .into_response();
    if status == StatusCode::PARTIAL_CONTENT {
        let content_range = format!("bytes {}-{}/{size}", range.start, range.end - 1);
        if let Ok(value) = HeaderValue::from_str(&content_range) {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
    }
    Ok(response)
}
