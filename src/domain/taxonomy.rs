//! Categories and tags: the ways posts are filed and found.

use std::collections::HashMap;

use entity::{category, post_tag, tag};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use serde::Serialize;

use super::{new_id, now, text::slugify};
use crate::error::AppResult;

/// Most tags one post may carry.
pub const MAX_TAGS_PER_POST: usize = 10;
/// Longest tag name.
pub const MAX_TAG_CHARS: usize = 50;
/// Most tags `GET /api/tags` returns.
const TAG_LIST_LIMIT: u64 = 500;

/// A category as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[schemars(rename = "Category")]
#[graphql(name = "Category")]
pub struct CategoryView {
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
#[graphql(name = "Tag")]
pub struct TagView {
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
pub async fn list_categories(db: &impl ConnectionTrait) -> AppResult<Vec<CategoryView>> {
    let rows = category::Entity::find()
        .order_by_asc(category::Column::Name)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(CategoryView::from).collect())
}

/// Tags by name (at most 500).
pub async fn list_tags(db: &impl ConnectionTrait) -> AppResult<Vec<TagView>> {
    let rows = tag::Entity::find()
        .order_by_asc(tag::Column::Name)
        .limit(TAG_LIST_LIMIT)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(TagView::from).collect())
}

/// Categories by id, in one statement.
pub async fn categories_by_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> AppResult<HashMap<String, CategoryView>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = category::Entity::find()
        .filter(category::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.id.clone(), row.into()))
        .collect())
}

/// The tags of each post, by name, in one statement.
pub async fn tags_by_post_ids(
    db: &impl ConnectionTrait,
    post_ids: &[String],
) -> AppResult<HashMap<String, Vec<TagView>>> {
    let mut tags: HashMap<String, Vec<TagView>> =
        post_ids.iter().map(|id| (id.clone(), Vec::new())).collect();
    if post_ids.is_empty() {
        return Ok(tags);
    }
    let rows: Vec<(post_tag::Model, Option<tag::Model>)> = post_tag::Entity::find()
        .find_also_related(tag::Entity)
        .filter(post_tag::Column::PostId.is_in(post_ids.iter().cloned()))
        .order_by_asc(tag::Column::Name)
        .all(db)
        .await?;
    for (link, tag) in rows {
        if let (Some(list), Some(tag)) = (tags.get_mut(&link.post_id), tag) {
            list.push(tag.into());
        }
    }
    Ok(tags)
}

/// The category with this slug or id, if any.
pub async fn find_category(
    db: &impl ConnectionTrait,
    slug_or_id: &str,
) -> AppResult<Option<category::Model>> {
    Ok(category::Entity::find()
        .filter(
            category::Column::Slug
                .eq(slug_or_id)
                .or(category::Column::Id.eq(slug_or_id)),
        )
        .one(db)
        .await?)
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
