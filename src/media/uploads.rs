//! The upload flow. `presign` records the file (PENDING) and hands out a URL signed
//! for its id, type, size and expiry; the client `PUT`s the bytes there
//! ([`receive`]); `complete` checks what was stored — the declared size, and the type
//! its first bytes show (a `.png` that is really HTML is refused and removed) — and
//! enqueues processing (PROCESSING); the job records the file's SHA-256 (READY).

use chrono::{DateTime, TimeDelta, Utc};
use entity::{media, user};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Func},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    images,
    kinds::{self, MediaKind},
    processing::{self, Variant},
    storage::Storage,
};
use crate::{
    auth::Caller,
    domain::{effects::Write, new_id, now, text::slugify, validate::Validator},
    error::{AppError, AppResult},
    jobs::Job,
    realtime::Event,
    state::AppState,
};

/// Bytes read to tell a file's real type.
const SNIFF_BYTES: usize = 8192;

/// What becomes of an upload.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema, async_graphql::Enum,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum MediaStatus {
    Pending,
    Processing,
    Ready,
    Failed,
}

impl MediaStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Processing => "PROCESSING",
            Self::Ready => "READY",
            Self::Failed => "FAILED",
        }
    }

    fn parse(stored: &str) -> Self {
        [Self::Pending, Self::Processing, Self::Ready]
            .into_iter()
            .find(|status| status.as_str() == stored)
            .unwrap_or(Self::Failed)
    }
}

/// A file to upload (the seed's request).
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct PresignInput {
    /// The file's name (1–255 characters).
    pub filename: String,
    /// image/jpeg, image/png, image/webp, image/gif, video/mp4, video/webm or application/pdf.
    pub content_type: String,
    /// Its exact size in bytes.
    pub file_size: i64,
}

/// Where and how to upload (the seed's answer, and what the upload must carry).
#[derive(Debug, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct PresignedUpload {
    /// `PUT` the file's bytes here, with the declared `Content-Type` and `Content-Length`.
    pub upload_url: String,
    /// The upload's id: complete it with `POST /api/upload/{fileId}/complete`.
    pub file_id: String,
    /// The file's name in the storage.
    pub key: String,
    /// When the upload URL stops working.
    #[graphql(skip)]
    pub expires_at: DateTime<Utc>,
}

/// An upload as its owner sees it.
#[derive(Debug, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "Media", complex)]
pub struct MediaView {
    #[graphql(skip)]
    pub id: String,
    pub status: MediaStatus,
    pub kind: MediaKind,
    pub content_type: String,
    pub filename: String,
    /// The stored size, once completed.
    pub size: Option<i64>,
    /// Where the file is served, once READY.
    pub url: Option<String>,
    pub sha256: Option<String>,
    /// An image's upright size.
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// A blurred placeholder of an image (blurhash, 4×3 components).
    pub blurhash: Option<String>,
    /// An image's variants, smallest first, once READY.
    pub variants: Vec<VariantView>,
    /// Why the upload failed.
    pub error: Option<String>,
    #[graphql(skip)]
    pub created_at: DateTime<Utc>,
}

/// A variant of an image.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "MediaVariant")]
pub struct VariantView {
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    pub url: String,
}

impl MediaView {
    fn new(state: &AppState, row: &media::Model) -> Self {
        let status = MediaStatus::parse(&row.status);
        Self {
            id: row.id.clone(),
            status,
            kind: MediaKind::parse(&row.kind).unwrap_or(MediaKind::Document),
            content_type: row.content_type.clone(),
            filename: row.filename.clone(),
            size: row.size,
            url: (status == MediaStatus::Ready).then(|| state.media.file_url(&row.storage_key)),
            sha256: row.sha256.clone(),
            width: row.width,
            height: row.height,
            blurhash: row.blurhash.clone(),
            variants: if status == MediaStatus::Ready {
                variant_views(state, row)
            } else {
                Vec::new()
            },
            error: row.error.clone(),
            created_at: row.created_at,
        }
    }
}

/// The variants of the file of `row`, smallest first.
pub(super) fn variant_views(state: &AppState, row: &media::Model) -> Vec<VariantView> {
    serde_json::from_str::<Vec<Variant>>(&row.variants)
        .unwrap_or_default()
        .into_iter()
        .map(|variant| VariantView {
            url: state
                .media
                .file_url(&variant_key(&row.storage_key, &variant)),
            width: variant.width,
            height: variant.height,
            content_type: variant.content_type,
        })
        .collect()
}

/// Where the bytes put to upload URLs wait until their uploads are completed.
const PENDING_PREFIX: &str = "pending/";

/// Where the bytes put to the upload URL of `file_id` wait.
fn pending_key(file_id: &str) -> String {
    format!("{PENDING_PREFIX}{file_id}")
}

/// Where completed uploads and their variants are stored, and served from.
pub const SERVED_PREFIX: &str = "uploads/";

/// The storage name of a file: its name made safe, with the extension of its type.
fn storage_key(user_id: &str, file_id: &str, filename: &str, content_type: &str) -> String {
    let stem = filename.rsplit_once('.').map_or(filename, |(stem, _)| stem);
    let mut name: String = slugify(stem).chars().take(60).collect();
    if name.is_empty() {
        name = "file".to_owned();
    }
    let extension = kinds::extension_of(content_type).unwrap_or("bin");
    format!("{SERVED_PREFIX}{user_id}/{file_id}/{name}.{extension}")
}

/// Records a file to upload and signs its upload URL.
pub async fn presign(
    state: &AppState,
    caller: &Caller,
    input: PresignInput,
) -> AppResult<PresignedUpload> {
    let viewer = caller.viewer()?;
    state.limits.upload.check(&caller.rate_key()).await?;
    let content_type = input.content_type.trim().to_ascii_lowercase();
    let kind = kinds::kind_of(&content_type);
    let mut validator = Validator::default();
    validator.length("filename", &input.filename, 1, 255);
    validator.check(
        "filename",
        !input.filename.chars().any(char::is_control),
        "must not hold control characters",
    );
    validator.check(
        "contentType",
        kind.is_some(),
        format!("must be one of {}", kinds::allowed_list()),
    );
    if let Some(kind) = kind {
        let max = kind.max_bytes(&state.config.media);
        validator.check(
            "fileSize",
            input.file_size > 0 && u64::try_from(input.file_size).is_ok_and(|size| size <= max),
            format!("must be 1 to {max} bytes for this type"),
        );
    }
    validator.finish()?;
    let kind = kind.ok_or_else(|| AppError::field("contentType", "is not allowed"))?;
    ensure_quota(state, &state.writer, &viewer.id, input.file_size).await?;

    let file_id = new_id();
    let key = storage_key(&viewer.id, &file_id, &input.filename, &content_type);
    let created_at = now();
    let ttl = state.config.media.url_ttl();
    let expires_at = created_at + ttl;
    media::Entity::insert(media::ActiveModel {
        id: Set(file_id.clone()),
        user_id: Set(viewer.id.clone()),
        storage_key: Set(key.clone()),
        filename: Set(input.filename),
        content_type: Set(content_type.clone()),
        kind: Set(kind.as_str().to_owned()),
        declared_size: Set(input.file_size),
        size: Set(None),
        sha256: Set(None),
        status: Set(MediaStatus::Pending.as_str().to_owned()),
        width: Set(None),
        height: Set(None),
        blurhash: Set(None),
        variants: Set("[]".to_owned()),
        error: Set(None),
        created_at: Set(created_at),
        completion_started_at: Set(None),
        completed_at: Set(None),
        updated_at: Set(created_at),
    })
    .exec_without_returning(&state.writer)
    .await?;
    let size = u64::try_from(input.file_size).unwrap_or_default();
    let upload_url = state
        .media
        .upload_url(
            &file_id,
            &pending_key(&file_id),
            &content_type,
            size,
            created_at,
            ttl,
        )
        .await?;
    Ok(PresignedUpload {
        upload_url,
        file_id,
        key,
        expires_at,
    })
}

/// The query of a local upload URL.
#[derive(Debug, Deserialize)]
pub struct UploadUrlQuery {
    pub expires: i64,
    pub size: u64,
    pub sig: String,
}

/// Takes the bytes put to a local upload URL: refused unless the URL is signed, not
/// expired, and the request carries the signed type and size; the body is stored only
/// when it has exactly the signed size.
pub async fn receive(
    state: &AppState,
    file_id: &str,
    query: UploadUrlQuery,
    content_type: Option<&str>,
    content_length: Option<u64>,
    body: axum::body::Body,
) -> AppResult<()> {
    let refused = || AppError::Forbidden("The upload URL is invalid or expired");
    let row = media::Entity::find_by_id(file_id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(refused)?;
    let signed = state.media.verify_local_upload(
        file_id,
        query.expires,
        &row.content_type,
        query.size,
        &query.sig,
    );
    if !signed
        || query.expires < Utc::now().timestamp()
        || row.status != MediaStatus::Pending.as_str()
    {
        return Err(refused());
    }
    if content_type.map(str::to_ascii_lowercase).as_deref() != Some(row.content_type.as_str()) {
        return Err(AppError::Forbidden(
            "The upload's Content-Type is not the signed one",
        ));
    }
    match content_length {
        Some(length) if length > query.size => return Err(AppError::PayloadTooLarge),
        Some(length) if length == query.size => {}
        _ => {
            return Err(AppError::field("Content-Length", "must be the signed size"));
        }
    }
    let Storage::Local(local) = &state.media.storage else {
        return Err(refused());
    };
    local
        .write_exactly(&pending_key(file_id), body, query.size)
        .await
}

/// Bytes of `user_id`'s completed uploads.
async fn used_bytes(db: &impl ConnectionTrait, user_id: &str) -> AppResult<i64> {
    let used: Option<Option<i64>> = media::Entity::find()
        .select_only()
        // PostgreSQL sums BIGINT as NUMERIC: cast back.
        .column_as(
            Expr::from(Func::cast_as(
                Expr::col(media::Column::Size).sum(),
                Alias::new("BIGINT"),
            )),
            "used",
        )
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::Status.is_in([
            MediaStatus::Processing.as_str(),
            MediaStatus::Ready.as_str(),
        ]))
        .into_tuple()
        .one(db)
        .await?;
    Ok(used.flatten().unwrap_or(0))
}

/// Refuses `more` bytes that would take `user_id` past the upload quota (counted on
/// `db`).
async fn ensure_quota(
    state: &AppState,
    db: &impl ConnectionTrait,
    user_id: &str,
    more: i64,
) -> AppResult<()> {
    let quota = i64::try_from(state.config.media.upload_quota_bytes).unwrap_or(i64::MAX);
    let used = used_bytes(db, user_id).await?;
    if used.saturating_add(more) > quota {
        return Err(AppError::field(
            "fileSize",
            format!("would take your uploads past the quota of {quota} bytes ({used} used)"),
        ));
    }
    Ok(())
}

/// The caller's upload `file_id` (someone else's is not found).
async fn own_upload(state: &AppState, caller: &Caller, file_id: &str) -> AppResult<media::Model> {
    let viewer = caller.viewer()?;
    media::Entity::find_by_id(file_id.to_owned())
        .filter(media::Column::UserId.eq(&viewer.id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("Upload"))
}

/// Marks `row` FAILED with `reason` and removes the bytes at `key`; its uploader
/// hears of it.
async fn fail(state: &AppState, row: &media::Model, key: &str, reason: &str) -> AppResult<()> {
    state.media.storage.delete(key).await?;
    let mut write = Write::begin(state).await?;
    media::Entity::update_many()
        .col_expr(
            media::Column::Status,
            Expr::value(MediaStatus::Failed.as_str()),
        )
        .col_expr(media::Column::Error, Expr::value(reason))
        .col_expr(media::Column::UpdatedAt, Expr::value(now()))
        .filter(media::Column::Id.eq(&row.id))
        .exec(write.db())
        .await?;
    write.publish(processed(row));
    write.commit().await
}

/// The event that tells `row`'s uploader its processing ended.
fn processed(row: &media::Model) -> Event {
    Event::MediaProcessed {
        user_id: row.user_id.clone(),
        media_id: row.id.clone(),
    }
}

/// Completes the caller's upload: the stored file must have the declared size and be
/// of the declared type (by its first bytes); otherwise it is removed and the upload
/// fails. A good file goes to processing.
pub async fn complete(state: &AppState, caller: &Caller, file_id: &str) -> AppResult<MediaView> {
    let row = own_upload(state, caller, file_id).await?;
    let conflict = |message: &str| AppError::Conflict {
        field: "fileId",
        message: message.into(),
    };
    if row.status != MediaStatus::Pending.as_str() {
        return Err(conflict("The upload is already completed"));
    }
    if !claim_completion(state, &row.id).await? {
        return Err(conflict("The upload is being completed"));
    }
    if let Err(err) = check_and_store(state, &row).await {
        // Completing may be tried again (a refused file has failed the upload already).
        release_completion(state, &row.id).await?;
        return Err(err);
    }
    get(state, caller, file_id).await
}

/// Checks the stored bytes of the PENDING upload `row` (a file not as declared fails
/// the upload and is removed), moves them where they are kept and enqueues their
/// processing.
async fn check_and_store(state: &AppState, row: &media::Model) -> AppResult<()> {
    let storage = &state.media.storage;
    let pending = pending_key(&row.id);
    let Some(size) = storage.size(&pending).await? else {
        return Err(AppError::field("fileId", "nothing was uploaded yet"));
    };
    if i64::try_from(size).ok() != Some(row.declared_size) {
        let reason = format!(
            "the file has {size} bytes, not the declared {}",
            row.declared_size
        );
        fail(state, row, &pending, &reason).await?;
        return Err(AppError::field("fileSize", reason));
    }
    let sniffed = usize::try_from(size).map_or(SNIFF_BYTES, |size| size.min(SNIFF_BYTES));
    let first_bytes = storage.first_bytes(&pending, sniffed).await?;
    if kinds::sniff(&first_bytes) != Some(row.content_type.as_str()) {
        let reason = format!("the file is not a {} file", row.content_type);
        fail(state, row, &pending, &reason).await?;
        return Err(AppError::field("contentType", reason));
    }
    storage.rename(&pending, &row.storage_key).await?;
    let mut write = Write::begin(state).await?;
    // The quota is counted with the uploader's row locked (PostgreSQL; SQLite's write
    // transactions run one at a time anyway), so two uploads completed at once cannot
    // both pass it.
    user::Entity::find_by_id(row.user_id.clone())
        .lock_exclusive()
        .one(write.db())
        .await?;
    if let Err(over) = ensure_quota(state, write.db(), &row.user_id, row.declared_size).await {
        drop(write);
        fail(
            state,
            row,
            &row.storage_key,
            "the upload would pass the quota",
        )
        .await?;
        return Err(over);
    }
    media::Entity::update_many()
        .col_expr(
            media::Column::Status,
            Expr::value(MediaStatus::Processing.as_str()),
        )
        .col_expr(media::Column::Size, Expr::value(row.declared_size))
        .col_expr(media::Column::UpdatedAt, Expr::value(now()))
        .filter(media::Column::Id.eq(&row.id))
        .filter(media::Column::Status.eq(MediaStatus::Pending.as_str()))
        .exec(write.db())
        .await?;
    write
        .enqueue(Job::ProcessMedia {
            media_id: row.id.clone(),
        })
        .await?;
    write.commit().await
}

/// How long a claimed completion keeps others out (its server may have stopped).
const COMPLETION_LEASE: TimeDelta = TimeDelta::minutes(1);

/// Claims the completion of the PENDING upload `id`: false when another request is
/// completing it, or it is no longer PENDING.
async fn claim_completion(state: &AppState, id: &str) -> AppResult<bool> {
    let at = now();
    let claimed = media::Entity::update_many()
        .col_expr(media::Column::CompletionStartedAt, Expr::value(at))
        .filter(media::Column::Id.eq(id))
        .filter(media::Column::Status.eq(MediaStatus::Pending.as_str()))
        .filter(
            media::Column::CompletionStartedAt
                .is_null()
                .or(media::Column::CompletionStartedAt.lt(at - COMPLETION_LEASE)),
        )
        .exec(&state.writer)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Lets the completion of upload `id` go, so it may be tried again.
async fn release_completion(state: &AppState, id: &str) -> AppResult<()> {
    media::Entity::update_many()
        .col_expr(
            media::Column::CompletionStartedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(media::Column::Id.eq(id))
        .exec(&state.writer)
        .await?;
    Ok(())
}

/// The caller's upload.
pub async fn get(state: &AppState, caller: &Caller, file_id: &str) -> AppResult<MediaView> {
    let row = own_upload(state, caller, file_id).await?;
    Ok(MediaView::new(state, &row))
}

/// The `process_media` job: the file's SHA-256 — the same bytes stored before (by
/// anyone) are reused, object and variants — then, for an image, its variants and
/// blurhash (an image that cannot be decoded within the bounds fails the upload).
pub async fn process(state: &AppState, media_id: &str) -> AppResult<()> {
    let Some(row) = media::Entity::find_by_id(media_id.to_owned())
        .one(&state.writer)
        .await?
    else {
        return Ok(());
    };
    if row.status != MediaStatus::Processing.as_str() {
        return Ok(());
    }
    let storage = &state.media.storage;
    // An image is decoded whole anyway; a video or document is only hashed, as it
    // streams by (it may be 100 MB).
    let image = if MediaKind::parse(&row.kind) == Some(MediaKind::Image) {
        Some(storage.read_all(&row.storage_key).await?)
    } else {
        None
    };
    let sha256 = match &image {
        Some(bytes) => hex::encode(Sha256::digest(bytes)),
        None => storage.sha256(&row.storage_key).await?,
    };
    if reuse_stored_copy(state, &row, &sha256).await? {
        return Ok(());
    }
    let mut ready = ready_update(&sha256);
    // What the upload keeps in the storage once processed.
    let mut kept = row.clone();
    if let Some(bytes) = image {
        let processed = tokio::task::spawn_blocking(move || processing::process_image(&bytes))
            .await
            .map_err(|err| AppError::Internal(format!("image processing: {err}")))?;
        let processed = match processed {
            Ok(processed) => processed,
            Err(AppError::Validation(_)) => {
                let reason = "the image cannot be decoded within the limits";
                return fail(state, &row, &row.storage_key, reason).await;
            }
            Err(err) => return Err(err),
        };
        let mut variants = Vec::with_capacity(processed.variants.len());
        for (variant, encoded) in processed.variants {
            storage
                .put(
                    &variant_key(&row.storage_key, &variant),
                    encoded,
                    &variant.content_type,
                )
                .await?;
            variants.push(variant);
        }
        ready.width = Set(i32::try_from(processed.width).ok());
        ready.height = Set(i32::try_from(processed.height).ok());
        ready.blurhash = Set(Some(processed.blurhash));
        kept.variants = serde_json::to_string(&variants)
            .map_err(|err| AppError::Internal(format!("variants: {err}")))?;
        ready.variants = Set(kept.variants.clone());
    }
    let mut write = Write::begin(state).await?;
    if !mark_ready(write.db(), &row.id, ready).await? {
        // Deleted while it was processed: what was written for it goes too.
        drop(write);
        return remove_bytes(state, &kept).await;
    }
    write.publish(processed(&row));
    write.commit().await
}

/// The columns an upload gets when it is READY with bytes of digest `sha256`.
fn ready_update(sha256: &str) -> media::ActiveModel {
    let at = now();
    media::ActiveModel {
        sha256: Set(Some(sha256.to_owned())),
        status: Set(MediaStatus::Ready.as_str().to_owned()),
        completed_at: Set(Some(at)),
        updated_at: Set(at),
        ..Default::default()
    }
}

/// Sets `ready` on upload `id` if it is still PROCESSING; false when it is gone.
async fn mark_ready(
    db: &impl ConnectionTrait,
    id: &str,
    ready: media::ActiveModel,
) -> AppResult<bool> {
    let updated = media::Entity::update_many()
        .set(ready)
        .filter(media::Column::Id.eq(id))
        .filter(media::Column::Status.eq(MediaStatus::Processing.as_str()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Points the PROCESSING upload `row` at a READY upload of the same bytes (digest
/// `sha256`), its object and variants, and removes its own copy; false when there is
/// none. The original is read locked in the write transaction (PostgreSQL; SQLite's
/// write transactions run one at a time anyway), so a delete of it either waits and
/// then sees this upload sharing its object, or goes first and this finds no original.
async fn reuse_stored_copy(state: &AppState, row: &media::Model, sha256: &str) -> AppResult<bool> {
    let Some(candidate) = media::Entity::find()
        .filter(media::Column::Sha256.eq(sha256))
        .filter(media::Column::Status.eq(MediaStatus::Ready.as_str()))
        .filter(media::Column::Id.ne(&row.id))
        .one(&state.writer)
        .await?
    else {
        return Ok(false);
    };
    let mut write = Write::begin(state).await?;
    let Some(original) = media::Entity::find_by_id(candidate.id)
        .filter(media::Column::Status.eq(MediaStatus::Ready.as_str()))
        .lock_exclusive()
        .one(write.db())
        .await?
    else {
        return Ok(false);
    };
    let mut ready = ready_update(sha256);
    ready.storage_key = Set(original.storage_key);
    ready.width = Set(original.width);
    ready.height = Set(original.height);
    ready.blurhash = Set(original.blurhash);
    ready.variants = Set(original.variants);
    if mark_ready(write.db(), &row.id, ready).await? {
        write.publish(processed(row));
        write.commit().await?;
    }
    // Deleted meanwhile or not, its own copy is not needed.
    state.media.storage.delete(&row.storage_key).await?;
    Ok(true)
}

/// The storage name of `variant` of the file stored as `key`.
fn variant_key(key: &str, variant: &Variant) -> String {
    let stem = key.rsplit_once('.').map_or(key, |(stem, _)| stem);
    format!("{stem}{}", variant.suffix)
}

/// Deletes the caller's upload, and the covers and avatar that are it; its stored file
/// and variants go too, unless another upload shares them (the same bytes uploaded
/// again).
pub async fn delete(state: &AppState, caller: &Caller, file_id: &str) -> AppResult<()> {
    let row = own_upload(state, caller, file_id).await?;
    let write = Write::begin(state).await?;
    images::forget(write.db(), &row.id).await?;
    media::Entity::delete_by_id(row.id.clone())
        .exec(write.db())
        .await?;
    write.commit().await?;
    remove_bytes(state, &row).await
}

/// Removes what `row` stored: its pending bytes, and its file and variants unless
/// another upload shares them.
async fn remove_bytes(state: &AppState, row: &media::Model) -> AppResult<()> {
    let storage = &state.media.storage;
    storage.delete(&pending_key(&row.id)).await?;
    let shared = media::Entity::find()
        .filter(media::Column::StorageKey.eq(&row.storage_key))
        .filter(media::Column::Id.ne(&row.id))
        .one(&state.writer)
        .await?
        .is_some();
    if shared {
        return Ok(());
    }
    storage.delete(&row.storage_key).await?;
    let variants: Vec<Variant> = serde_json::from_str(&row.variants).unwrap_or_default();
    for variant in &variants {
        storage
            .delete(&variant_key(&row.storage_key, variant))
            .await?;
    }
    Ok(())
}

/// Uploads still PENDING this long after their URL expired are abandoned.
const ABANDONED_AFTER: TimeDelta = TimeDelta::hours(1);

/// Removes uploads never completed (their URL long expired), with their bytes, and
/// any bytes still waiting that long (a bucket takes a second `PUT` to an upload URL
/// still valid after its upload was completed); returns how many uploads.
pub async fn purge_abandoned(state: &AppState) -> AppResult<u64> {
    let cutoff = now() - state.config.media.url_ttl() - ABANDONED_AFTER;
    let abandoned = media::Entity::find()
        .filter(media::Column::Status.eq(MediaStatus::Pending.as_str()))
        .filter(media::Column::CreatedAt.lt(cutoff))
        .all(&state.writer)
        .await?;
    for row in &abandoned {
        media::Entity::delete_by_id(row.id.clone())
            .exec(&state.writer)
            .await?;
        remove_bytes(state, row).await?;
    }
    let storage = &state.media.storage;
    for key in storage.written_before(PENDING_PREFIX, cutoff).await? {
        storage.delete(&key).await?;
    }
    Ok(abandoned.len() as u64)
}
