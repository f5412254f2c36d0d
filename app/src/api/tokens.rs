//! Machine tokens: everyone manages their own ("My tokens"); Global Administrators see and
//! revoke everyone's, and create tokens for other accounts (Settings).

use leptos::prelude::*;

use super::AppError;
use crate::model::TokenRow;

#[server(endpoint = "tokens/list")]
pub async fn list_tokens(everyone: bool) -> Result<Vec<TokenRow>, AppError> {
    use engine::{accounts::Permission, directory::users};
    let (engine, account, _) = super::context::require(if everyone {
        Permission::ManageSettings
    } else {
        Permission::ManageOwnTokens
    })
    .await?;
    let tokens = engine.tokens((!everyone).then_some(account.id)).await?;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let mut rows = Vec::with_capacity(tokens.len());
    for token in tokens {
        let owner = users::get(&engine.db, token.user_id)
            .await?
            .map(|u| u.profile.user_principal_name)
            .unwrap_or_default();
        rows.push(TokenRow {
            id: token.id.to_string(),
            owner,
            name: token.name,
            scopes: token
                .scopes
                .0
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: token.created_at.format(format).unwrap_or_default(),
            last_used: token
                .last_used_at
                .and_then(|t| t.format(format).ok())
                .unwrap_or_else(|| "Never".into()),
            revoked: token.revoked_at.is_some(),
        });
    }
    Ok(rows)
}

/// Creates a token and returns its secret, which is shown this once and stored only hashed.
#[server(endpoint = "tokens/create")]
pub async fn create_token(
    name: String,
    owner: Option<String>,
    scim: Option<String>,
    api: Option<String>,
) -> Result<String, AppError> {
    use engine::{accounts::Scope, directory::users};
    use secrecy::ExposeSecret;
    let (engine, account, caller) = super::context::signed_in().await?;
    let owner = match owner
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty() && !o.eq_ignore_ascii_case(&account.user_principal_name))
    {
        None => account.id,
        Some(upn) => {
            users::find_by_upn(&engine.db, upn)
                .await?
                .ok_or_else(|| AppError::Invalid {
                    field: "owner".into(),
                    message: format!("There is no user named {upn}."),
                })?
                .id
        }
    };
    let scopes: Vec<Scope> = [(scim.is_some(), Scope::Scim), (api.is_some(), Scope::Api)]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, s)| s)
        .collect();
    let (secret, _) = engine.create_token(&caller, owner, &name, &scopes).await?;
    Ok(secret.expose_secret().to_owned())
}

#[server(endpoint = "tokens/revoke")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    let (engine, _account, caller) = super::context::signed_in().await?;
    let id = uuid::Uuid::parse_str(&id)
        .map_err(|_| AppError::NotFound("There is no such token.".into()))?;
    engine.revoke_token(&caller, id).await?;
    Ok(())
}
