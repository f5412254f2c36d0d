//! The mapping language: Entra's attribute-mapping expressions (parsed into an AST, checked
//! against the function catalogue and the source's attributes).

pub mod expression;
pub mod functions;

pub use expression::{Expression, ExpressionError};
