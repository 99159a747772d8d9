//! Uploads (the twins of `/api/upload/*`): ask for an upload URL, complete the
//! upload, read or delete it.

use async_graphql::{ComplexObject, Context, ID, Object, ResultExt};

use super::{context::ContextExt, types::Timestamp};
use crate::media::{
    images::ImageView,
    uploads::{self, MediaView, PresignInput, PresignedUpload},
};

#[ComplexObject]
impl MediaView {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    async fn created_at(&self) -> Timestamp {
        Timestamp(self.created_at)
    }
}

#[ComplexObject]
impl ImageView {
    /// The upload's id.
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }
}

#[ComplexObject]
impl PresignedUpload {
    /// When the upload URL stops working.
    async fn expires_at(&self) -> Timestamp {
        Timestamp(self.expires_at)
    }
}

/// The caller's uploads.
#[derive(Default)]
pub struct UploadQuery;

#[Object]
impl UploadQuery {
    /// The caller's upload: its status, and its URL, variants and blurhash once READY.
    async fn upload(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<MediaView> {
        uploads::get(ctx.state()?, ctx.caller()?, &id)
            .await
            .extend()
    }
}

/// Uploading files.
#[derive(Default)]
pub struct UploadMutation;

#[Object]
impl UploadMutation {
    /// An upload URL for one file: `PUT` its bytes there with the declared
    /// `Content-Type` and `Content-Length`, then `completeUpload`.
    async fn request_upload(
        &self,
        ctx: &Context<'_>,
        input: PresignInput,
    ) -> async_graphql::Result<PresignedUpload> {
        uploads::presign(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()
    }

    /// Checks the uploaded file and starts processing it.
    async fn complete_upload(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<MediaView> {
        uploads::complete(ctx.state()?, ctx.caller()?, &id)
            .await
            .extend()
    }

    /// Deletes the caller's upload; answers its id.
    async fn delete_upload(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        uploads::delete(ctx.state()?, ctx.caller()?, &id)
            .await
            .extend()?;
        Ok(id)
    }
}
