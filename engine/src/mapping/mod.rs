//! The mapping language: Entra's attribute-mapping expressions (parsed into an AST, checked
//! against the function catalogue and the source's attributes, evaluated over a directory
//! object), scoping filters, and attribute mappings that turn a directory object into the
//! attributes of a SCIM resource. What an expression may make is bounded ([`limits`]), so that
//! none can exhaust the console.

pub mod attribute_mappings;
mod dates;
pub mod evaluate;
pub mod expression;
pub mod functions;
pub mod limits;
pub mod preview;
pub mod scoping;
pub mod source;
pub mod target;
pub mod value;

#[cfg(test)]
mod tests;

pub use crate::FieldError;
pub use attribute_mappings::{
    AttributeMapping, AttributeMappings, CompiledMappings, MappingError, Operation,
};
pub use evaluate::{Environment, Evaluated, EvaluationError};
pub use expression::{Expression, ExpressionError};
pub use preview::Preview;
pub use scoping::{Scope, ScopingFilters};
pub use source::{AppRoleAssignment, GroupSource, Source, UserSource};
pub use target::TargetPath;
pub use value::Value;
