//! Moderation: suspending, banning and reinstating accounts. Ending an account's
//! sessions takes effect at once on every instance: its tokens stop working and its
//! live connections close.

use entity::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde::Deserialize;

use super::{effects::Write, now, sessions, users};
use crate::{
    auth::{Caller, Role, UserStatus},
    error::{AppError, AppResult},
    state::AppState,
};

/// A new status for an account.
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetStatusInput {
    /// ACTIVE, SUSPENDED or BANNED.
    pub status: UserStatus,
}

/// Sets the status of `username`. MODERATOR and ADMIN may act; only an ADMIN may
/// act on another moderator or admin; nobody on themselves.
pub async fn set_status(
    state: &AppState,
    caller: &Caller,
    username: &str,
    input: SetStatusInput,
) -> AppResult<user::Model> {
    let viewer = caller.viewer()?;
    if !viewer.role.moderates() {
        return Err(AppError::Forbidden(
            "Only moderators may change an account's status",
        ));
    }
    if !matches!(
        input.status,
        UserStatus::Active | UserStatus::Suspended | UserStatus::Banned
    ) {
        return Err(AppError::field(
            "status",
            "must be ACTIVE, SUSPENDED or BANNED",
        ));
    }
    let target = users::find_by_username(&state.db, username).await?;
    if target.id == viewer.id {
        return Err(AppError::Forbidden("You cannot change your own status"));
    }
    let target_role: Role = target.role.parse().unwrap_or(Role::User);
    if target_role.moderates() && viewer.role != Role::Admin {
        return Err(AppError::Forbidden(
            "Only an admin may change a moderator's status",
        ));
    }

    let mut write = Write::begin(state).await?;
    user::Entity::update_many()
        .col_expr(user::Column::Status, Expr::value(input.status.as_str()))
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .filter(user::Column::Id.eq(&target.id))
        .exec(write.db())
        .await?;
    if !input.status.may_act() {
        sessions::end_all_sessions(&mut write, &target.id).await?;
    }
    write.commit().await?;
    user::Entity::find_by_id(target.id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("User"))
}
