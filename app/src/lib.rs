//! The Scimitar console: what the administrator sees. Pages (`routes`) compose widgets
//! (`components`); data comes from server functions (`api`) as DTOs (`model`). Built twice: with
//! `ssr` into the server, with `hydrate` into the browser's WASM.

// Leptos views are nested types; hydrating the larger pages (the Mappings editor) asks the
// compiler to look deeper than its default of 128 when it lays them out.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod model;
pub mod routes;

pub use routes::{App, shell};

/// The browser's entry point: attach to the server-rendered page, then mark the body so tests
/// (and curious administrators) can tell that the page is interactive. Hydration waits for the
/// page's part of the WASM when the route is a lazy one (routes/mod.rs), so it is awaited.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), App)
            .await
            .forget();
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
