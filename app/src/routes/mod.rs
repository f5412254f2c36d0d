//! One module per portal blade, plus the document shell and the router that ties them together.

mod applications;
mod audit_logs;
mod errors;
mod groups;
mod home;
mod import;
mod portal;
mod provisioning_logs;
mod settings;
mod setup;
mod sign_in;
mod tokens;
mod users;

use leptos::prelude::*;
use leptos_meta::{MetaTags, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

pub use portal::{BladePage, CurrentUser};

/// The HTML document the server sends; the browser hydrates [`App`] inside its body.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <leptos_meta::HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Pages render completely before the first byte is sent, so a page can still set its status
    // (403) and the signed-in user is known for the header; they are small, so this costs little.
    view! {
        <Router>
            <Routes fallback=errors::NotFound>
                <Route path=path!("/signin") view=sign_in::SignInPage ssr=SsrMode::Async />
                <Route path=path!("/setup") view=setup::SetupPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=portal::Portal ssr=SsrMode::Async>
                    <Route path=path!("") view=home::HomePage ssr=SsrMode::Async />
                    <Route path=path!("/users") view=users::UsersPage ssr=SsrMode::Async />
                    <Route path=path!("/users/new") view=users::NewUserPage ssr=SsrMode::Async />
                    <Route path=path!("/users/import") view=import::ImportUsersPage ssr=SsrMode::Async />
                    <Route path=path!("/users/import/:id") view=import::ImportPreviewPage ssr=SsrMode::Async />
                    <Route path=path!("/users/:id") view=users::UserPage ssr=SsrMode::Async />
                    <Route path=path!("/groups") view=groups::GroupsPage ssr=SsrMode::Async />
                    <Route path=path!("/groups/new") view=groups::NewGroupPage ssr=SsrMode::Async />
                    <Route path=path!("/groups/:id") view=groups::GroupPage ssr=SsrMode::Async />
                    <Route path=path!("/applications") view=applications::ApplicationsPage ssr=SsrMode::Async />
                    <Route path=path!("/applications/new") view=applications::NewApplicationPage ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id") view=applications::ApplicationPage ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/users") view=applications::UsersAndGroupsPage ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/roles") view=applications::AppRolesPage ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provisioning") view=applications::ProvisioningPage ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provision-on-demand") view=applications::ProvisionOnDemandPage ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provisioning-logs") view=applications::ApplicationLogsPage ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provisioning/schema") view=applications::SchemaPage ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provisioning/:object") view=applications::MappingsPage ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provisioning/:object/attributes") view=applications::AttributeListPage ssr=SsrMode::Async />
                    <Route path=path!("/provisioning-logs") view=provisioning_logs::ProvisioningLogsPage ssr=SsrMode::Async />
                    <Route path=path!("/audit-logs") view=audit_logs::AuditLogsPage ssr=SsrMode::Async />
                    <Route path=path!("/settings") view=settings::SettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/tokens") view=tokens::MyTokensPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
