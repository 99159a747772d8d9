//! `mails`: every mail from the moment it is queued, what became of it, the links it
//! carried and how often it was opened and clicked.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The account the mail is for.
    pub user_id: String,
    pub to_address: String,
    /// What the mail is: `welcome`, `password_reset`, `new_follower`, `weekly_digest`, …
    pub kind: String,
    /// The preference that allows it (none for transactional mail).
    pub category: Option<String>,
    /// Account mail (verification, reset, address change): always sent, never
    /// counted against the recipient's daily limit.
    pub transactional: bool,
    /// The template's data, as JSON.
    #[sea_orm(column_type = "Text")]
    pub data: String,
    #[sea_orm(unique)]
    pub dedupe_key: Option<String>,
    /// QUEUED, DEFERRED, SENT or SKIPPED.
    pub status: String,
    /// The transport that accepted it (credentials masked).
    pub transport: Option<String>,
    /// The URLs the mail linked to (JSON array): its click redirects lead only there.
    #[sea_orm(column_type = "Text")]
    pub links: String,
    pub open_count: i32,
    pub click_count: i32,
    pub opened_at: Option<DateTimeUtc>,
    pub clicked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
