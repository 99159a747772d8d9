//! The mail limits: at most N non-transactional mails per recipient per UTC day, and
//! M mails per clock hour in all. A slot is reserved with one conditional upsert per
//! counter, in one transaction, so concurrent senders (on any instance) never pass
//! the limit together. Mail over a limit waits for the window's end; none is dropped.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use entity::mail_counter;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

use crate::{error::AppResult, state::AppState};

/// The scope of the all-mail counter.
const ALL_MAIL: &str = "all";

/// Whether a mail may go now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Counted: send it.
    Granted,
    /// A limit is reached: try again at this time.
    WaitUntil(DateTime<Utc>),
}

/// Reserves a slot for a mail to `user_id` (a transactional mail skips the
/// per-recipient limit and is never held back, but is counted in all).
pub async fn reserve(state: &AppState, user_id: &str, transactional: bool) -> AppResult<Slot> {
    let config = &state.config.mail;
    let now = Utc::now();
    let day = now.duration_trunc(TimeDelta::days(1)).unwrap_or(now);
    let hour = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
    let txn = state.begin_write().await?;
    if !transactional {
        let scope = format!("to:{user_id}");
        if !take(
            &txn,
            &scope,
            day,
            Some(config.mail_daily_limit_per_recipient),
        )
        .await?
        {
            return Ok(Slot::WaitUntil(day + TimeDelta::days(1)));
        }
    }
    let hourly = (!transactional).then_some(config.mail_hourly_limit);
    if !take(&txn, ALL_MAIL, hour, hourly).await? {
        return Ok(Slot::WaitUntil(hour + TimeDelta::hours(1)));
    }
    txn.commit().await?;
    Ok(Slot::Granted)
}

/// Counts one mail in `scope`'s `window`, unless it already holds `limit`; returns
/// whether it was counted.
async fn take(
    db: &impl ConnectionTrait,
    scope: &str,
    window: DateTime<Utc>,
    limit: Option<u32>,
) -> AppResult<bool> {
    let count = Expr::col((mail_counter::Entity, mail_counter::Column::Count));
    let mut on_conflict = OnConflict::columns([
        mail_counter::Column::Scope,
        mail_counter::Column::WindowStart,
    ])
    .value(mail_counter::Column::Count, count.clone().add(1))
    .to_owned();
    if let Some(limit) = limit {
        on_conflict.action_and_where(count.lt(i64::from(limit)));
    }
    if limit == Some(0) {
        return Ok(false);
    }
    let insert = Query::insert()
        .into_table(mail_counter::Entity)
        .columns([
            mail_counter::Column::Scope,
            mail_counter::Column::WindowStart,
            mail_counter::Column::Count,
        ])
        .values([scope.into(), window.into(), 1i32.into()])
        .map_err(|err| crate::error::AppError::Internal(format!("mail counter: {err}")))?
        .on_conflict(on_conflict)
        .returning_col(mail_counter::Column::Count)
        .to_owned();
    let counted = db
        .query_one_raw(db.get_database_backend().build(&insert))
        .await?;
    Ok(counted.is_some())
}

/// Deletes counters of windows that ended more than a day ago (the daily
/// maintenance does).
pub async fn purge_counters(db: &impl ConnectionTrait) -> AppResult<u64> {
    let before = Utc::now() - TimeDelta::days(2);
    Ok(mail_counter::Entity::delete_many()
        .filter(mail_counter::Column::WindowStart.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
