//! One module per portal blade, plus the document shell and the router that ties them together.

mod applications;
mod audit_logs;
mod errors;
mod groups;
mod home;
mod import;
mod my_apps;
mod portal;
mod provisioning_logs;
mod settings;
mod setup;
mod sign_in;
mod sign_in_logs;
mod tokens;
mod users;

use leptos::prelude::*;
use leptos_meta::{MetaTags, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    lazy_route, path,
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

/// A route whose page is its own part of the WASM, fetched the first time it is opened, so
/// that sign-in and Home load only what they show (docs/architecture.md, First load). The
/// server renders it as any page.
macro_rules! lazy_pages {
    ($($route:ident => $page:path,)*) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    )*};
}

lazy_pages! {
    UsersRoute => users::UsersPage,
    NewUserRoute => users::NewUserPage,
    ImportUsersRoute => import::ImportUsersPage,
    ImportPreviewRoute => import::ImportPreviewPage,
    UserRoute => users::UserPage,
    GroupsRoute => groups::GroupsPage,
    NewGroupRoute => groups::NewGroupPage,
    GroupRoute => groups::GroupPage,
    ApplicationsRoute => applications::ApplicationsPage,
    NewApplicationRoute => applications::NewApplicationPage,
    ApplicationRoute => applications::ApplicationPage,
    UsersAndGroupsRoute => applications::UsersAndGroupsPage,
    AppRolesRoute => applications::AppRolesPage,
    ProvisioningRoute => applications::ProvisioningPage,
    ProvisionOnDemandRoute => applications::ProvisionOnDemandPage,
    ApplicationLogsRoute => applications::ApplicationLogsPage,
    SchemaRoute => applications::SchemaPage,
    MappingsRoute => applications::MappingsPage,
    AttributeListRoute => applications::AttributeListPage,
    ProvisioningLogsRoute => provisioning_logs::ProvisioningLogsPage,
    AuditLogsRoute => audit_logs::AuditLogsPage,
    SignInLogsRoute => sign_in_logs::SignInLogsPage,
    SingleSignOnRoute => applications::SingleSignOnPage,
    SettingsRoute => settings::SettingsPage,
    MyTokensRoute => tokens::MyTokensPage,
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
                <Route path=path!("/myapps") view=my_apps::MyAppsPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=portal::Portal ssr=SsrMode::Async>
                    <Route path=path!("") view=home::HomePage ssr=SsrMode::Async />
                    <Route path=path!("/users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/new") view={Lazy::<NewUserRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/import") view={Lazy::<ImportUsersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/import/:id") view={Lazy::<ImportPreviewRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/:id") view={Lazy::<UserRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/groups") view={Lazy::<GroupsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/groups/new") view={Lazy::<NewGroupRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/groups/:id") view={Lazy::<GroupRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications") view={Lazy::<ApplicationsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/new") view={Lazy::<NewApplicationRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id") view={Lazy::<ApplicationRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/users") view={Lazy::<UsersAndGroupsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/roles") view={Lazy::<AppRolesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/single-sign-on") view={Lazy::<SingleSignOnRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provisioning") view={Lazy::<ProvisioningRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provision-on-demand") view={Lazy::<ProvisionOnDemandRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provisioning-logs") view={Lazy::<ApplicationLogsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provisioning/schema") view={Lazy::<SchemaRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provisioning/:object") view={Lazy::<MappingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/applications/:id/provisioning/:object/attributes") view={Lazy::<AttributeListRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/provisioning-logs") view={Lazy::<ProvisioningLogsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/sign-in-logs") view={Lazy::<SignInLogsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/audit-logs") view={Lazy::<AuditLogsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/tokens") view={Lazy::<MyTokensRoute>::new()} ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
