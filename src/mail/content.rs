//! What a mail says, as stored with it: one variant per kind of mail, holding what
//! its template shows (never a secret: account tokens are made when the mail is sent).

use serde::{Deserialize, Serialize};

use crate::domain::notifications::NotificationType;

/// The preference a non-transactional mail falls under (and its unsubscribe link turns off).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailCategory {
    Follows,
    Comments,
    Mentions,
    Likes,
    Achievements,
    System,
    Digest,
}

impl MailCategory {
    /// Every category, in the order the preferences list them.
    pub const ALL: [Self; 7] = [
        Self::Follows,
        Self::Comments,
        Self::Mentions,
        Self::Likes,
        Self::Achievements,
        Self::System,
        Self::Digest,
    ];

    /// The stored (and linked) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Follows => "follows",
            Self::Comments => "comments",
            Self::Mentions => "mentions",
            Self::Likes => "likes",
            Self::Achievements => "achievements",
            Self::System => "system",
            Self::Digest => "digest",
        }
    }

    /// Parses a stored name.
    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|category| category.as_str() == stored)
    }

    /// The category of mail about notifications of `kind`.
    pub fn of_notification(kind: NotificationType) -> Self {
        match kind {
            NotificationType::UserFollowed => Self::Follows,
            NotificationType::PostCommented => Self::Comments,
            NotificationType::Mention => Self::Mentions,
            NotificationType::PostLiked | NotificationType::CommentLiked => Self::Likes,
            NotificationType::AchievementUnlocked | NotificationType::LevelUp => Self::Achievements,
            NotificationType::System => Self::System,
        }
    }

    /// How people read it in a sentence ("you will no longer get …").
    pub fn describe(self) -> &'static str {
        match self {
            Self::Follows => "mail about new followers",
            Self::Comments => "mail about comments and replies",
            Self::Mentions => "mail about mentions",
            Self::Likes => "mail about reactions",
            Self::Achievements => "mail about achievements and levels",
            Self::System => "announcements",
            Self::Digest => "the weekly digest",
        }
    }
}

/// One notification told of in a mail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotificationItem {
    pub title: String,
    pub message: String,
    /// Where the notification leads (a post, a profile).
    pub url: String,
}

/// A post in the weekly digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigestPost {
    pub title: String,
    pub author: String,
    pub excerpt: String,
    pub url: String,
    /// Why it is in the digest: "from people you follow" or "in a category you read".
    pub reason: String,
}

/// What a mail says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailContent {
    /// Sent at registration, with the link that verifies the address.
    Welcome,
    /// A new verification link, asked for again.
    VerifyEmail,
    /// The link that sets a new password.
    PasswordReset,
    /// Sent to a new address, with the link that confirms it.
    ConfirmNewEmail { new_email: String },
    /// Sent to the old address once the change is done.
    EmailChanged { new_email: String },
    /// Notifications of one type, coalesced.
    Notifications {
        notification_type: NotificationType,
        items: Vec<NotificationItem>,
    },
    /// The week's posts and the count of unread notifications.
    WeeklyDigest {
        week_of: String,
        posts: Vec<DigestPost>,
        unread_notifications: u64,
    },
}

impl MailContent {
    /// The kind of mail, as the statistics count it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
            Self::ConfirmNewEmail { .. } => "confirm_new_email",
            Self::EmailChanged { .. } => "email_changed",
            Self::Notifications {
                notification_type, ..
            } => match notification_type {
                NotificationType::UserFollowed => "new_follower",
                NotificationType::PostCommented => "comment",
                NotificationType::Mention => "mention",
                NotificationType::PostLiked => "post_liked",
                NotificationType::CommentLiked => "comment_liked",
                NotificationType::AchievementUnlocked => "achievement",
                NotificationType::LevelUp => "level_up",
                NotificationType::System => "system_notice",
            },
            Self::WeeklyDigest { .. } => "weekly_digest",
        }
    }

    /// The preference the mail falls under; `None` for transactional (account) mail,
    /// which is always sent.
    pub fn category(&self) -> Option<MailCategory> {
        match self {
            Self::Welcome
            | Self::VerifyEmail
            | Self::PasswordReset
            | Self::ConfirmNewEmail { .. }
            | Self::EmailChanged { .. } => None,
            Self::Notifications {
                notification_type, ..
            } => Some(MailCategory::of_notification(*notification_type)),
            Self::WeeklyDigest { .. } => Some(MailCategory::Digest),
        }
    }

    /// Account mail: never held back by the per-recipient limit, never tracked, no
    /// unsubscribe link.
    pub fn is_transactional(&self) -> bool {
        self.category().is_none()
    }
}
