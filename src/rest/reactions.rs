//! `/api/posts/{id}/reactions` and `/api/comments/{id}/reactions`: the same three
//! operations for both kinds of target, written once.

use aide::axum::{ApiRouter, routing::get_with};
use axum::{
    Json,
    extract::{Path, State},
};
use serde::{Deserialize, Deserializer, de::Error as _};

use super::{
    extract::ApiJson,
    respond::{Envelope, ok},
};
use crate::{
    auth::{Caller, Viewer},
    domain::{
        posts::PostRef,
        reactions::{self, ReactionSummaryView, ReactionType, TargetRef},
    },
    error::AppResult,
    state::AppState,
};

/// The OpenAPI tag of these operations.
pub const TAG: &str = "Reactions";

/// The reaction routes of posts and comments.
pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .merge(target_routes::<OnPost>())
        .merge(target_routes::<OnComment>())
}

/// What a `{id}` path segment names.
trait TargetPath: Send + Sync + 'static {
    /// The route, with an `{id}` segment.
    const PATH: &str;
    /// "post" or "comment", for the docs.
    const NAME: &str;
    /// The target `id` names.
    fn target(id: &str) -> TargetRef<'_>;
}

/// `/api/posts/{id}/reactions` (id or slug).
struct OnPost;

impl TargetPath for OnPost {
    const PATH: &str = "/api/posts/{id}/reactions";
    const NAME: &str = "post";
    fn target(id: &str) -> TargetRef<'_> {
        TargetRef::Post(PostRef::IdOrSlug(id))
    }
}

/// `/api/comments/{id}/reactions`.
struct OnComment;

impl TargetPath for OnComment {
    const PATH: &str = "/api/comments/{id}/reactions";
    const NAME: &str = "comment";
    fn target(id: &str) -> TargetRef<'_> {
        TargetRef::Comment(id)
    }
}

fn target_routes<T: TargetPath>() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        T::PATH,
        get_with(summary::<T>, |op| {
            op.tag(TAG)
                .summary(&format!("Get {} reactions", T::NAME))
                .description(&format!(
                    "Reaction counts of a {} per type, and your own reaction",
                    T::NAME
                ))
        })
        .put_with(react::<T>, |op| {
            op.tag(TAG)
                .summary(&format!("React to {}", T::NAME))
                .description(&format!(
                    "Give your reaction to a {}, replacing your other one; the same type again changes nothing",
                    T::NAME
                ))
        })
        .delete_with(unreact::<T>, |op| {
            op.tag(TAG)
                .summary(&format!("Remove {} reaction", T::NAME))
                .description(&format!("Take back your reaction to a {}", T::NAME))
        }),
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ReactionTargetPath {
    /// The post (id or slug) or the comment (id).
    id: String,
}

/// `PUT …/reactions` body.
#[derive(Deserialize, schemars::JsonSchema)]
struct ReactBody {
    #[serde(rename = "type", deserialize_with = "reaction_type")]
    kind: ReactionType,
}

/// A reaction type by name. Anything else is a field error: serde_json itself calls a
/// number or null given for an enum malformed JSON.
fn reaction_type<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ReactionType, D::Error> {
    let name = String::deserialize(deserializer)?;
    ReactionType::parse(&name).ok_or_else(|| {
        let known: Vec<&str> = ReactionType::ALL.map(ReactionType::as_str).to_vec();
        D::Error::custom(format!(
            "unknown reaction type `{name}`, expected one of {}",
            known.join(", ")
        ))
    })
}

async fn summary<T: TargetPath>(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ReactionTargetPath>,
) -> AppResult<Json<Envelope<ReactionSummaryView>>> {
    Ok(ok(
        reactions::summary(&state, &caller, T::target(&path.id)).await?
    ))
}

async fn react<T: TargetPath>(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<ReactionTargetPath>,
    ApiJson(body): ApiJson<ReactBody>,
) -> AppResult<Json<Envelope<ReactionSummaryView>>> {
    Ok(ok(reactions::react(
        &state,
        &caller,
        T::target(&path.id),
        body.kind,
    )
    .await?))
}

async fn unreact<T: TargetPath>(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<ReactionTargetPath>,
) -> AppResult<Json<Envelope<ReactionSummaryView>>> {
    Ok(ok(
        reactions::unreact(&state, &caller, T::target(&path.id)).await?
    ))
}
