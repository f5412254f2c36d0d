//! Previews for the expression editor and the Attribute Mappings page: what one expression, or
//! a whole set of mappings, gives for one directory user, or why it cannot. Nothing is written.

use rand::thread_rng;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    AppRoleAssignment, FieldError,
    attribute_mappings::{AttributeMappings, Operation},
    evaluate::{Environment, Evaluated},
    expression::Expression,
    source::{USER_ATTRIBUTES, UserSource},
};
use crate::{Engine, Result};

/// The outcome of a preview, as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Preview {
    /// One expression's value, as it would be sent.
    Value { value: serde_json::Value },
    /// `IgnoreFlowIfNullOrEmpty` met nothing: the attribute would not be sent.
    Ignored,
    /// `SelectUniqueValue`: the candidates, in order.
    UniqueCandidates { candidates: Vec<serde_json::Value> },
    /// A whole mapping set: the SCIM resource that would be sent.
    Resource { resource: serde_json::Value },
    /// The input does not parse or check; each problem with its field (`expression` for a
    /// single expression).
    Invalid { errors: Vec<FieldError> },
    /// It parses but fails for this user (with the reason, and position for expressions).
    Failed { message: String },
}

/// The context a preview evaluates in: the user's app roles in the application and whether it
/// is in the application's scope (both default to a plain assigned user until applications
/// pass theirs).
#[derive(Clone, Debug, Default)]
pub struct PreviewContext {
    pub app_roles: Vec<AppRoleAssignment>,
    pub out_of_scope: bool,
}

impl Engine {
    /// Evaluates `text` for the user `user_id`.
    pub async fn preview_expression(
        &self,
        user_id: Uuid,
        text: &str,
        context: &PreviewContext,
    ) -> Result<Preview> {
        let user = self.user(user_id).await?;
        let expression = match Expression::parse(text)
            .and_then(|e| e.check_attributes(USER_ATTRIBUTES).map(|()| e))
        {
            Ok(expression) => expression,
            Err(e) => {
                return Ok(Preview::Invalid {
                    errors: vec![FieldError {
                        field: "expression".into(),
                        message: e.to_string(),
                    }],
                });
            }
        };
        let source = UserSource {
            user: &user,
            in_scope: !context.out_of_scope,
            app_roles: &context.app_roles,
        };
        let mut random = thread_rng();
        let mut environment = Environment {
            now: OffsetDateTime::now_utc(),
            random: &mut random,
        };
        Ok(match expression.evaluate(&source, &mut environment) {
            Ok(Evaluated::Value(value)) => Preview::Value {
                value: value.to_json(),
            },
            Ok(Evaluated::Ignored) => Preview::Ignored,
            Ok(Evaluated::UniqueCandidates(candidates)) => Preview::UniqueCandidates {
                candidates: candidates.iter().map(|v| v.to_json()).collect(),
            },
            Err(e) => Preview::Failed {
                message: e.to_string(),
            },
        })
    }

    /// Evaluates a whole set of user mappings for `user_id` as a create (every mapping) or an
    /// update, checking the targets the application requires.
    pub async fn preview_user_mappings(
        &self,
        user_id: Uuid,
        mappings: &AttributeMappings,
        required: &[&str],
        operation: Operation,
        context: &PreviewContext,
    ) -> Result<Preview> {
        let user = self.user(user_id).await?;
        let compiled = match mappings.compile(USER_ATTRIBUTES, required) {
            Ok(compiled) => compiled,
            Err(errors) => return Ok(Preview::Invalid { errors }),
        };
        let source = UserSource {
            user: &user,
            in_scope: !context.out_of_scope,
            app_roles: &context.app_roles,
        };
        let mut random = thread_rng();
        let mut environment = Environment {
            now: OffsetDateTime::now_utc(),
            random: &mut random,
        };
        Ok(
            match compiled.evaluate(&source, &mut environment, operation) {
                Ok(mapped) => Preview::Resource {
                    resource: mapped.resource(crate::scim::USER),
                },
                Err(e) => Preview::Failed {
                    message: e.to_string(),
                },
            },
        )
    }
}
