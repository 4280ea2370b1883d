//! `?page=&perPage=` and the `{ items, page, perPage, total }` envelope of every list.

use crate::error::ApiError;
use serde::Deserialize;
pub use shipyard_api_types::paging::List;
use shipyard_store::{Page, Paged};
use utoipa::IntoParams;

/// Paging parameters of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

impl PageQuery {
    /// Validated paging.
    pub fn page(&self) -> Result<Page, ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        if page == 0 {
            return Err(ApiError::bad_request("query parameter `page` starts at 1"));
        }
        if !(1..=100).contains(&per_page) {
            return Err(ApiError::bad_request(
                "query parameter `perPage` must be between 1 and 100",
            ));
        }
        Ok(Page { page, per_page })
    }
}

/// Parses an optional filter of the query string; `parse` returns None for a bad value,
/// which is a 400 naming the parameter.
pub fn filter<T>(name: &str, value: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
    value
        .map(|v| parse(v).ok_or_else(|| ApiError::bad_request(format!("query parameter `{name}`: `{v}` is not valid"))))
        .transpose()
}

/// Wraps a page from the store, converting each item.
pub fn list_of<S, T>(paged: Paged<S>, page: Page, convert: impl Fn(S) -> T) -> List<T> {
    List {
        items: paged.items.into_iter().map(convert).collect(),
        page: page.page,
        per_page: page.per_page,
        total: paged.total,
    }
}
