//! `sparkle seed-demo`: demo users, categories, tags and posts, written in bulk so a
//! newcomer sees content and benchmarks have data. Every demo account's password
//! is [`DEMO_PASSWORD`].

use chrono::TimeDelta;
use entity::{category, post, post_tag, tag, user};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::{
    auth::{Role, UserStatus},
    domain::{
        new_id, now,
        posts::{self, trending_weight},
        taxonomy,
        text::{derive_excerpt, slugify},
    },
    error::AppResult,
    state::AppState,
};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "Sparkle123";
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
}

/// Creates `users` demo accounts and `posts` published posts (spread over 30 days).
pub async fn seed_demo(state: &AppState, users: usize, posts: usize) -> AppResult<SeedReport> {
    let mut rng = StdRng::from_os_rng();
    let categories = ensure_categories(state).await?;
    let tag_names: Vec<String> = TAGS.iter().map(|tag| (*tag).to_owned()).collect();
    let tags = taxonomy::ensure_tags(&state.writer, &tag_names).await?;
    let password_hash = state.passwords.hash(DEMO_PASSWORD.to_owned()).await?;
    let run: u32 = rng.random_range(0..100_000);

    let mut author_ids = Vec::with_capacity(users);
    let created_at = now();
    for chunk_start in (0..users).step_by(CHUNK) {
        let rows: Vec<user::ActiveModel> = (chunk_start..users.min(chunk_start + CHUNK))
            .map(|index| {
                let id = new_id();
                author_ids.push(id.clone());
                let username = format!("fan{run}_{index}");
                user::ActiveModel {
                    id: Set(id),
                    email: Set(format!("{username}@demo.sparkle.test")),
                    username_lower: Set(username.to_lowercase()),
                    username: Set(username),
                    password_hash: Set(password_hash.clone()),
                    role: Set(if index == 0 { Role::Admin } else { Role::User }
                        .as_str()
                        .to_owned()),
                    status: Set(UserStatus::Active.as_str().to_owned()),
                    level: Set(1),
                    experience: Set(0),
                    image: Set(None),
                    bio: Set(Some("Here for the sparkle.".to_owned())),
                    email_verified: Set(true),
                    session_version: Set(0),
                    created_at: Set(created_at),
                    updated_at: Set(created_at),
                }
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
        return Ok(SeedReport { users: 0, posts: 0 });
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
    Ok(SeedReport {
        users,
        posts: written,
    })
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
