//! Who is calling: the `Authorization` header is read once per request by
//! [`credentials_layer`]; REST handlers, the GraphQL handler and the WebSocket
//! `connection_init` all turn it into a [`Caller`] through [`Caller::resolve`].

use std::net::{IpAddr, SocketAddr};

use aide::{
    OperationInput,
    generate::GenContext,
    openapi::{Operation, SecurityRequirement},
};
use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sea_orm::EntityTrait;

use super::{AccessClaims, Role, UserStatus};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

/// What the `Authorization` header said, before any database lookup.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// No header.
    Anonymous,
    /// A valid, unexpired access token.
    Token(AccessClaims),
    /// A header that does not hold a valid token (the reason is the 401 message).
    Invalid(&'static str),
}

impl Credentials {
    /// Parses an `Authorization` header value (`Bearer <jwt>`).
    pub fn from_header(state: &AppState, value: Option<&str>) -> Self {
        let Some(value) = value else {
            return Self::Anonymous;
        };
        let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
            return Self::Invalid("Authorization must be `Bearer <token>`");
        };
        match state.tokens.verify(token) {
            Ok(claims) => Self::Token(claims),
            Err(AppError::Unauthorized(reason)) => Self::Invalid(reason),
            Err(_) => Self::Invalid("Invalid access token"),
        }
    }

    /// The rate-limit key: the user id for a valid token, else the client address.
    fn rate_key(&self, ip: Option<IpAddr>) -> String {
        match self {
            Self::Token(claims) => format!("user:{}", claims.sub),
            _ => ip_key(ip),
        }
    }
}

fn ip_key(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "ip:unknown".to_owned(), |ip| format!("ip:{ip}"))
}

/// The client's address, when the server was started with connection info.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub Option<IpAddr>);

/// Reads credentials and the client address into the request's extensions and
/// applies the overall API rate limit (per user, or per address when anonymous).
pub async fn credentials_layer(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| {
            state
                .trusted_proxies
                .client_ip(info.0.ip(), request.headers())
        });
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or("invalid"));
    let credentials = Credentials::from_header(&state, header);
    if let Credentials::Token(claims) = &credentials {
        crate::request_log::record_user(&claims.sub);
    }
    if let Err(err) = state.limits.api.check(&credentials.rate_key(ip)).await {
        return err.into_response();
    }
    request.extensions_mut().insert(credentials);
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

/// The signed-in user behind a request.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub id: String,
    pub username: String,
    pub role: Role,
}

impl From<&entity::user::Model> for Viewer {
    fn from(user: &entity::user::Model) -> Self {
        Self {
            id: user.id.clone(),
            username: user.username.clone(),
            role: user.role.parse().unwrap_or(Role::User),
        }
    }
}

impl Viewer {
    /// True when the viewer is `user_id` or may moderate.
    pub fn owns_or_moderates(&self, user_id: &str) -> bool {
        self.id == user_id || self.role.moderates()
    }
}

/// Everyone who calls a domain function: a [`Viewer`] or an anonymous client.
#[derive(Clone, Debug)]
pub struct Caller {
    pub viewer: Option<Viewer>,
    pub ip: Option<IpAddr>,
}

impl Caller {
    /// An anonymous caller (seeding, jobs and tests).
    pub fn anonymous() -> Self {
        Self {
            viewer: None,
            ip: None,
        }
    }

    /// Checks a token's user: it must exist, be allowed to act and still hold the session.
    pub async fn resolve(
        state: &AppState,
        credentials: &Credentials,
        ip: Option<IpAddr>,
    ) -> AppResult<Self> {
        let claims = match credentials {
            Credentials::Anonymous => return Ok(Self { viewer: None, ip }),
            Credentials::Invalid(reason) => return Err(AppError::Unauthorized(reason)),
            Credentials::Token(claims) => claims,
        };
        let user = entity::user::Entity::find_by_id(claims.sub.clone())
            .one(&state.db)
            .await?
            .ok_or(AppError::Unauthorized("Account no longer exists"))?;
        if !UserStatus::stored_may_act(&user.status) {
            return Err(AppError::Unauthorized("Account is suspended or banned"));
        }
        if user.session_version != claims.sv {
            return Err(AppError::Unauthorized("Session ended; log in again"));
        }
        Ok(Self {
            viewer: Some(Viewer::from(&user)),
            ip,
        })
    }

    /// The signed-in user, or 401.
    pub fn viewer(&self) -> AppResult<&Viewer> {
        self.viewer
            .as_ref()
            .ok_or(AppError::Unauthorized("Authentication required"))
    }

    /// The key per-action rate limits count under.
    pub fn rate_key(&self) -> String {
        match &self.viewer {
            Some(viewer) => format!("user:{}", viewer.id),
            None => ip_key(self.ip),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    /// Resolved once per request; later extractions reuse the result.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        if let Some(caller) = parts.extensions.get::<Self>() {
            return Ok(caller.clone());
        }
        let credentials = parts
            .extensions
            .get::<Credentials>()
            .cloned()
            .unwrap_or(Credentials::Anonymous);
        let ip = parts.extensions.get::<ClientIp>().and_then(|ip| ip.0);
        let caller = Self::resolve(state, &credentials, ip).await?;
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

impl OperationInput for Caller {
    /// Authentication is optional: the operation accepts a bearer token or none.
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        operation.security = vec![SecurityRequirement::default(), bearer_requirement()];
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        Caller::from_request_parts(parts, state)
            .await?
            .viewer
            .ok_or(AppError::Unauthorized("Authentication required"))
    }
}

impl OperationInput for Viewer {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        operation.security = vec![bearer_requirement()];
    }
}

fn bearer_requirement() -> SecurityRequirement {
    SecurityRequirement::from_iter([("bearerAuth".to_owned(), Vec::new())])
}
