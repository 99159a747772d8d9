//! Page shapes: REST offset pages and the bounds every list shares.

use serde::Serialize;

use super::validate::Validator;
use crate::error::AppResult;

/// One page of an offset-paginated list: `{items, total, page, pageSize, totalPages}`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
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
