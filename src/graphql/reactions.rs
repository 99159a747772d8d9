//! Reactions in GraphQL: the `ReactionSummary` of posts and comments (through the
//! request's DataLoader) and the `react` / `unreact` mutations.

use async_graphql::{Context, Lookahead, Object, OneofObject, ResultExt, SimpleObject};

use super::{
    context::ContextExt,
    loaders::{ReactionCountsOf, ReactionOfUser, prime},
};
use crate::domain::{
    posts::PostRef,
    reactions::{
        self, ReactionCounts, ReactionSummaryView, ReactionTarget, ReactionType, TargetRef,
    },
};

/// How many reactions of one type.
#[derive(SimpleObject)]
pub struct ReactionCount {
    #[graphql(name = "type")]
    pub kind: ReactionType,
    pub count: i64,
}

/// The reactions on a post or comment.
#[derive(SimpleObject)]
pub struct ReactionSummary {
    /// Every type, in a fixed order (0 when none).
    pub counts: Vec<ReactionCount>,
    /// Reactions of every type.
    pub total: i64,
    /// The signed-in account's reaction; null when anonymous or not reacted.
    pub viewer_reaction: Option<ReactionType>,
}

impl From<ReactionSummaryView> for ReactionSummary {
    fn from(view: ReactionSummaryView) -> Self {
        Self {
            counts: ReactionType::ALL
                .into_iter()
                .map(|kind| ReactionCount {
                    kind,
                    count: view.counts.get(kind),
                })
                .collect(),
            total: view.total,
            viewer_reaction: view.viewer_reaction,
        }
    }
}

/// What to react to.
#[derive(OneofObject)]
pub enum ReactionTargetInput {
    PostId(String),
    CommentId(String),
}

impl ReactionTargetInput {
    fn as_ref(&self) -> TargetRef<'_> {
        match self {
            Self::PostId(id) => TargetRef::Post(PostRef::Id(id)),
            Self::CommentId(id) => TargetRef::Comment(id),
        }
    }
}

/// Reacting to posts and comments.
#[derive(Default)]
pub struct ReactionMutation;

#[Object]
impl ReactionMutation {
    /// Gives your reaction to a post or comment, replacing your other one there (the
    /// same type again changes nothing); returns the target's reactions.
    async fn react(
        &self,
        ctx: &Context<'_>,
        target: ReactionTargetInput,
        #[graphql(name = "type")] kind: ReactionType,
    ) -> async_graphql::Result<ReactionSummary> {
        let summary = reactions::react(ctx.state()?, ctx.caller()?, target.as_ref(), kind)
            .await
            .extend()?;
        Ok(summary.into())
    }

    /// Takes back your reaction to a post or comment; returns the target's reactions.
    async fn unreact(
        &self,
        ctx: &Context<'_>,
        target: ReactionTargetInput,
    ) -> async_graphql::Result<ReactionSummary> {
        let summary = reactions::unreact(ctx.state()?, ctx.caller()?, target.as_ref())
            .await
            .extend()?;
        Ok(summary.into())
    }
}

/// What a `reactions { … }` selection needs loaded.
struct Wanted<'a> {
    counts: bool,
    /// The signed-in account, when `viewerReaction` is selected.
    viewer_id: Option<&'a str>,
}

impl<'a> Wanted<'a> {
    fn of(ctx: &'a Context<'_>, selection: &Lookahead<'_>) -> async_graphql::Result<Self> {
        let viewer_id = match &ctx.caller()?.viewer {
            Some(viewer) if selection.field("viewerReaction").exists() => Some(viewer.id.as_str()),
            _ => None,
        };
        Ok(Self {
            counts: selection.field("counts").exists() || selection.field("total").exists(),
            viewer_id,
        })
    }
}

/// `Post.reactions` and `Comment.reactions`: the summary of `target`, loading only
/// what the selection asks for.
pub async fn reaction_summary(
    ctx: &Context<'_>,
    target: ReactionTarget,
) -> async_graphql::Result<ReactionSummary> {
    let wanted = Wanted::of(ctx, &ctx.look_ahead())?;
    let loader = ctx.loader()?;
    let counts = match wanted.counts {
        true => loader
            .load_one(ReactionCountsOf(target.clone()))
            .await?
            .unwrap_or_default(),
        false => ReactionCounts::default(),
    };
    let viewer_reaction = match wanted.viewer_id {
        Some(user_id) => loader
            .load_one(ReactionOfUser {
                user_id: user_id.to_owned(),
                target,
            })
            .await?
            .flatten(),
        None => None,
    };
    Ok(ReactionSummaryView::new(counts, viewer_reaction).into())
}

/// Loads, for all `targets` at once, what the `reactions` selection asks for.
pub async fn prefetch_reactions(
    ctx: &Context<'_>,
    selection: Lookahead<'_>,
    targets: impl Iterator<Item = ReactionTarget>,
) -> async_graphql::Result<()> {
    if !selection.exists() {
        return Ok(());
    }
    let wanted = Wanted::of(ctx, &selection)?;
    let targets: Vec<ReactionTarget> = targets.collect();
    let loader = ctx.loader()?;
    let counts = prime(wanted.counts, loader, || {
        targets.iter().cloned().map(ReactionCountsOf)
    });
    let viewer_id = wanted.viewer_id.unwrap_or_default();
    let viewer_reactions = prime(wanted.viewer_id.is_some(), loader, || {
        targets.iter().map(|target| ReactionOfUser {
            user_id: viewer_id.to_owned(),
            target: target.clone(),
        })
    });
    futures_util::try_join!(counts, viewer_reactions)?;
    Ok(())
}
