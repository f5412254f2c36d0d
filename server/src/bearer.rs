//! Bearer tokens, as `/scim/v2`, `/api/v1` and `/metrics` take them: the secret from the
//! Authorization header, and the caller the audit log names for a request made with one.

use std::net::SocketAddr;

use axum::{extract::ConnectInfo, http::header};
use engine::{
    accounts::{Account, Token},
    audit::{Actor, Caller},
};

/// The token of `Authorization: Bearer <token>`, if the request has one.
pub fn secret(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned())
}

/// The audit log's caller for a request made with `token` of `account`.
pub fn caller(extensions: &http::Extensions, account: &Account, token: &Token) -> Caller {
    Caller {
        actor: Actor::Token {
            id: token.id,
            owner: account.user_principal_name.clone(),
            owner_id: account.id,
            role: account.role,
        },
        client: extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip()),
    }
}
