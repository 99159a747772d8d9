//! The words of every notification: its title and message, from the names involved.
//! In-app notifications take them from here, and so does the mail about them, so a
//! notification reads the same wherever it is seen.

use super::notifications::NotificationType;

/// Something that happened to a user, with the names a notification about it shows.
#[derive(Clone, Copy, Debug)]
pub enum Happening<'a> {
    /// `follower` followed the user.
    Followed { follower: &'a str },
    /// `commenter` commented on the user's post.
    Commented {
        commenter: &'a str,
        post_title: &'a str,
    },
    /// `replier` replied to the user's comment.
    Replied {
        replier: &'a str,
        post_title: &'a str,
    },
    /// `author` mentioned the user in a post.
    MentionedInPost {
        author: &'a str,
        post_title: &'a str,
    },
    /// `author` mentioned the user in a comment on a post.
    MentionedInComment {
        author: &'a str,
        post_title: &'a str,
    },
    /// `actor` reacted to the user's post.
    ReactedToPost { actor: &'a str, post_title: &'a str },
    /// `actor` reacted to the user's comment on a post.
    ReactedToComment { actor: &'a str, post_title: &'a str },
    /// An administrator's notice to everyone.
    SystemNotice { title: &'a str, message: &'a str },
}

impl Happening<'_> {
    /// The notification type.
    pub fn kind(&self) -> NotificationType {
        match self {
            Self::Followed { .. } => NotificationType::UserFollowed,
            Self::Commented { .. } | Self::Replied { .. } => NotificationType::PostCommented,
            Self::MentionedInPost { .. } | Self::MentionedInComment { .. } => {
                NotificationType::Mention
            }
            Self::ReactedToPost { .. } => NotificationType::PostLiked,
            Self::ReactedToComment { .. } => NotificationType::CommentLiked,
            Self::SystemNotice { .. } => NotificationType::System,
        }
    }

    /// The title.
    pub fn title(&self) -> String {
        match self {
            Self::Followed { .. } => "New follower",
            Self::Commented { .. } => "New comment",
            Self::Replied { .. } => "New reply",
            Self::MentionedInPost { .. } | Self::MentionedInComment { .. } => "You were mentioned",
            Self::ReactedToPost { .. } | Self::ReactedToComment { .. } => "New reaction",
            Self::SystemNotice { title, .. } => title,
        }
        .to_owned()
    }

    /// The message.
    pub fn message(&self) -> String {
        match self {
            Self::Followed { follower } => format!("{follower} started following you"),
            Self::Commented {
                commenter,
                post_title,
            } => format!("{commenter} commented on \"{post_title}\""),
            Self::Replied {
                replier,
                post_title,
            } => format!("{replier} replied to your comment on \"{post_title}\""),
            Self::MentionedInPost { author, post_title } => {
                format!("{author} mentioned you in \"{post_title}\"")
            }
            Self::MentionedInComment { author, post_title } => {
                format!("{author} mentioned you in a comment on \"{post_title}\"")
            }
            Self::ReactedToPost { actor, post_title } => {
                format!("{actor} reacted to your post \"{post_title}\"")
            }
            Self::ReactedToComment { actor, post_title } => {
                format!("{actor} reacted to your comment on \"{post_title}\"")
            }
            Self::SystemNotice { message, .. } => (*message).to_owned(),
        }
    }
}

/// A line summing up `count` notifications of `kind` in one mail ("3 new followers").
pub fn mail_summary(kind: NotificationType, count: usize) -> String {
    let plural = |one: &str, many: &str| {
        if count == 1 {
            format!("1 {one}")
        } else {
            format!("{count} {many}")
        }
    };
    match kind {
        NotificationType::UserFollowed => plural("new follower", "new followers"),
        NotificationType::PostCommented => {
            plural("new comment or reply", "new comments and replies")
        }
        NotificationType::Mention => plural("new mention of you", "new mentions of you"),
        NotificationType::PostLiked => {
            plural("new reaction to your posts", "new reactions to your posts")
        }
        NotificationType::CommentLiked => plural(
            "new reaction to your comments",
            "new reactions to your comments",
        ),
        NotificationType::AchievementUnlocked => {
            plural("achievement unlocked", "achievements unlocked")
        }
        NotificationType::LevelUp => plural("level reached", "levels reached"),
        NotificationType::System => plural(
            "notice from Sparkle Universe",
            "notices from Sparkle Universe",
        ),
    }
}
