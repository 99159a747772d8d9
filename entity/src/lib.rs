//! Sea-ORM entities: one module per table. These are table rows, not API shapes;
//! the server's `domain` layer turns them into views.

pub mod category;
pub mod comment;
pub mod email_preference;
pub mod email_token;
pub mod follow;
pub mod job;
pub mod login_throttle;
pub mod mail;
pub mod mail_counter;
pub mod media;
pub mod notification;
pub mod post;
pub mod post_tag;
pub mod profile;
pub mod reaction;
pub mod refresh_token;
pub mod schedule_firing;
pub mod tag;
pub mod user;

pub mod prelude {
    pub use super::category::Entity as Category;
    pub use super::comment::Entity as Comment;
    pub use super::email_preference::Entity as EmailPreference;
    pub use super::email_token::Entity as EmailToken;
    pub use super::follow::Entity as Follow;
    pub use super::job::Entity as Job;
    pub use super::login_throttle::Entity as LoginThrottle;
    pub use super::mail::Entity as Mail;
    pub use super::mail_counter::Entity as MailCounter;
    pub use super::media::Entity as Media;
    pub use super::notification::Entity as Notification;
    pub use super::post::Entity as Post;
    pub use super::post_tag::Entity as PostTag;
    pub use super::profile::Entity as Profile;
    pub use super::reaction::Entity as Reaction;
    pub use super::refresh_token::Entity as RefreshToken;
    pub use super::schedule_firing::Entity as ScheduleFiring;
    pub use super::tag::Entity as Tag;
    pub use super::user::Entity as User;
}
