//! `users`: accounts. `username_lower` makes usernames unique without regard to case.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub email: String,
    pub username: String,
    #[sea_orm(unique)]
    pub username_lower: String,
    pub password_hash: String,
    /// One of USER, CREATOR, VERIFIED_CREATOR, MODERATOR, ADMIN.
    pub role: String,
    /// One of PENDING_VERIFICATION, ACTIVE, SUSPENDED, BANNED, DELETED.
    pub status: String,
    pub level: i32,
    pub experience: i64,
    pub image: Option<String>,
    /// The uploaded image the avatar is, if it is one of the account's uploads.
    pub image_media_id: Option<String>,
    pub bio: Option<String>,
    pub email_verified: bool,
    /// Raised to end every open session at once (logout everywhere, ban); access
    /// tokens carry the version they were issued under.
    pub session_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::post::Entity")]
    Post,
    #[sea_orm(has_one = "super::profile::Entity")]
    Profile,
}

impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

impl Related<super::profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Profile.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
