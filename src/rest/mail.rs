//! `/api/mail/*` and the mail preferences: one-click unsubscribe (RFC 8058), the
//! tracking pixel and click redirects, the signed-in user's preferences, and the
//! statistics per kind of mail for administrators.

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use super::{
    extract::{ApiJson, ApiQuery},
    respond::{Envelope, ok},
};
use crate::{
    auth::{Caller, Viewer},
    error::{AppError, AppResult},
    html::HtmlPage,
    mail::{
        preferences::{self, EmailPreferences, Unsubscribed, UpdateEmailPreferencesInput},
        templates,
        tracking::{self, MailKindStats},
    },
    state::AppState,
};

const TAG: &str = "Email";

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/api/mail/unsubscribe",
            post_with(unsubscribe, |op| {
                op.tag(TAG).summary("Unsubscribe (one click)").description(
                    "RFC 8058 one-click unsubscribe: turns off the mail category named in the signed token of a mail's `List-Unsubscribe` link. No login; any body (mail clients send `List-Unsubscribe=One-Click`)",
                )
            }),
        )
        .route("/api/mail/unsubscribe", get(unsubscribe_page))
        .api_route(
            "/api/users/me/email-preferences",
            get_with(get_preferences, |op| {
                op.tag(TAG)
                    .summary("Own email preferences")
                    .description("Which mail the signed-in user gets, by category")
            })
            .put_with(update_preferences, |op| {
                op.tag(TAG)
                    .summary("Change own email preferences")
                    .description("Turn categories of mail on or off; absent fields stay as they are")
            }),
        )
        .api_route(
            "/api/admin/mail",
            get_with(stats, |op| {
                op.tag(TAG).summary("Mail statistics").description(
                    "ADMIN only: per kind of mail, how many were set out to send, delivered to a transport, deferred by a limit, skipped, opened and clicked",
                )
            }),
        )
        .route("/api/mail/open/{mail_id}", get(open_pixel))
        .route("/api/mail/click/{mail_id}", get(click))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct TokenQuery {
    /// The signed token of the mail's unsubscribe link.
    token: String,
}

async fn unsubscribe(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> AppResult<Json<Envelope<Unsubscribed>>> {
    Ok(ok(preferences::unsubscribe(&state, &query.token).await?))
}

/// The page a person reaches by following the unsubscribe link: a button that posts
/// the unsubscribe (a GET never changes anything, so link scanners cannot).
async fn unsubscribe_page(ApiQuery(query): ApiQuery<TokenQuery>) -> AppResult<HtmlPage> {
    Ok(HtmlPage::new(templates::unsubscribe_page(&query.token)?))
}

async fn get_preferences(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
) -> AppResult<Json<Envelope<EmailPreferences>>> {
    Ok(ok(preferences::get(&state, &caller).await?))
}

async fn update_preferences(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    ApiJson(input): ApiJson<UpdateEmailPreferencesInput>,
) -> AppResult<Json<Envelope<EmailPreferences>>> {
    Ok(ok(preferences::update(&state, &caller, input).await?))
}

async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
) -> AppResult<Json<Envelope<Vec<MailKindStats>>>> {
    Ok(ok(tracking::stats(&state, &caller).await?))
}

#[derive(Deserialize)]
struct OpenQuery {
    sig: String,
}

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

async fn open_pixel(
    State(state): State<AppState>,
    Path(mail_id): Path<String>,
    ApiQuery(query): ApiQuery<OpenQuery>,
) -> AppResult<Response> {
    tracking::record_open(&state, &mail_id, &query.sig).await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        PIXEL,
    )
        .into_response())
}

#[derive(Deserialize)]
struct ClickQuery {
    url: String,
    sig: String,
}

async fn click(
    State(state): State<AppState>,
    Path(mail_id): Path<String>,
    ApiQuery(query): ApiQuery<ClickQuery>,
) -> AppResult<Response> {
    let target = tracking::follow_click(&state, &mail_id, &query.url, &query.sig).await?;
    let location =
        HeaderValue::from_str(&target).map_err(|_| AppError::NotFound("Tracked link"))?;
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}
