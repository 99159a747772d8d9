//! `email_preferences`: which mail a user wants. A user without a row has the
//! defaults (see the server's `mail::preferences`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    pub follows: bool,
    pub comments: bool,
    pub mentions: bool,
    pub likes: bool,
    pub achievements: bool,
    pub system: bool,
    pub digest: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
