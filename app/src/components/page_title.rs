//! The document's `<title>`, the one way pages set it. leptos_meta writes the server-rendered
//! title into the page without escaping it, so a name holding `</title><script>` would close the
//! element and run as markup; the server's copy is escaped here. The browser's copy is set as
//! `document.title`, which is plain text, so it stays as typed.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let text = escape_text(&text);
    view! { <Title text /> }
}

/// Text made safe inside an element whose content is text (`<title>` is raw text up to `</`).
#[cfg(feature = "ssr")]
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn markup_in_a_title_stays_text() {
        assert_eq!(
            super::escape_text("</title><script>x()</script> & co"),
            "&lt;/title&gt;&lt;script&gt;x()&lt;/script&gt; &amp; co"
        );
    }
}
