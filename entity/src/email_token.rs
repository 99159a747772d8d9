//! `email_tokens`: single-use tokens mailed to an account (verify its address, reset
//! its password, confirm a new address). Only the token's SHA-256 is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    /// VERIFY, RESET or CHANGE_EMAIL.
    pub purpose: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The address a CHANGE_EMAIL token confirms.
    pub new_email: Option<String>,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
