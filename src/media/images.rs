//! Uploaded images used elsewhere: a post's cover and an account's avatar may name one
//! of their owner's READY image uploads by its id instead of an outside URL. The URL
//! column keeps the image's address (so every view of a post or account shows it),
//! the media column names the upload, so views can show its size, blurhash and
//! variants; deleting the upload clears both.

use std::collections::HashMap;

use entity::{media, post, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, prelude::Expr};
use serde::Serialize;

use super::{
    kinds::MediaKind,
    uploads::{MediaStatus, VariantView, variant_views},
};
use crate::{
    domain::text::trimmed_non_empty,
    error::{AppError, AppResult},
    state::AppState,
};

/// An uploaded image as anyone sees it where it is used.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "Image", complex)]
pub struct ImageView {
    /// The upload's id.
    #[graphql(skip)]
    pub id: String,
    pub url: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// A blurred placeholder (blurhash, 4×3 components).
    pub blurhash: Option<String>,
    /// Smaller copies, smallest first.
    pub variants: Vec<VariantView>,
}

impl ImageView {
    fn new(state: &AppState, row: &media::Model) -> Self {
        Self {
            id: row.id.clone(),
            url: state.media.file_url(&row.storage_key),
            width: row.width,
            height: row.height,
            blurhash: row.blurhash.clone(),
            variants: variant_views(state, row),
        }
    }
}

/// Whether `value` has the shape of an upload's id (rather than of a URL).
pub fn is_media_id(value: &str) -> bool {
    uuid::Uuid::try_parse(value.trim()).is_ok()
}

/// A new image for a field: an outside URL, or one of the owner's uploads (neither:
/// no image).
#[derive(Default)]
pub struct ImageChoice {
    pub url: Option<String>,
    pub media_id: Option<String>,
}

/// What `value`, given for `field` by account `owner_id`, sets: nothing when it is
/// absent, no image when empty, an outside URL (validated before), or the owner's
/// READY image upload of that id.
pub async fn choose(
    state: &AppState,
    owner_id: &str,
    field: &str,
    value: Option<String>,
) -> AppResult<Option<ImageChoice>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let Some(value) = trimmed_non_empty(Some(value)) else {
        return Ok(Some(ImageChoice::default()));
    };
    if !is_media_id(&value) {
        return Ok(Some(ImageChoice {
            url: Some(value),
            media_id: None,
        }));
    }
    let upload = media::Entity::find_by_id(value)
        .filter(media::Column::UserId.eq(owner_id))
        .filter(media::Column::Kind.eq(MediaKind::Image.as_str()))
        .filter(media::Column::Status.eq(MediaStatus::Ready.as_str()))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::field(field, "is not one of your uploaded images (READY)"))?;
    Ok(Some(ImageChoice {
        url: Some(state.media.file_url(&upload.storage_key)),
        media_id: Some(upload.id),
    }))
}

/// The READY images of `ids`, by id, in one statement (none for no ids).
pub async fn images_by_ids(
    state: &AppState,
    ids: &[String],
) -> AppResult<HashMap<String, ImageView>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = media::Entity::find()
        .filter(media::Column::Id.is_in(ids.iter().cloned()))
        .filter(media::Column::Status.eq(MediaStatus::Ready.as_str()))
        .all(&state.db)
        .await?;
    Ok(rows
        .iter()
        .map(|row| (row.id.clone(), ImageView::new(state, row)))
        .collect())
}

/// Clears every cover and avatar that is upload `media_id` (it is being deleted).
pub async fn forget(db: &impl ConnectionTrait, media_id: &str) -> AppResult<()> {
    post::Entity::update_many()
        .col_expr(post::Column::CoverImage, Expr::value(None::<String>))
        .col_expr(post::Column::CoverMediaId, Expr::value(None::<String>))
        .filter(post::Column::CoverMediaId.eq(media_id))
        .exec(db)
        .await?;
    user::Entity::update_many()
        .col_expr(user::Column::Image, Expr::value(None::<String>))
        .col_expr(user::Column::ImageMediaId, Expr::value(None::<String>))
        .filter(user::Column::ImageMediaId.eq(media_id))
        .exec(db)
        .await?;
    Ok(())
}
