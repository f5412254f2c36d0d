use crate::components::PageTitle;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::session::SignIn,
    components::{FormBanner, FormField},
};

#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let error = Signal::derive(move || sign_in.value().get().and_then(Result::err));
    // A single sign-on waiting for this sign-in is the server's page, not the console's.
    Effect::new(move |_| {
        if let Some(Ok(Some(address))) = sign_in.value().get() {
            #[cfg(feature = "hydrate")]
            let _ = window().location().set_href(&address);
            #[cfg(not(feature = "hydrate"))]
            let _ = address;
        }
    });
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <PageTitle text="Sign in - Scimitar" />
        <main class="standalone">
            <div class="card">
                <p class="brand">"Scimitar"</p>
                <h1>"Sign in"</h1>
                <FormBanner error />
                <ActionForm action=sign_in>
                    <input type="hidden" name="next" value=next />
                    <FormField
                        label="User name"
                        name="user_principal_name"
                        error
                        autocomplete="username"
                        hint="Your user principal name, such as ada@contoso.com"
                        autofocus=true
                    />
                    <FormField
                        label="Password"
                        name="password"
                        kind="password"
                        error
                        autocomplete="current-password"
                    />
                    <button type="submit" class="primary" disabled=move || sign_in.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
