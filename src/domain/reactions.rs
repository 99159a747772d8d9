//! Reactions on posts and comments: one per user per target. Reacting again with
//! another type replaces the reaction; with the same type it changes nothing.
//!
//! `post.reaction_count` and `comment.reaction_count` change in the same transaction
//! as the reaction rows. The author of the target is notified once per reacting user
//! (the dedupe key survives removing and giving the reaction again).

use std::collections::HashMap;

use entity::reaction;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, TryInsertResult, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    comments::{self, CommentCounter, Placeholders},
    effects::Write,
    new_id,
    notification_copy::Happening,
    notifications::NewNotification,
    now,
    posts::{self, PostCounter, PostRef},
};
use crate::{
    auth::{Caller, Viewer},
    error::AppResult,
    realtime::Event,
    state::AppState,
};

/// How a user reacts.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    async_graphql::Enum,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ReactionType {
    Like,
    Love,
    Fire,
    Sparkle,
    MindBlown,
    Laugh,
    Cry,
    Angry,
}

impl ReactionType {
    /// Every type, in display order.
    pub const ALL: [Self; 8] = [
        Self::Like,
        Self::Love,
        Self::Fire,
        Self::Sparkle,
        Self::MindBlown,
        Self::Laugh,
        Self::Cry,
        Self::Angry,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Like => "LIKE",
            Self::Love => "LOVE",
            Self::Fire => "FIRE",
            Self::Sparkle => "SPARKLE",
            Self::MindBlown => "MIND_BLOWN",
            Self::Laugh => "LAUGH",
            Self::Cry => "CRY",
            Self::Angry => "ANGRY",
        }
    }

    /// Parses a stored name.
    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == stored)
    }
}

/// How many reactions of each type a target has (every type present, 0 when none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct ReactionCounts {
    pub like: i64,
    pub love: i64,
    pub fire: i64,
    pub sparkle: i64,
    pub mind_blown: i64,
    pub laugh: i64,
    pub cry: i64,
    pub angry: i64,
}

impl ReactionCounts {
    /// The count of `kind`.
    pub fn get(&self, kind: ReactionType) -> i64 {
        // `slot` is the one mapping from types to fields; read it through a copy.
        let mut copy = *self;
        *copy.slot(kind)
    }

    /// Reactions of every type.
    pub fn total(&self) -> i64 {
        ReactionType::ALL
            .into_iter()
            .map(|kind| self.get(kind))
            .sum()
    }

    fn slot(&mut self, kind: ReactionType) -> &mut i64 {
        match kind {
            ReactionType::Like => &mut self.like,
            ReactionType::Love => &mut self.love,
            ReactionType::Fire => &mut self.fire,
            ReactionType::Sparkle => &mut self.sparkle,
            ReactionType::MindBlown => &mut self.mind_blown,
            ReactionType::Laugh => &mut self.laugh,
            ReactionType::Cry => &mut self.cry,
            ReactionType::Angry => &mut self.angry,
        }
    }
}

/// The reactions on a target, as the caller sees them.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ReactionSummary")]
pub struct ReactionSummaryView {
    pub counts: ReactionCounts,
    /// The sum of `counts`.
    pub total: i64,
    /// The caller's own reaction; null when anonymous or not reacted.
    pub viewer_reaction: Option<ReactionType>,
}

impl ReactionSummaryView {
    /// The summary of `counts`, with the caller's own reaction.
    pub fn new(counts: ReactionCounts, viewer_reaction: Option<ReactionType>) -> Self {
        Self {
            counts,
            total: counts.total(),
            viewer_reaction,
        }
    }
}

/// What can be reacted to, by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReactionTarget {
    Post(String),
    Comment(String),
}

impl ReactionTarget {
    const POST: &str = "POST";
    const COMMENT: &str = "COMMENT";

    /// The stored `target_type`.
    fn kind(&self) -> &'static str {
        match self {
            Self::Post(_) => Self::POST,
            Self::Comment(_) => Self::COMMENT,
        }
    }

    /// The stored `target_id`.
    fn id(&self) -> &str {
        match self {
            Self::Post(id) | Self::Comment(id) => id,
        }
    }

    /// The target of a stored `target_type` and `target_id`.
    fn stored(kind: &str, id: String) -> Option<Self> {
        match kind {
            Self::POST => Some(Self::Post(id)),
            Self::COMMENT => Some(Self::Comment(id)),
            _ => None,
        }
    }

    /// The reaction rows on this target.
    fn rows(&self) -> Condition {
        Condition::all()
            .add(reaction::Column::TargetType.eq(self.kind()))
            .add(reaction::Column::TargetId.eq(self.id()))
    }
}

/// A target as a client names it.
#[derive(Clone, Copy, Debug)]
pub enum TargetRef<'a> {
    Post(PostRef<'a>),
    /// A comment, by id.
    Comment(&'a str),
}

/// A target the caller may see, with what its notification needs.
struct Located {
    target: ReactionTarget,
    author_id: String,
    post_id: String,
    post_title: String,
}

impl Located {
    /// Finds the target: posts and comments the caller may see; a "[deleted]"
    /// comment only with [`Placeholders::Include`].
    async fn find(
        state: &AppState,
        caller: &Caller,
        target: TargetRef<'_>,
        placeholders: Placeholders,
    ) -> AppResult<Self> {
        match target {
            TargetRef::Post(key) => {
                let post = posts::visible_post(state, caller, key).await?;
                Ok(Self {
                    target: ReactionTarget::Post(post.id.clone()),
                    author_id: post.author_id,
                    post_id: post.id,
                    post_title: post.title,
                })
            }
            TargetRef::Comment(id) => {
                let (comment, post) =
                    comments::find_with_post(state, caller, id, placeholders).await?;
                Ok(Self {
                    target: ReactionTarget::Comment(comment.id),
                    author_id: comment.author_id,
                    post_id: post.id,
                    post_title: post.title,
                })
            }
        }
    }

    /// POST_LIKED or COMMENT_LIKED for the target's author, once per reacting user.
    fn notification(&self, actor: &Viewer, kind: ReactionType) -> NewNotification {
        let (happening, dedupe_key, data) = match &self.target {
            ReactionTarget::Post(id) => (
                Happening::ReactedToPost {
                    actor: &actor.username,
                    post_title: &self.post_title,
                },
                format!("POST_LIKED:{id}:{}", actor.id),
                json!({ "postId": id, "reaction": kind }),
            ),
            ReactionTarget::Comment(id) => (
                Happening::ReactedToComment {
                    actor: &actor.username,
                    post_title: &self.post_title,
                },
                format!("COMMENT_LIKED:{id}:{}", actor.id),
                json!({ "postId": self.post_id, "commentId": id, "reaction": kind }),
            ),
        };
        NewNotification::about(&happening, &self.author_id, Some(&actor.id), data)
            .once_per(dedupe_key)
    }
}

/// The reactions on a target the caller may see.
pub async fn summary(
    state: &AppState,
    caller: &Caller,
    target: TargetRef<'_>,
) -> AppResult<ReactionSummaryView> {
    let located = Located::find(state, caller, target, Placeholders::Include).await?;
    summary_of(state, caller, &located.target).await
}

/// Gives the caller's reaction `kind` to a target, replacing another type; the same
/// type again changes nothing. Returns the target's summary.
pub async fn react(
    state: &AppState,
    caller: &Caller,
    target: TargetRef<'_>,
    kind: ReactionType,
) -> AppResult<ReactionSummaryView> {
    let viewer = caller.viewer()?;
    state.limits.reaction.check(&caller.rate_key()).await?;
    let located = Located::find(state, caller, target, Placeholders::Exclude).await?;
    let mine = located
        .target
        .rows()
        .add(reaction::Column::UserId.eq(&viewer.id));

    let mut write = Write::begin(state).await?;
    let existing = reaction::Entity::find()
        .filter(mine.clone())
        .one(write.db())
        .await?;
    let changed = match existing {
        Some(row) if row.reaction_type == kind.as_str() => false,
        Some(_) => {
            set_type(write.db(), mine, kind).await?;
            true
        }
        None => {
            let inserted = reaction::Entity::insert(reaction::ActiveModel {
                id: Set(new_id()),
                user_id: Set(viewer.id.clone()),
                target_type: Set(located.target.kind().to_owned()),
                target_id: Set(located.target.id().to_owned()),
                reaction_type: Set(kind.as_str().to_owned()),
                created_at: Set(now()),
            })
            .on_conflict_do_nothing_on([
                reaction::Column::UserId,
                reaction::Column::TargetType,
                reaction::Column::TargetId,
            ])
            .exec_without_returning(write.db())
            .await?;
            if matches!(inserted, TryInsertResult::Inserted(1)) {
                adjust_count(write.db(), &located.target, 1).await?;
                write.notify(located.notification(viewer, kind)).await?;
            } else {
                // A concurrent request of the same user reacted first; ours replaces it.
                set_type(write.db(), mine, kind).await?;
            }
            true
        }
    };
    if changed {
        write.publish(Event::ReactionsChanged {
            post_id: located.post_id.clone(),
        });
    }
    write.commit().await?;
    summary_of(state, caller, &located.target).await
}

/// Takes back the caller's reaction on a target (nothing to take back is fine).
/// Returns the target's summary.
pub async fn unreact(
    state: &AppState,
    caller: &Caller,
    target: TargetRef<'_>,
) -> AppResult<ReactionSummaryView> {
    let viewer = caller.viewer()?;
    state.limits.reaction.check(&caller.rate_key()).await?;
    let located = Located::find(state, caller, target, Placeholders::Include).await?;

    let mut write = Write::begin(state).await?;
    let removed = reaction::Entity::delete_many()
        .filter(
            located
                .target
                .rows()
                .add(reaction::Column::UserId.eq(&viewer.id)),
        )
        .exec(write.db())
        .await?
        .rows_affected;
    let removed = i64::try_from(removed).unwrap_or_default();
    if removed > 0 {
        adjust_count(write.db(), &located.target, -removed).await?;
        write.publish(Event::ReactionsChanged {
            post_id: located.post_id.clone(),
        });
    }
    write.commit().await?;
    summary_of(state, caller, &located.target).await
}

/// Removes every reaction on `target` (when the target itself is removed).
pub async fn remove_all(db: &impl ConnectionTrait, target: &ReactionTarget) -> AppResult<()> {
    reaction::Entity::delete_many()
        .filter(target.rows())
        .exec(db)
        .await?;
    Ok(())
}

/// The summary of `target` for the caller.
async fn summary_of(
    state: &AppState,
    caller: &Caller,
    target: &ReactionTarget,
) -> AppResult<ReactionSummaryView> {
    let targets = std::slice::from_ref(target);
    let counts = counts_by_targets(&state.db, targets)
        .await?
        .remove(target)
        .unwrap_or_default();
    let viewer_reaction = match &caller.viewer {
        Some(viewer) => reactions_of_user(&state.db, &viewer.id, targets)
            .await?
            .remove(target)
            .flatten(),
        None => None,
    };
    Ok(ReactionSummaryView::new(counts, viewer_reaction))
}

/// Changes the type of the reaction rows `mine`.
async fn set_type(db: &impl ConnectionTrait, mine: Condition, kind: ReactionType) -> AppResult<()> {
    reaction::Entity::update_many()
        .col_expr(reaction::Column::ReactionType, Expr::value(kind.as_str()))
        .filter(mine)
        .exec(db)
        .await?;
    Ok(())
}

/// Adds `delta` to the reaction counter of `target`.
async fn adjust_count(
    db: &impl ConnectionTrait,
    target: &ReactionTarget,
    delta: i64,
) -> AppResult<()> {
    match target {
        ReactionTarget::Post(id) => {
            posts::adjust_counter(db, id, PostCounter::Reactions, delta).await
        }
        ReactionTarget::Comment(id) => {
            comments::adjust_counter(db, id, CommentCounter::Reactions, delta)
                .await
                .map(drop)
        }
    }
}

/// Reaction rows on any of `targets`.
fn any_of(targets: &[ReactionTarget]) -> Condition {
    let mut by_kind: HashMap<&str, Vec<&str>> = HashMap::new();
    for target in targets {
        by_kind.entry(target.kind()).or_default().push(target.id());
    }
    by_kind
        .into_iter()
        .fold(Condition::any(), |condition, (kind, ids)| {
            condition.add(
                Condition::all()
                    .add(reaction::Column::TargetType.eq(kind))
                    .add(reaction::Column::TargetId.is_in(ids)),
            )
        })
}

#[derive(FromQueryResult)]
struct Tally {
    target_type: String,
    target_id: String,
    reaction_type: String,
    reactions: i64,
}

/// The reaction counts of each of `targets` (zeros when none), in one statement.
pub async fn counts_by_targets(
    db: &impl ConnectionTrait,
    targets: &[ReactionTarget],
) -> AppResult<HashMap<ReactionTarget, ReactionCounts>> {
    let mut counts: HashMap<ReactionTarget, ReactionCounts> = targets
        .iter()
        .map(|target| (target.clone(), ReactionCounts::default()))
        .collect();
    if targets.is_empty() {
        return Ok(counts);
    }
    let tallies = reaction::Entity::find()
        .select_only()
        .column(reaction::Column::TargetType)
        .column(reaction::Column::TargetId)
        .column(reaction::Column::ReactionType)
        .column_as(reaction::Column::Id.count(), "reactions")
        .filter(any_of(targets))
        .group_by(reaction::Column::TargetType)
        .group_by(reaction::Column::TargetId)
        .group_by(reaction::Column::ReactionType)
        .into_model::<Tally>()
        .all(db)
        .await?;
    for tally in tallies {
        let target = ReactionTarget::stored(&tally.target_type, tally.target_id);
        let kind = ReactionType::parse(&tally.reaction_type);
        if let (Some(target), Some(kind)) = (target, kind)
            && let Some(entry) = counts.get_mut(&target)
        {
            *entry.slot(kind) += tally.reactions;
        }
    }
    Ok(counts)
}

/// The reaction `user_id` gave each of `targets` (`None` where none), in one statement.
pub async fn reactions_of_user(
    db: &impl ConnectionTrait,
    user_id: &str,
    targets: &[ReactionTarget],
) -> AppResult<HashMap<ReactionTarget, Option<ReactionType>>> {
    let mut given: HashMap<ReactionTarget, Option<ReactionType>> = targets
        .iter()
        .map(|target| (target.clone(), None))
        .collect();
    if targets.is_empty() {
        return Ok(given);
    }
    let rows = reaction::Entity::find()
        .filter(reaction::Column::UserId.eq(user_id))
        .filter(any_of(targets))
        .all(db)
        .await?;
    for row in rows {
        if let Some(target) = ReactionTarget::stored(&row.target_type, row.target_id)
            && let Some(entry) = given.get_mut(&target)
        {
            *entry = ReactionType::parse(&row.reaction_type);
        }
    }
    Ok(given)
}

#[cfg(test)]
mod tests {
    use super::{ReactionCounts, ReactionType};

    #[test]
    fn stored_names_match_the_api_names_and_parse_back() {
        for kind in ReactionType::ALL {
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::Value::from(kind.as_str()))
            );
            assert_eq!(ReactionType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ReactionType::parse("like"), None);
    }

    #[test]
    fn every_type_has_its_own_count() {
        let mut counts = ReactionCounts::default();
        for (n, kind) in ReactionType::ALL.into_iter().enumerate() {
            *counts.slot(kind) += i64::try_from(n).unwrap_or_default() + 1;
        }
        let each: Vec<i64> = ReactionType::ALL.map(|kind| counts.get(kind)).to_vec();
        assert_eq!(each, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(counts.total(), 36);
    }
}
