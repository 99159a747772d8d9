//! `sparkle seed-demo`: demo users, categories, tags and posts, written in bulk so a
//! newcomer sees content and benchmarks have data, then conversations on the newest
//! posts (comments with replies pinned to moments of the video, reactions, follows
//! and the notifications they cause), written through the domain functions so every
//! counter and notification is what the product would make. Two known accounts,
//! [`DEMO_ADMIN`] and [`DEMO_MEMBER`], sign in with [`DEMO_PASSWORD`], as every demo
//! account does. Running it again adds content and changes nothing already there.

use chrono::TimeDelta;
use entity::{category, post, post_tag, tag, user};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    auth::{Caller, Role, UserStatus, Viewer},
    domain::{
        comments::{self, CreateCommentInput},
        follows, new_id, now,
        posts::{self, PostRef, trending_weight},
        reactions::{self, ReactionType, TargetRef},
        taxonomy,
        text::{derive_excerpt, slugify},
    },
    error::AppResult,
    state::AppState,
};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "Sparkle123";
/// The demo administrator: (username, email).
pub const DEMO_ADMIN: (&str, &str) = ("sparkle_admin", "admin@demo.sparkle.test");
/// The demo member: (username, email).
pub const DEMO_MEMBER: (&str, &str) = ("sparkle_fan", "fan@demo.sparkle.test");
/// Newest posts that get conversations.
const CONVERSATION_POSTS: u64 = 5;
/// Rows per bulk insert.
const CHUNK: usize = 200;

const CATEGORIES: [(&str, &str); 6] = [
    ("Music Videos", "Breakdowns of every official video"),
    ("Behind the Scenes", "How the channel gets made"),
    ("Fan Art", "Drawings, edits and crafts"),
    ("Theories", "Lore, easter eggs and predictions"),
    ("Announcements", "News from the team"),
    ("Collabs", "Guests and crossovers"),
];
const TAGS: [&str; 16] = [
    "sparkle",
    "glitter",
    "music",
    "dance",
    "tutorial",
    "cover",
    "live",
    "shorts",
    "behind the scenes",
    "fan art",
    "theory",
    "reaction",
    "remix",
    "vlog",
    "premiere",
    "merch",
];
const ADJECTIVES: [&str; 10] = [
    "Shiny", "Hidden", "Epic", "Cozy", "Wild", "Secret", "Golden", "Tiny", "Cosmic", "Bright",
];
const NOUNS: [&str; 10] = [
    "Moment",
    "Chorus",
    "Easter Egg",
    "Costume",
    "Remix",
    "Dance Break",
    "Cameo",
    "Outro",
    "Set",
    "Sparkle",
];

/// What was created.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub users: usize,
    pub posts: usize,
    pub comments: usize,
}

/// Creates `users` demo accounts and `posts` published posts (spread over 30 days).
pub async fn seed_demo(state: &AppState, users: usize, posts: usize) -> AppResult<SeedReport> {
    let mut rng = StdRng::from_os_rng();
    let categories = ensure_categories(state).await?;
    let tag_names: Vec<String> = TAGS.iter().map(|tag| (*tag).to_owned()).collect();
    let tags = taxonomy::ensure_tags(&state.writer, &tag_names).await?;
    let password_hash = state.passwords.hash(DEMO_PASSWORD.to_owned()).await?;
    let run: u32 = rng.random_range(0..100_000);
    let admin = ensure_account(state, DEMO_ADMIN, Role::Admin, &password_hash).await?;
    let member = ensure_account(state, DEMO_MEMBER, Role::User, &password_hash).await?;

    let mut author_ids = Vec::with_capacity(users);
    let created_at = now();
    for chunk_start in (0..users).step_by(CHUNK) {
        let rows: Vec<user::ActiveModel> = (chunk_start..users.min(chunk_start + CHUNK))
            .map(|index| {
                let id = new_id();
                author_ids.push(id.clone());
                let username = format!("fan{run}_{index}");
                let email = format!("{username}@demo.sparkle.test");
                demo_account(id, &username, &email, Role::User, &password_hash)
            })
            .collect();
        user::Entity::insert_many(rows).exec(&state.writer).await?;
        println!("users {}/{users}", author_ids.len());
    }
    if author_ids.is_empty() {
        author_ids = user::Entity::find()
            .filter(user::Column::Status.eq(UserStatus::Active.as_str()))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|row| row.id)
            .collect();
    }
    if author_ids.is_empty() {
        author_ids.push(member.id.clone());
    }

    let mut written = 0;
    for chunk_start in (0..posts).step_by(CHUNK) {
        let mut links = Vec::new();
        let rows: Vec<post::ActiveModel> = (chunk_start..posts.min(chunk_start + CHUNK))
            .map(|index| {
                let id = new_id();
                let title = format!(
                    "{} {} #{index}",
                    ADJECTIVES.choose(&mut rng).copied().unwrap_or("Shiny"),
                    NOUNS.choose(&mut rng).copied().unwrap_or("Moment")
                );
                let content = format!(
                    "<p>{title}: what we noticed.</p><p>{}</p>",
                    "Sparkle forever. ".repeat(rng.random_range(5..40))
                );
                let published_at =
                    created_at - TimeDelta::minutes(rng.random_range(0..60 * 24 * 30));
                let tag_count = rng.random_range(0..=3);
                let post_tags: Vec<tag::Model> =
                    tags.choose_multiple(&mut rng, tag_count).cloned().collect();
                links.extend(post_tags.iter().map(|tag| post_tag::ActiveModel {
                    post_id: Set(id.clone()),
                    tag_id: Set(tag.id.clone()),
                }));
                post::ActiveModel {
                    slug: Set(format!("{}-{}", slugify(&title), &id[id.len() - 12..])),
                    title: Set(title),
                    excerpt: Set(Some(derive_excerpt(&content))),
                    content: Set(content),
                    cover_image: Set(None),
                    cover_media_id: Set(None),
                    youtube_video_id: Set(None),
                    published: Set(true),
                    published_at: Set(Some(published_at)),
                    views: Set(rng.random_range(0..5_000)),
                    comment_count: Set(0),
                    reaction_count: Set(0),
                    trending_weight: Set(trending_weight(published_at)),
                    author_id: Set(author_ids.choose(&mut rng).cloned().unwrap_or_default()),
                    category_id: Set(categories
                        .choose(&mut rng)
                        .map(|category| category.id.clone())),
                    tag_ids: Set(posts::joined_ids(&post_tags)),
                    created_at: Set(published_at),
                    updated_at: Set(published_at),
                    deleted_at: Set(None),
                    id: Set(id),
                }
            })
            .collect();
        written += rows.len();
        post::Entity::insert_many(rows).exec(&state.writer).await?;
        if !links.is_empty() {
            post_tag::Entity::insert_many(links)
                .exec(&state.writer)
                .await?;
        }
        println!("posts {written}/{posts}");
    }
    let comments = seed_conversations(state, &admin, &member, &mut rng).await?;
    // Mentions in the conversations are notified by jobs: run them now.
    crate::jobs::drain(state).await?;
    Ok(SeedReport {
        users,
        posts: written,
        comments,
    })
}

/// The account `(username, email)` with `role`, created unless it exists.
async fn ensure_account(
    state: &AppState,
    (username, email): (&str, &str),
    role: Role,
    password_hash: &str,
) -> AppResult<user::Model> {
    let existing = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&state.db)
        .await?;
    if let Some(existing) = existing {
        return Ok(existing);
    }
    let row = demo_account(new_id(), username, email, role, password_hash);
    Ok(user::Entity::insert(row)
        .exec_with_returning(&state.writer)
        .await?)
}

/// A verified, active demo account created now.
fn demo_account(
    id: String,
    username: &str,
    email: &str,
    role: Role,
    password_hash: &str,
) -> user::ActiveModel {
    let created_at = now();
    user::ActiveModel {
        id: Set(id),
        email: Set(email.to_owned()),
        username_lower: Set(username.to_lowercase()),
        username: Set(username.to_owned()),
        password_hash: Set(password_hash.to_owned()),
        role: Set(role.as_str().to_owned()),
        status: Set(UserStatus::Active.as_str().to_owned()),
        level: Set(1),
        experience: Set(0),
        image: Set(None),
        image_media_id: Set(None),
        bio: Set(Some("Here for the sparkle.".to_owned())),
        email_verified: Set(true),
        session_version: Set(0),
        created_at: Set(created_at),
        updated_at: Set(created_at),
    }
}

/// Comments with replies (pinned to moments of the video), reactions and follows on
/// the newest posts, by the demo accounts, through the domain functions. Returns the
/// number of comments written.
async fn seed_conversations(
    state: &AppState,
    admin: &user::Model,
    member: &user::Model,
    rng: &mut StdRng,
) -> AppResult<usize> {
    let as_caller = |account: &user::Model| Caller {
        viewer: Some(Viewer::from(account)),
        ip: None,
    };
    let (admin_caller, member_caller) = (as_caller(admin), as_caller(member));
    let newest = post::Entity::find()
        .filter(post::Column::Published.eq(true))
        .filter(post::Column::DeletedAt.is_null())
        .order_by_desc(post::Column::PublishedAt)
        .limit(CONVERSATION_POSTS)
        .all(&state.db)
        .await?;
    let mut written = 0;
    for post in &newest {
        let at = rng.random_range(10..600);
        let question = comments::create(
            state,
            &member_caller,
            PostRef::Id(&post.id),
            CreateCommentInput {
                content: format!(
                    "The part at {}:{:02} gives me chills every time!",
                    at / 60,
                    at % 60
                ),
                parent_id: None,
                youtube_timestamp: Some(at),
            },
        )
        .await?;
        comments::create(
            state,
            &admin_caller,
            PostRef::Id(&post.id),
            CreateCommentInput {
                content: format!(
                    "Same here, @{}! Watch the background there.",
                    member.username
                ),
                parent_id: Some(question.id.clone()),
                youtube_timestamp: Some(at + 2),
            },
        )
        .await?;
        written += 2;
        reactions::react(
            state,
            &member_caller,
            TargetRef::Post(PostRef::Id(&post.id)),
            ReactionType::Love,
        )
        .await?;
        reactions::react(
            state,
            &admin_caller,
            TargetRef::Comment(&question.id),
            ReactionType::Sparkle,
        )
        .await?;
        let author = user::Entity::find_by_id(post.author_id.clone())
            .one(&state.db)
            .await?;
        if let Some(author) = author.filter(|author| author.id != member.id) {
            follows::follow(state, &member_caller, &author.username).await?;
        }
    }
    follows::follow(state, &admin_caller, &member.username).await?;
    println!("conversations on the {} newest posts", newest.len());
    Ok(written)
}

async fn ensure_categories(state: &AppState) -> AppResult<Vec<category::Model>> {
    let existing = category::Entity::find().all(&state.db).await?;
    let missing: Vec<category::ActiveModel> = CATEGORIES
        .iter()
        .filter(|(name, _)| !existing.iter().any(|row| row.slug == slugify(name)))
        .map(|(name, description)| category::ActiveModel {
            id: Set(new_id()),
            name: Set((*name).to_owned()),
            slug: Set(slugify(name)),
            description: Set(Some((*description).to_owned())),
            created_at: Set(now()),
        })
        .collect();
    if !missing.is_empty() {
        category::Entity::insert_many(missing)
            .exec(&state.writer)
            .await?;
    }
    Ok(category::Entity::find().all(&state.db).await?)
}
