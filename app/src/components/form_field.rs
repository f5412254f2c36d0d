//! Form inputs that show the server's verdict on them: the message of an `AppError::Invalid`
//! whose field is this input's name appears under the input, and marks it invalid.

use leptos::prelude::*;

use crate::api::AppError;

/// The latest error of a form's action, as a signal the form's fields read.
pub type FormError = Signal<Option<AppError>>;

#[component]
pub fn FormField(
    label: &'static str,
    /// The input's name: the server function's argument, and the `field` of its errors.
    name: &'static str,
    error: FormError,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] autofocus: bool,
    #[prop(default = true)] required: bool,
    /// The value the field starts with (an edit form's current value).
    #[prop(optional, into)]
    value: String,
    #[prop(optional)] disabled: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let message = move || error.get().and_then(|e| e.for_field(name));
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    view! {
        <div class="form-field" class:invalid=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                autofocus=autofocus
                required=required
                value=value
                disabled=disabled
                aria-invalid=move || message().is_some().to_string()
                aria-describedby=if hint.is_empty() { error_id.clone() } else { format!("{hint_id} {error_id}") }
            />
            <Show when=move || !hint.is_empty()>
                <p class="hint" id=hint_id.clone()>{hint}</p>
            </Show>
            <p class="field-error" id=error_id role="alert">{message}</p>
        </div>
    }
}

/// Errors that are not about one field (wrong password, throttling, server trouble), and, when
/// the form lists the `fields` it shows, errors about any other field.
#[component]
pub fn FormBanner(
    error: FormError,
    #[prop(optional)] fields: Option<&'static [&'static str]>,
) -> impl IntoView {
    let message = move || {
        error.get().and_then(|e| match (&e, fields) {
            (AppError::Invalid { field, message }, Some(shown))
                if !shown.contains(&field.as_str()) =>
            {
                Some(message.clone())
            }
            _ => e.banner(),
        })
    };
    view! {
        <Show when=move || message().is_some()>
            <div class="banner error" role="alert">{message}</div>
        </Show>
    }
}
