//! Roles and account states, stored as their SCREAMING_SNAKE_CASE names.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a user may do. MODERATOR and ADMIN moderate; only ADMIN changes roles.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    async_graphql::Enum,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    User,
    Creator,
    VerifiedCreator,
    Moderator,
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Creator => "CREATOR",
            Self::VerifiedCreator => "VERIFIED_CREATOR",
            Self::Moderator => "MODERATOR",
            Self::Admin => "ADMIN",
        }
    }

    /// True for MODERATOR and ADMIN.
    pub fn moderates(self) -> bool {
        self >= Self::Moderator
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [
            Self::User,
            Self::Creator,
            Self::VerifiedCreator,
            Self::Moderator,
            Self::Admin,
        ]
        .into_iter()
        .find(|role| role.as_str() == s)
        .ok_or(())
    }
}

/// The life cycle of an account.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    async_graphql::Enum,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    PendingVerification,
    Active,
    Suspended,
    Banned,
    Deleted,
}

impl UserStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingVerification => "PENDING_VERIFICATION",
            Self::Active => "ACTIVE",
            Self::Suspended => "SUSPENDED",
            Self::Banned => "BANNED",
            Self::Deleted => "DELETED",
        }
    }

    /// Whether an account in this state may log in and act.
    pub fn may_act(self) -> bool {
        matches!(self, Self::PendingVerification | Self::Active)
    }

    /// Whether an account with the stored status `stored` may log in and act
    /// (an unreadable status may not).
    pub fn stored_may_act(stored: &str) -> bool {
        stored.parse::<Self>().is_ok_and(Self::may_act)
    }
}

impl FromStr for UserStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [
            Self::PendingVerification,
            Self::Active,
            Self::Suspended,
            Self::Banned,
            Self::Deleted,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or(())
    }
}
