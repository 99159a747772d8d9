//! Open and click tracking through signed links, and the statistics per kind of mail.
//!
//! The open pixel's link signs the mail's id; a click link signs the mail's id and
//! the URL it leads to, and the redirect only goes to a URL the mail itself carried,
//! so a link can neither be forged, moved to another mail, nor turned into an open
//! redirect.

use entity::mail;
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;

use super::{MailService, query_value};
use crate::{
    auth::Caller,
    domain::now,
    error::{AppError, AppResult},
    jobs::monitor::ensure_admin,
    state::AppState,
};

/// The open-tracking pixel of mail `mail_id`.
pub fn open_url(service: &MailService, mail_id: &str) -> String {
    let signature = service.signer.sign("open", &[mail_id]);
    service.api_link(&format!("/api/mail/open/{mail_id}?sig={signature}"))
}

/// The tracked form of `url` in mail `mail_id`.
pub fn click_url(service: &MailService, mail_id: &str, url: &str) -> String {
    let signature = service.signer.sign("click", &[mail_id, url]);
    service.api_link(&format!(
        "/api/mail/click/{mail_id}?url={}&sig={signature}",
        query_value(url)
    ))
}

fn refused() -> AppError {
    AppError::NotFound("Tracked link")
}

/// Counts an open of mail `mail_id`, if `signature` is the pixel's.
pub async fn record_open(state: &AppState, mail_id: &str, signature: &str) -> AppResult<()> {
    if !state.mail.signer.verify("open", &[mail_id], signature) {
        return Err(refused());
    }
    let at = now();
    mail::Entity::update_many()
        .col_expr(
            mail::Column::OpenCount,
            Expr::col(mail::Column::OpenCount).add(1),
        )
        .col_expr(
            mail::Column::OpenedAt,
            Expr::col(mail::Column::OpenedAt).if_null(at),
        )
        .filter(mail::Column::Id.eq(mail_id))
        .exec(&state.writer)
        .await?;
    Ok(())
}

/// Counts a click of `url` in mail `mail_id` and returns where to redirect: only a
/// URL signed for this mail and carried by it.
pub async fn follow_click(
    state: &AppState,
    mail_id: &str,
    url: &str,
    signature: &str,
) -> AppResult<String> {
    if !state
        .mail
        .signer
        .verify("click", &[mail_id, url], signature)
    {
        return Err(refused());
    }
    let row = mail::Entity::find_by_id(mail_id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(refused)?;
    let links: Vec<String> = serde_json::from_str(&row.links).unwrap_or_default();
    if !links.iter().any(|link| link == url) {
        return Err(refused());
    }
    let at = now();
    mail::Entity::update_many()
        .col_expr(
            mail::Column::ClickCount,
            Expr::col(mail::Column::ClickCount).add(1),
        )
        .col_expr(
            mail::Column::ClickedAt,
            Expr::col(mail::Column::ClickedAt).if_null(at),
        )
        .filter(mail::Column::Id.eq(mail_id))
        .exec(&state.writer)
        .await?;
    Ok(url.to_owned())
}

/// What became of the mails of one kind.
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    schemars::JsonSchema,
    async_graphql::SimpleObject,
)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "MailKindStats")]
pub struct MailKindStats {
    /// welcome, verify_email, password_reset, confirm_new_email, email_changed,
    /// new_follower, comment, mention, post_liked, comment_liked, achievement,
    /// level_up, system_notice or weekly_digest.
    pub kind: String,
    /// Mails the server set out to send.
    pub sent: i64,
    /// Taken by a transport.
    pub delivered: i64,
    /// Waiting for a limit's window to end.
    pub deferred: i64,
    /// Not sent: the recipient may not, or does not want to, get them.
    pub skipped: i64,
    /// Mails opened at least once.
    pub opened: i64,
    /// Mails with at least one click.
    pub clicked: i64,
}

#[derive(FromQueryResult)]
struct KindStatusCount {
    kind: String,
    status: String,
    mails: i64,
    opened: i64,
    clicked: i64,
}

/// The statistics per kind of mail (ADMIN).
pub async fn stats(state: &AppState, caller: &Caller) -> AppResult<Vec<MailKindStats>> {
    ensure_admin(caller)?;
    let rows = mail::Entity::find()
        .select_only()
        .column(mail::Column::Kind)
        .column(mail::Column::Status)
        .column_as(Expr::col(mail::Column::Id).count(), "mails")
        .column_as(
            Expr::cust("SUM(CASE WHEN open_count > 0 THEN 1 ELSE 0 END)"),
            "opened",
        )
        .column_as(
            Expr::cust("SUM(CASE WHEN click_count > 0 THEN 1 ELSE 0 END)"),
            "clicked",
        )
        .group_by(mail::Column::Kind)
        .group_by(mail::Column::Status)
        .into_model::<KindStatusCount>()
        .all(&state.db)
        .await?;
    let mut kinds: Vec<MailKindStats> = Vec::new();
    for row in rows {
        let stats = match kinds.iter_mut().find(|stats| stats.kind == row.kind) {
            Some(stats) => stats,
            None => {
                kinds.push(MailKindStats {
                    kind: row.kind.clone(),
                    ..MailKindStats::default()
                });
                kinds
                    .last_mut()
                    .ok_or_else(|| AppError::Internal("mail stats".into()))?
            }
        };
        stats.sent += row.mails;
        stats.opened += row.opened;
        stats.clicked += row.clicked;
        match row.status.as_str() {
            "SENT" => stats.delivered += row.mails,
            "DEFERRED" => stats.deferred += row.mails,
            "SKIPPED" => stats.skipped += row.mails,
            _ => {}
        }
    }
    kinds.sort_by(|a, b| a.kind.cmp(&b.kind));
    Ok(kinds)
}
