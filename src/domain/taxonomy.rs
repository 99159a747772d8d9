//! Categories and tags: the ways posts are filed and found.

use std::{
    borrow::Borrow,
    collections::HashMap,
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use entity::{category, post_tag, tag};
use lru::LruCache;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use serde::Serialize;

use super::{new_id, now, text::slugify};
use crate::{error::AppResult, state::AppState};

/// Most tags one post may carry.
pub const MAX_TAGS_PER_POST: usize = 10;
/// Longest tag name.
pub const MAX_TAG_CHARS: usize = 50;
/// Most tags `GET /api/tags` returns.
const TAG_LIST_LIMIT: u64 = 500;

/// A category as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[schemars(rename = "Category")]
#[graphql(name = "Category", serial, complex)]
pub struct CategoryView {
    // GraphQL shows it as an `ID` (`graphql::types`).
    #[graphql(skip)]
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
}

impl From<category::Model> for CategoryView {
    fn from(row: category::Model) -> Self {
        Self {
            id: row.id,
            name: row.name,
            slug: row.slug,
            description: row.description,
        }
    }
}

/// A tag as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[schemars(rename = "Tag")]
#[graphql(name = "Tag", serial, complex)]
pub struct TagView {
    // GraphQL shows it as an `ID` (`graphql::types`).
    #[graphql(skip)]
    pub id: String,
    pub name: String,
    pub slug: String,
}

impl From<tag::Model> for TagView {
    fn from(row: tag::Model) -> Self {
        Self {
            id: row.id,
            name: row.name,
            slug: row.slug,
        }
    }
}

/// Every category, by name.
pub async fn list_categories(state: &AppState) -> AppResult<Vec<CategoryView>> {
    let (categories, _) = state.categories.read(&state.db).await?;
    Ok(categories
        .iter()
        .map(|category| CategoryView::clone(category))
        .collect())
}

/// Every category by name, each shared by the lists and pages that show it.
type Categories = Arc<[Arc<CategoryView>]>;

/// Every category, remembered for a while. Categories are the fixed sections of the
/// site (no API writes them), yet nearly every post read shows one; keeping them in
/// memory spares those reads a statement. A lookup that misses in remembered
/// categories reads the table again, so a category added since (by
/// `sparkle seed-demo`, say) is never missed.
pub struct CategoryCache {
    ttl: Duration,
    remembered: Mutex<Option<(Categories, Instant)>>,
}

impl CategoryCache {
    /// Categories kept for `ttl` (zero reads the table every time).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            remembered: Mutex::default(),
        }
    }

    /// Every category by name, and whether it came from memory.
    async fn read(&self, db: &impl ConnectionTrait) -> AppResult<(Categories, bool)> {
        let fresh = self
            .lock()
            .as_ref()
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(categories, _)| categories.clone());
        if let Some(categories) = fresh {
            return Ok((categories, true));
        }
        let rows = categories_query().all(db).await?;
        let categories: Categories = rows
            .into_iter()
            .map(|row| Arc::new(CategoryView::from(row)))
            .collect();
        if !self.ttl.is_zero() {
            *self.lock() = Some((categories.clone(), Instant::now()));
        }
        Ok((categories, false))
    }

    /// What `find` makes of the categories. `find` also says whether it found all it
    /// looked for; when not, and the categories came from memory, the table is read
    /// again and `find` runs once more.
    async fn lookup<T>(
        &self,
        db: &impl ConnectionTrait,
        find: impl Fn(&[Arc<CategoryView>]) -> (T, bool),
    ) -> AppResult<T> {
        let (categories, from_memory) = self.read(db).await?;
        let (found, complete) = find(&categories);
        if complete || !from_memory {
            return Ok(found);
        }
        *self.lock() = None;
        let (categories, _) = self.read(db).await?;
        Ok(find(&categories).0)
    }

    fn lock(&self) -> MutexGuard<'_, Option<(Categories, Instant)>> {
        self.remembered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every category by name: the statement behind the remembered categories.
pub fn categories_query() -> Select<category::Entity> {
    category::Entity::find().order_by_asc(category::Column::Name)
}

/// Tags by name (at most 500).
pub async fn list_tags(db: &impl ConnectionTrait) -> AppResult<Vec<TagView>> {
    let rows = tags_query().all(db).await?;
    Ok(rows.into_iter().map(TagView::from).collect())
}

/// The statement [`list_tags`] runs.
pub fn tags_query() -> Select<tag::Entity> {
    tag::Entity::find()
        .order_by_asc(tag::Column::Name)
        .limit(TAG_LIST_LIMIT)
}

/// Categories by id (ids of no category are left out).
pub async fn categories_by_ids(
    state: &AppState,
    ids: &[String],
) -> AppResult<HashMap<String, Arc<CategoryView>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    state
        .categories
        .lookup(&state.db, |categories| {
            let found: HashMap<String, Arc<CategoryView>> = categories
                .iter()
                .filter(|category| ids.contains(&category.id))
                .map(|category| (category.id.clone(), category.clone()))
                .collect();
            let complete = ids.iter().all(|id| found.contains_key(id));
            (found, complete)
        })
        .await
}

/// Tags by id, remembered. A tag is never changed or deleted once created, so a
/// remembered tag never goes stale; only how many are kept is bounded.
pub struct TagCache {
    remembered: Option<Mutex<LruCache<String, Arc<TagView>>>>,
}

impl TagCache {
    /// Keeps the `capacity` most recently used tags (zero: none).
    pub fn new(capacity: usize) -> Self {
        Self {
            remembered: NonZeroUsize::new(capacity)
                .map(|capacity| Mutex::new(LruCache::new(capacity))),
        }
    }

    /// The tags `ids` name: remembered ones from memory, the others in one statement.
    async fn by_ids(
        &self,
        db: &impl ConnectionTrait,
        ids: &[String],
    ) -> AppResult<HashMap<String, Arc<TagView>>> {
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let mut remembered = self.lock();
            for id in ids {
                match remembered.as_mut().and_then(|cache| cache.get(id)) {
                    Some(tag) => {
                        found.insert(id.clone(), tag.clone());
                    }
                    None => missing.push(id.clone()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let rows = tag::Entity::find()
            .filter(tag::Column::Id.is_in(missing))
            .all(db)
            .await?;
        let mut remembered = self.lock();
        for row in rows {
            let tag = Arc::new(TagView::from(row));
            if let Some(cache) = remembered.as_mut() {
                cache.put(tag.id.clone(), tag.clone());
            }
            found.insert(tag.id.clone(), tag);
        }
        Ok(found)
    }

    /// The remembered tags, locked; `None` when none are kept.
    fn lock(&self) -> Option<MutexGuard<'_, LruCache<String, Arc<TagView>>>> {
        self.remembered
            .as_ref()
            .map(|cache| cache.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Tags by id, from [`TagCache`] (one statement for those it lacks; ids of no tag
/// are left out).
pub async fn tags_by_ids(
    state: &AppState,
    ids: &[String],
) -> AppResult<HashMap<String, Arc<TagView>>> {
    state.tags.by_ids(&state.db, ids).await
}

/// Puts a post's tags in the order every API shows them: by name, in byte order on
/// every backend (a post has a handful, so they are sorted here rather than by SQL).
pub fn sort_tags(tags: &mut [impl Borrow<TagView>]) {
    tags.sort_by(|a, b| a.borrow().name.cmp(&b.borrow().name));
}

/// The category with this slug or id, if any.
pub async fn find_category(state: &AppState, slug_or_id: &str) -> AppResult<Option<CategoryView>> {
    state
        .categories
        .lookup(&state.db, |categories| {
            let found = categories
                .iter()
                .find(|category| category.slug == slug_or_id || category.id == slug_or_id)
                .map(|category| CategoryView::clone(category));
            let complete = found.is_some();
            (found, complete)
        })
        .await
}

/// The tag whose slug matches `name` (any spelling that slugifies the same).
pub async fn find_tag(db: &impl ConnectionTrait, name: &str) -> AppResult<Option<tag::Model>> {
    Ok(tag::Entity::find()
        .filter(tag::Column::Slug.eq(slugify(name)))
        .one(db)
        .await?)
}

/// The tags named `names`, created on first use; names that slugify alike are one tag.
pub async fn ensure_tags(
    db: &impl ConnectionTrait,
    names: &[String],
) -> AppResult<Vec<tag::Model>> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    for name in names {
        let slug = slugify(name);
        if !slug.is_empty() && !wanted.iter().any(|(existing, _)| *existing == slug) {
            wanted.push((slug, name.trim().to_owned()));
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let created_at = now();
    let rows = wanted.iter().map(|(slug, name)| tag::ActiveModel {
        id: Set(new_id()),
        name: Set(name.clone()),
        slug: Set(slug.clone()),
        created_at: Set(created_at),
    });
    tag::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([tag::Column::Slug])
        .exec(db)
        .await?;
    let slugs: Vec<String> = wanted.into_iter().map(|(slug, _)| slug).collect();
    Ok(tag::Entity::find()
        .filter(tag::Column::Slug.is_in(slugs))
        .all(db)
        .await?)
}

/// Ids of posts carrying `tag_id` (a subquery for list filters).
pub fn post_ids_with_tag(tag_id: &str) -> sea_orm::sea_query::SelectStatement {
    post_tag::Entity::find()
        .select_only()
        .column(post_tag::Column::PostId)
        .filter(post_tag::Column::TagId.eq(tag_id))
        .into_query()
}
