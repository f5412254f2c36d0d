//! My Apps, for anyone signed in, console role or not.

use leptos::prelude::*;

use super::AppError;
use crate::model::MyApps;

#[server(endpoint = "myapps")]
pub async fn my_applications() -> Result<MyApps, AppError> {
    use crate::model::MyAppTile;

    let engine = super::context::engine()?;
    let member = super::context::current_member(&engine)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let apps = engine.my_apps(member.id).await?;
    Ok(MyApps {
        console: member.role.is_some(),
        display_name: member.display_name,
        user_principal_name: member.user_principal_name,
        apps: apps
            .into_iter()
            .map(|app| MyAppTile {
                id: app.id.to_string(),
                name: app.display_name,
                logo_monogram: app.logo_monogram,
                logo_color: app.logo_color,
                launch_url: app.launch_url,
            })
            .collect(),
    })
}
