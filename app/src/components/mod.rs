//! Reusable widgets. Named after what the administrator sees.

mod blade_header;
mod empty_state;
mod form_field;
mod page_title;
mod plural;
mod query_link;
mod suggestions;

pub use blade_header::BladeHeader;
pub use empty_state::EmptyState;
pub use form_field::{FormBanner, FormError, FormField};
pub use page_title::PageTitle;
pub use plural::plural;
pub use query_link::{percent_encode, query_link};
pub use suggestions::Suggestions;
