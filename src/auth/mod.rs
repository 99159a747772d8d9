//! Authentication: password hashing, access tokens (JWT), refresh-token secrets,
//! roles, and the [`Caller`] every domain function receives.

mod caller;
mod client_address;
mod password;
mod roles;
mod tokens;

pub use caller::{Caller, ClientIp, Credentials, Viewer, credentials_layer};
pub use client_address::TrustedProxies;
pub use password::PasswordHasher;
pub use roles::{Role, UserStatus};
pub use tokens::{AccessClaims, TokenKeys, new_refresh_secret, refresh_secret_hash};
