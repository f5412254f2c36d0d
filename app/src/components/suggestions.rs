//! What a picker's field suggests as the administrator types: users by name or sign-in name,
//! groups by name.

use leptos::prelude::*;

use crate::{api::AppError, model::PickerOption};

/// The `<datalist>` called `id` of what `suggestions` found for the text typed.
#[component]
pub fn Suggestions(
    id: &'static str,
    suggestions: Resource<Result<Vec<PickerOption>, AppError>>,
) -> impl IntoView {
    view! {
        <datalist id=id>
            <Transition>
                {move || Suspend::new(async move {
                    suggestions.await.unwrap_or_default().into_iter().map(|m| view! {
                        <option value=m.value label=m.label></option>
                    }).collect_view()
                })}
            </Transition>
        </datalist>
    }
}
