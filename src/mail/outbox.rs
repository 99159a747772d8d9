//! Queueing a mail inside a write, and the `send_mail` job that sends it: it checks
//! that the recipient still wants it, takes a slot under the limits (or waits for
//! one), makes the account token of account mail, renders, and hands the message to
//! the transports.

use entity::{mail, user};
use lettre::{
    Message,
    message::{
        Mailbox, MultiPart,
        header::{HeaderName, HeaderValue},
    },
};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::{
    MailCategory, MailContent,
    content::{DigestPost, NotificationItem},
    limits::{self, Slot},
    preferences, query_value,
    templates::{self, Frame},
};
use crate::{
    auth::UserStatus,
    domain::{
        account_email::{self, TokenPurpose},
        effects::Write,
        new_id, now,
    },
    error::{AppError, AppResult},
    jobs::{Job, NewJob},
    metrics::MailLabels,
    state::AppState,
};

/// What became of a mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailStatus {
    /// Waiting for its job.
    Queued,
    /// Held back by a limit until its job's next run.
    Deferred,
    /// Taken by a transport.
    Sent,
    /// Not sent: the recipient may not or does not want to get it.
    Skipped,
}

impl MailStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Deferred => "DEFERRED",
            Self::Sent => "SENT",
            Self::Skipped => "SKIPPED",
        }
    }
}

/// Queues `content` for the account `user_id` at `to_address` in `write`, sent by a
/// job once the write commits. With a `dedupe_key`, a mail with that key is queued
/// once; returns the mail's id, or `None` for a duplicate.
pub async fn queue_mail(
    write: &mut Write<'_>,
    user_id: &str,
    to_address: &str,
    content: &MailContent,
    dedupe_key: Option<String>,
) -> AppResult<Option<String>> {
    let id = new_id();
    let data = serde_json::to_string(content)
        .map_err(|err| AppError::Internal(format!("mail {}: {err}", content.kind())))?;
    let row = mail::ActiveModel {
        id: Set(id.clone()),
        user_id: Set(user_id.to_owned()),
        to_address: Set(to_address.to_owned()),
        kind: Set(content.kind().to_owned()),
        category: Set(content
            .category()
            .map(|category| category.as_str().to_owned())),
        transactional: Set(content.is_transactional()),
        data: Set(data),
        dedupe_key: Set(dedupe_key),
        status: Set(MailStatus::Queued.as_str().to_owned()),
        transport: Set(None),
        links: Set("[]".to_owned()),
        open_count: Set(0),
        click_count: Set(0),
        opened_at: Set(None),
        clicked_at: Set(None),
        created_at: Set(now()),
        sent_at: Set(None),
    };
    let inserted = mail::Entity::insert(row)
        .on_conflict_do_nothing_on([mail::Column::DedupeKey])
        .exec_without_returning(write.db())
        .await?;
    if !matches!(inserted, sea_orm::TryInsertResult::Inserted(1)) {
        return Ok(None);
    }
    write
        .enqueue(Job::SendMail {
            mail_id: id.clone(),
        })
        .await?;
    Ok(Some(id))
}

/// The `send_mail` job: sends mail `mail_id` once (a mail already sent or skipped is
/// left alone), or defers it when a limit is reached.
pub async fn deliver(state: &AppState, mail_id: &str) -> AppResult<()> {
    let Some(row) = mail::Entity::find_by_id(mail_id).one(&state.writer).await? else {
        return Ok(());
    };
    if row.status == MailStatus::Sent.as_str() || row.status == MailStatus::Skipped.as_str() {
        return Ok(());
    }
    let content: MailContent = serde_json::from_str(&row.data)
        .map_err(|err| AppError::Internal(format!("mail {mail_id}: {err}")))?;
    let account = user::Entity::find_by_id(row.user_id.clone())
        .one(&state.writer)
        .await?;
    let Some(account) = account else {
        return skip(state, &row, "the account no longer exists").await;
    };
    if let Some(reason) = refusal(state, &account, content.category()).await? {
        return skip(state, &row, reason).await;
    }
    if let Slot::WaitUntil(until) = limits::reserve(state, &account.id, row.transactional).await? {
        let mut write = Write::begin(state).await?;
        set_status(&row, MailStatus::Deferred)
            .exec(write.db())
            .await?;
        write
            .enqueue(
                NewJob::from(Job::SendMail {
                    mail_id: row.id.clone(),
                })
                .at(until),
            )
            .await?;
        write.commit().await?;
        tracing::info!(mail = %row.id, kind = %row.kind, %until, "mail over a limit; deferred");
        return Ok(());
    }
    let to_address = match &content {
        MailContent::ConfirmNewEmail { new_email } => new_email.clone(),
        MailContent::EmailChanged { .. } => row.to_address.clone(),
        _ => account.email.clone(),
    };
    let Ok(address) = to_address.parse() else {
        return skip(state, &row, "the address is not a mail address").await;
    };
    let recipient = Mailbox::new(Some(account.username.clone()), address);
    let composed = compose(state, &row, &account, &content, recipient).await?;
    let sent = state.mail.mailer.send(&composed.message).await;
    state
        .metrics
        .mail_sends
        .get_or_create(&MailLabels {
            kind: content.kind(),
            outcome: if sent.is_ok() { "sent" } else { "failed" },
        })
        .inc();
    let transport =
        sent.map_err(|errors| AppError::Internal(format!("no transport took the mail: {errors}")))?;
    let links = serde_json::to_string(&composed.links)
        .map_err(|err| AppError::Internal(format!("mail links: {err}")))?;
    set_status(&row, MailStatus::Sent)
        .col_expr(mail::Column::Transport, Expr::value(transport))
        .col_expr(mail::Column::ToAddress, Expr::value(to_address))
        .col_expr(mail::Column::Links, Expr::value(links))
        .col_expr(mail::Column::SentAt, Expr::value(now()))
        .exec(&state.writer)
        .await?;
    Ok(())
}

/// Why `account` must not get mail of `category` now (`None`: transactional mail),
/// if it must not: never to a banned or deleted account; mail other than account mail
/// only to an active account with a verified address that wants it.
pub async fn refusal(
    state: &AppState,
    account: &user::Model,
    category: Option<MailCategory>,
) -> AppResult<Option<&'static str>> {
    let status = account.status.parse::<UserStatus>().ok();
    if matches!(
        status,
        None | Some(UserStatus::Banned | UserStatus::Deleted)
    ) {
        return Ok(Some("the account is banned or deleted"));
    }
    let Some(category) = category else {
        return Ok(None);
    };
    if status != Some(UserStatus::Active) || !account.email_verified {
        return Ok(Some("the account is not active with a verified address"));
    }
    if !preferences::of_user(&state.writer, &account.id)
        .await?
        .wants(category)
    {
        return Ok(Some("the recipient turned this mail off"));
    }
    Ok(None)
}

/// The update that gives `row` `status` (more columns may be added before it runs).
fn set_status(row: &mail::Model, status: MailStatus) -> sea_orm::UpdateMany<mail::Entity> {
    mail::Entity::update_many()
        .col_expr(mail::Column::Status, Expr::value(status.as_str()))
        .filter(mail::Column::Id.eq(&row.id))
}

async fn skip(state: &AppState, row: &mail::Model, reason: &str) -> AppResult<()> {
    set_status(row, MailStatus::Skipped)
        .exec(&state.writer)
        .await?;
    tracing::info!(mail = %row.id, kind = %row.kind, reason, "mail not sent");
    Ok(())
}

/// A message ready for the transports, with the URLs its tracked links lead to.
struct Composed {
    message: Message,
    links: Vec<String>,
}

/// Builds the message: an account token for account mail; for other mail the
/// unsubscribe link and headers and, when tracking, signed links and the pixel.
async fn compose(
    state: &AppState,
    row: &mail::Model,
    account: &user::Model,
    content: &MailContent,
    recipient: Mailbox,
) -> AppResult<Composed> {
    let service = &state.mail;
    let mut frame = Frame {
        username: account.username.clone(),
        preferences_url: service.app_link("/settings/email"),
        notifications_url: service.app_link("/notifications"),
        ..Frame::default()
    };
    let account_link = match content {
        MailContent::Welcome | MailContent::VerifyEmail => {
            Some((TokenPurpose::Verify, "/verify-email", None))
        }
        MailContent::PasswordReset => Some((TokenPurpose::Reset, "/reset-password", None)),
        MailContent::ConfirmNewEmail { new_email } => Some((
            TokenPurpose::ChangeEmail,
            "/confirm-email",
            Some(new_email.as_str()),
        )),
        _ => None,
    };
    if let Some((purpose, page, new_email)) = account_link {
        let token = account_email::issue_token(state, &account.id, purpose, new_email).await?;
        frame.action_url = Some(service.app_link(&format!("{page}?token={}", query_value(&token))));
        frame.expires_in = Some(purpose.lifetime_in_words().to_owned());
    }
    let mut links = Vec::new();
    let mut shown = content.clone();
    let category = content.category();
    if let Some(category) = category {
        frame.unsubscribe_url = Some(preferences::unsubscribe_url(service, &account.id, category));
        frame.category_description = Some(category.describe().to_owned());
        if service.tracks() {
            let mut track = |url: &mut String| {
                links.push(url.clone());
                *url = super::tracking::click_url(service, &row.id, url);
            };
            track_links(&mut shown, &mut track);
            track(&mut frame.notifications_url);
            frame.pixel_url = Some(super::tracking::open_url(service, &row.id));
        }
    }
    let rendered = templates::render(&shown, &frame)?;
    let mut builder = Message::builder()
        .from(service.from().clone())
        .to(recipient)
        .subject(rendered.subject)
        .raw_header(raw_header("Auto-Submitted", "auto-generated"));
    if let Some(unsubscribe) = &frame.unsubscribe_url {
        builder = builder
            .raw_header(raw_header("List-Unsubscribe", &format!("<{unsubscribe}>")))
            .raw_header(raw_header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click",
            ));
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))
        .map_err(|err| AppError::Internal(format!("mail {}: {err}", row.id)))?;
    Ok(Composed { message, links })
}

fn raw_header(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_owned())
}

/// Applies `track` to every URL `content` shows.
fn track_links(content: &mut MailContent, track: &mut impl FnMut(&mut String)) {
    match content {
        MailContent::Notifications { items, .. } => {
            for NotificationItem { url, .. } in items {
                track(url);
            }
        }
        MailContent::WeeklyDigest { posts, .. } => {
            for DigestPost { url, .. } in posts {
                track(url);
            }
        }
        _ => {}
    }
}
