//! Page shapes: REST offset pages, cursor pages, and the bounds every list shares.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Serialize, de::DeserializeOwned};

use super::validate::Validator;
use crate::error::AppResult;

/// One page of an offset-paginated list: `{items, total, page, pageSize, totalPages}`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "{T}Page")]
pub struct OffsetPage<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    pub total_pages: u64,
}

impl<T> OffsetPage<T> {
    /// Wraps `items` of the page described by `window`, out of `total`.
    pub fn new(items: Vec<T>, total: u64, window: PageWindow) -> Self {
        Self {
            items,
            total,
            page: window.offset / window.limit + 1,
            page_size: window.limit,
            total_pages: total.div_ceil(window.limit),
        }
    }
}

/// Rows `offset..offset + limit` of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageWindow {
    pub offset: u64,
    pub limit: u64,
}

impl PageWindow {
    /// The window of 1-based `page` of `limit` rows; `limit` must be `1..=max_limit`.
    pub fn from_page(page: u64, limit: u64, max_limit: u64) -> AppResult<Self> {
        let mut validator = Validator::default();
        validator.check("page", page >= 1, "must be at least 1");
        validator.check("page", page <= 1_000_000, "must be at most 1000000");
        validator.check(
            "limit",
            (1..=max_limit).contains(&limit),
            format!("must be between 1 and {max_limit}"),
        );
        validator.finish()?;
        Ok(Self {
            offset: (page - 1) * limit,
            limit,
        })
    }
}

/// One page of a cursor-paginated list: `{items, nextCursor, hasMore}`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "{T}CursorPage")]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// What the client calls the cursor and the page size (error messages name them).
#[derive(Clone, Copy, Debug)]
pub struct PageFields {
    pub cursor: &'static str,
    pub limit: &'static str,
}

impl PageFields {
    /// REST: `?cursor=&limit=`.
    pub const REST: Self = Self {
        cursor: "cursor",
        limit: "limit",
    };
    /// GraphQL connections: `(first:, after:)`.
    pub const GRAPHQL: Self = Self {
        cursor: "after",
        limit: "first",
    };
}

/// Where a keyset-paginated list resumes: after the row whose sort key is `after`,
/// for `limit` rows. `K` is private to the list; clients only see it encoded.
#[derive(Clone, Debug)]
pub struct CursorWindow<K> {
    pub after: Option<K>,
    pub limit: u64,
}

impl<K: DeserializeOwned> CursorWindow<K> {
    /// Decodes `cursor` and checks `limit` is `1..=max_limit`; problems name `fields`.
    pub fn parse(
        cursor: Option<&str>,
        limit: u64,
        max_limit: u64,
        fields: PageFields,
    ) -> AppResult<Self> {
        let mut validator = Validator::default();
        validator.check(
            fields.limit,
            (1..=max_limit).contains(&limit),
            format!("must be between 1 and {max_limit}"),
        );
        let after = match cursor.filter(|cursor| !cursor.is_empty()) {
            None => None,
            Some(cursor) => {
                let key = decode_cursor(cursor);
                validator.check(fields.cursor, key.is_some(), "is not a cursor of this list");
                key
            }
        };
        validator.finish()?;
        Ok(Self { after, limit })
    }

    /// How many rows to fetch: one more than the page, to learn whether more follow.
    pub fn probe_limit(&self) -> u64 {
        self.limit + 1
    }
}

/// The rows of one cursor page, each with its own cursor (GraphQL edges need them).
#[derive(Debug)]
pub struct CursorSlice<R> {
    pub rows: Vec<(String, R)>,
    pub has_more: bool,
}

impl<R> CursorSlice<R> {
    /// Keeps the first `limit` of `rows` (fetched with [`CursorWindow::probe_limit`])
    /// and gives each the cursor of its sort key `key`.
    pub fn from_probe<K: Serialize>(mut rows: Vec<R>, limit: u64, key: impl Fn(&R) -> K) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let rows = rows
            .into_iter()
            .map(|row| (encode_cursor(&key(&row)), row))
            .collect();
        Self { rows, has_more }
    }

    /// Changes every row, keeping the cursors; rows `change` maps to `None` are dropped.
    pub fn filter_map<T>(self, mut change: impl FnMut(R) -> Option<T>) -> CursorSlice<T> {
        CursorSlice {
            rows: self
                .rows
                .into_iter()
                .filter_map(|(cursor, row)| change(row).map(|row| (cursor, row)))
                .collect(),
            has_more: self.has_more,
        }
    }

    /// Changes every row with a fallible `change`, keeping the cursors.
    pub fn try_map<T, E>(
        self,
        mut change: impl FnMut(R) -> Result<T, E>,
    ) -> Result<CursorSlice<T>, E> {
        let mut rows = Vec::with_capacity(self.rows.len());
        for (cursor, row) in self.rows {
            rows.push((cursor, change(row)?));
        }
        Ok(CursorSlice {
            rows,
            has_more: self.has_more,
        })
    }

    /// The REST page: items, and the last item's cursor when more follow.
    pub fn into_page<T>(self, mut view: impl FnMut(R) -> T) -> CursorPage<T> {
        let next_cursor = match self.has_more {
            true => self.rows.last().map(|(cursor, _)| cursor.clone()),
            false => None,
        };
        CursorPage {
            items: self.rows.into_iter().map(|(_, row)| view(row)).collect(),
            next_cursor,
            has_more: self.has_more,
        }
    }
}

/// A sort key as an opaque, URL-safe cursor.
fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// The sort key of a cursor, or `None` when it is not one of ours.
fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> Option<K> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::{CursorSlice, CursorWindow, PageFields};

    #[test]
    fn cursors_round_trip_and_bogus_ones_name_the_field() {
        let slice = CursorSlice::from_probe(vec![3_i64, 2, 1], 2, |row| ("k", *row));
        assert!(slice.has_more);
        let page = slice.into_page(|row| row);
        assert_eq!(page.items, vec![3, 2]);
        let cursor = page.next_cursor.expect("a next cursor");
        let window: CursorWindow<(String, i64)> =
            CursorWindow::parse(Some(&cursor), 2, 100, PageFields::REST).expect("valid cursor");
        assert_eq!(window.after, Some(("k".to_owned(), 2)));

        let bogus = CursorWindow::<(String, i64)>::parse(Some("nope!"), 0, 100, PageFields::REST)
            .expect_err("bogus cursor");
        let fields = bogus.fields().expect("field errors");
        assert!(fields.contains_key("cursor") && fields.contains_key("limit"));
    }
}
