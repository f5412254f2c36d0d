use crate::components::PageTitle;
use leptos::prelude::*;

use crate::{
    api::session::CompleteSetup,
    components::{FormBanner, FormField},
};

/// First run: create the first Global Administrator with the token from the server's log.
#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<CompleteSetup>::new();
    let error = Signal::derive(move || setup.value().get().and_then(Result::err));
    view! {
        <PageTitle text="Set up Scimitar" />
        <main class="standalone">
            <div class="card wide">
                <p class="brand">"Scimitar"</p>
                <h1>"Set up Scimitar"</h1>
                <p>
                    "No Global Administrator exists yet. Create the first one. The setup token is in "
                    "the server's log, on the line that starts with " <q>"No Global Administrator exists yet"</q> "."
                </p>
                <FormBanner error />
                <ActionForm action=setup>
                    <FormField label="Setup token" name="setup_token" error autocomplete="off" autofocus=true />
                    <FormField
                        label="User name"
                        name="user_principal_name"
                        error
                        autocomplete="username"
                        hint="The user principal name you will sign in with, such as admin@contoso.com"
                    />
                    <FormField label="Display name" name="display_name" error autocomplete="name" required=false />
                    <FormField
                        label="Password"
                        name="password"
                        kind="password"
                        error
                        autocomplete="new-password"
                        hint="At least 12 characters"
                    />
                    <FormField
                        label="Confirm password"
                        name="confirm_password"
                        kind="password"
                        error
                        autocomplete="new-password"
                    />
                    <button type="submit" class="primary" disabled=move || setup.pending().get()>
                        "Create administrator"
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
