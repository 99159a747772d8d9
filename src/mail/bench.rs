//! `sparkle bench-mail`: mail per second from the queue to the configured transport
//! (`bench/mail.sh` points it at a local SMTP server). Fills a fresh database with
//! verified accounts and queued notification mail, then times the real workers until
//! every mail is sent.

use std::time::{Duration, Instant};

use entity::{mail, user};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter};

use super::{MailContent, content::NotificationItem, outbox::MailStatus, queue_mail};
use crate::{
    auth::{Role, UserStatus},
    domain::{effects::Write, new_id, notifications::NotificationType, now},
    error::AppResult,
    jobs::WorkerPool,
    state::AppState,
};

/// Mails each benchmark account gets (below the per-recipient daily limit).
const MAILS_PER_ACCOUNT: usize = 10;

/// Rows written per transaction while filling the database.
const BATCH: usize = 500;

/// What one run measured.
#[derive(Clone, Debug)]
pub struct MailBenchReport {
    pub mails: u64,
    pub workers: usize,
    pub elapsed: Duration,
}

impl MailBenchReport {
    /// Mails per second.
    pub fn throughput(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let mails = self.mails as f64;
        mails / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// Queues `mails` notification mails to fresh verified accounts, sends them with
/// the configured workers and transport, and times it.
pub async fn run(state: &AppState, mails: usize) -> AppResult<MailBenchReport> {
    let accounts = create_accounts(state, mails.div_ceil(MAILS_PER_ACCOUNT)).await?;
    let content = MailContent::Notifications {
        notification_type: NotificationType::System,
        items: vec![NotificationItem {
            title: "Benchmark".to_owned(),
            message: "A notice from the mail benchmark".to_owned(),
            url: state.mail.app_link("/notifications"),
        }],
    };
    let recipients: Vec<&user::Model> = accounts.iter().cycle().take(mails).collect();
    for batch in recipients.chunks(BATCH) {
        let mut write = Write::begin(state).await?;
        for account in batch {
            queue_mail(&mut write, &account.id, &account.email, &content, None).await?;
        }
        write.commit().await?;
    }
    let started = Instant::now();
    let pool = WorkerPool::start(state);
    while unsent(state).await? > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    pool.shutdown(Duration::from_secs(5)).await?;
    let sent = mail::Entity::find()
        .filter(mail::Column::Status.eq(MailStatus::Sent.as_str()))
        .count(&state.db)
        .await?;
    Ok(MailBenchReport {
        mails: sent,
        workers: state.config.jobs.concurrency(crate::jobs::Queue::Email),
        elapsed,
    })
}

async fn unsent(state: &AppState) -> AppResult<u64> {
    Ok(mail::Entity::find()
        .filter(
            mail::Column::Status
                .is_in([MailStatus::Queued.as_str(), MailStatus::Deferred.as_str()]),
        )
        .count(&state.db)
        .await?)
}

/// `count` ACTIVE accounts with verified addresses (inserted directly: the benchmark
/// measures mail, not password hashing).
async fn create_accounts(state: &AppState, count: usize) -> AppResult<Vec<user::Model>> {
    let created_at = now();
    let accounts: Vec<user::Model> = (0..count)
        .map(|index| {
            let username = format!("mail_bench_{index}");
            user::Model {
                id: new_id(),
                email: format!("{username}@bench.sparkle.test"),
                username_lower: username.clone(),
                username,
                password_hash: "not a password hash".to_owned(),
                role: Role::User.as_str().to_owned(),
                status: UserStatus::Active.as_str().to_owned(),
                level: 1,
                experience: 0,
                image: None,
                image_media_id: None,
                bio: None,
                email_verified: true,
                session_version: 0,
                created_at,
                updated_at: created_at,
            }
        })
        .collect();
    for batch in accounts.chunks(BATCH) {
        user::Entity::insert_many(
            batch
                .iter()
                .cloned()
                .map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(&state.writer)
        .await?;
    }
    Ok(accounts)
}
