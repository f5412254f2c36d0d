//! Queries that run on either database. A query is written once, in SQLite's spelling, and
//! [`Sql::postgres`] respells the two things PostgreSQL writes differently: placeholders (`?` and
//! `?NNN` become `$N`) and `LIKE` (SQLite's is case-insensitive for ASCII; PostgreSQL's is
//! `ILIKE`, under the deterministic "C" collation because `nocase` columns refuse pattern
//! matching). Where more than that differs, [`Sql::dialects`] keeps both texts side by side.
//!
//! Values are bound as [`Arg`]s, kept until the executor says which database runs the query.

use std::{borrow::Cow, future::Future, marker::PhantomData};

use futures::TryStreamExt;
use sqlx::{
    Database, Encode, Postgres, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgRow, PgTypeInfo},
    sqlite::{SqliteArgumentValue, SqliteRow, SqliteTypeInfo},
    types::Json,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Exec;

/// A statement's text for each database.
#[derive(Clone, Debug)]
pub struct Sql<'q> {
    sqlite: Cow<'q, str>,
    /// `None`: SQLite's text, respelled.
    postgres: Option<Cow<'q, str>>,
}

impl<'q> Sql<'q> {
    /// A statement whose PostgreSQL text differs beyond what [`Sql::postgres`] respells.
    pub fn dialects(sqlite: impl Into<Cow<'q, str>>, postgres: impl Into<Cow<'q, str>>) -> Self {
        Sql {
            sqlite: sqlite.into(),
            postgres: Some(postgres.into()),
        }
    }

    pub fn sqlite(&self) -> &str {
        &self.sqlite
    }

    /// PostgreSQL's text: the one given to [`Sql::dialects`], or SQLite's respelled.
    pub fn postgres(&self) -> Cow<'_, str> {
        match &self.postgres {
            Some(text) => Cow::Borrowed(text),
            None => Cow::Owned(respell(&self.sqlite)),
        }
    }
}

impl<'q> From<&'q str> for Sql<'q> {
    fn from(text: &'q str) -> Self {
        Sql {
            sqlite: Cow::Borrowed(text),
            postgres: None,
        }
    }
}

impl<'q> From<&'q String> for Sql<'q> {
    fn from(text: &'q String) -> Self {
        Sql::from(text.as_str())
    }
}

impl From<String> for Sql<'_> {
    fn from(text: String) -> Self {
        Sql {
            sqlite: Cow::Owned(text),
            postgres: None,
        }
    }
}

/// SQLite's text in PostgreSQL's spelling: `?` is the next number after the largest so far (as
/// SQLite numbers them), `?NNN` is `$NNN`, and `x LIKE y` is `x COLLATE "C" ILIKE y`. Quoted
/// strings, quoted names and comments are left alone.
fn respell(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut largest = 0u32;
    let mut chars = sql.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    // A doubled quote reopens at once, so it needs no case of its own.
                    if d == c {
                        break;
                    }
                }
            }
            '-' if sql[at..].starts_with("--") => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some((_, d)) = chars.next_if(|(_, d)| d.is_ascii_digit()) {
                    digits.push(d);
                }
                let n = digits.parse().unwrap_or(largest + 1);
                largest = largest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut word = String::from(c);
                while let Some((_, d)) =
                    chars.next_if(|(_, d)| d.is_ascii_alphanumeric() || *d == '_')
                {
                    word.push(d);
                }
                if word.eq_ignore_ascii_case("LIKE") {
                    out.push_str("COLLATE \"C\" ILIKE");
                } else {
                    out.push_str(&word);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A value bound to a query, held until the database is known.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Bool(Option<bool>),
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Uuid(Option<Uuid>),
    Time(Option<OffsetDateTime>),
    Json(Option<serde_json::Value>),
}

macro_rules! arg_from {
    ($($variant:ident: $($t:ty),+;)+) => {$($(
        impl From<$t> for Arg {
            fn from(value: $t) -> Arg {
                Arg::$variant(Some(value.into()))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(value: Option<$t>) -> Arg {
                Arg::$variant(value.map(Into::into))
            }
        }
    )+)+};
}

arg_from! {
    Bool: bool;
    Int: i64, i32, u32, u16, u8;
    Float: f64;
    Text: String, &str;
    Bytes: Vec<u8>, &[u8];
    Uuid: Uuid;
    Time: OffsetDateTime;
    Json: serde_json::Value;
}

/// Enums stored as their variant's name (`#[derive(sqlx::Type)]`, `type_name = "TEXT"`, no
/// renaming) bind as that name, which is what their `Debug` prints.
macro_rules! variant_name_arg {
    ($($t:ty),+) => {$(
        impl From<$t> for Arg {
            fn from(value: $t) -> Arg {
                Arg::Text(Some(format!("{value:?}")))
            }
        }
    )+};
}

variant_name_arg!(
    crate::sync::log::Action,
    crate::sync::log::Status,
    crate::sync::jobs::JobState,
    crate::sync::notify::Security,
    crate::directory::feed::ObjectType,
    crate::directory::feed::ChangeKind
);

impl<T: Clone + Into<Arg>> From<&T> for Arg {
    fn from(value: &T) -> Arg {
        value.clone().into()
    }
}

impl From<Option<&String>> for Arg {
    fn from(value: Option<&String>) -> Arg {
        Arg::Text(value.cloned())
    }
}

impl<T: serde::Serialize> From<Json<T>> for Arg {
    fn from(value: Json<T>) -> Arg {
        Arg::Json(Some(serde_json::to_value(&value.0).unwrap_or_default()))
    }
}

impl<T: serde::Serialize> From<Option<Json<T>>> for Arg {
    fn from(value: Option<Json<T>>) -> Arg {
        Arg::Json(value.map(|v| serde_json::to_value(&v.0).unwrap_or_default()))
    }
}

/// `Encode` and `Type` for both databases, each variant as its own type would encode.
macro_rules! encode_arg {
    ($db:ty, $buffer:ty, $type_info:ty) => {
        impl<'q> Encode<'q, $db> for Arg {
            fn encode_by_ref(&self, buf: &mut $buffer) -> Result<IsNull, BoxDynError> {
                match self {
                    Arg::Bool(v) => Encode::<$db>::encode_by_ref(v, buf),
                    Arg::Int(v) => Encode::<$db>::encode_by_ref(v, buf),
                    Arg::Float(v) => Encode::<$db>::encode_by_ref(v, buf),
                    Arg::Text(v) => Encode::<$db>::encode_by_ref(v, buf),
                    Arg::Bytes(v) => Encode::<$db>::encode_by_ref(v, buf),
                    Arg::Uuid(v) => Encode::<$db>::encode_by_ref(v, buf),
                    Arg::Time(v) => Encode::<$db>::encode_by_ref(v, buf),
                    Arg::Json(v) => Encode::<$db>::encode_by_ref(&v.clone().map(Json), buf),
                }
            }

            fn produces(&self) -> Option<$type_info> {
                Some(match self {
                    Arg::Bool(_) => <bool as Type<$db>>::type_info(),
                    Arg::Int(_) => <i64 as Type<$db>>::type_info(),
                    Arg::Float(_) => <f64 as Type<$db>>::type_info(),
                    Arg::Text(_) => <String as Type<$db>>::type_info(),
                    Arg::Bytes(_) => <Vec<u8> as Type<$db>>::type_info(),
                    Arg::Uuid(_) => <Uuid as Type<$db>>::type_info(),
                    Arg::Time(_) => <OffsetDateTime as Type<$db>>::type_info(),
                    Arg::Json(_) => <Json<serde_json::Value> as Type<$db>>::type_info(),
                })
            }
        }

        impl Type<$db> for Arg {
            fn type_info() -> $type_info {
                <String as Type<$db>>::type_info()
            }

            fn compatible(_: &$type_info) -> bool {
                true
            }
        }
    };
}

encode_arg!(Sqlite, Vec<SqliteArgumentValue<'q>>, SqliteTypeInfo);
encode_arg!(Postgres, PgArgumentBuffer, PgTypeInfo);

/// A row type both drivers can decode (`#[derive(sqlx::FromRow)]` gives both).
pub trait FromRow:
    for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> FromRow for T where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

/// A statement that returns no rows, as [`sqlx::query`].
#[must_use = "a query does nothing until it is executed"]
pub struct Query<'q> {
    sql: Sql<'q>,
    args: Vec<Arg>,
}

/// A statement whose rows are `O`s, as [`sqlx::query_as`].
#[must_use = "a query does nothing until it is executed"]
pub struct QueryAs<'q, O> {
    sql: Sql<'q>,
    args: Vec<Arg>,
    row: PhantomData<fn() -> O>,
}

/// A statement whose rows are one column of `O`s, as [`sqlx::query_scalar`].
#[must_use = "a query does nothing until it is executed"]
pub struct QueryScalar<'q, O>(QueryAs<'q, (O,)>);

pub fn query<'q>(sql: impl Into<Sql<'q>>) -> Query<'q> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

pub fn query_as<'q, O>(sql: impl Into<Sql<'q>>) -> QueryAs<'q, O> {
    QueryAs {
        sql: sql.into(),
        args: Vec::new(),
        row: PhantomData,
    }
}

pub fn query_scalar<'q, O>(sql: impl Into<Sql<'q>>) -> QueryScalar<'q, O> {
    QueryScalar(query_as(sql))
}

/// What `execute` reports.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

fn prepared<'q, DB: Database>(
    sql: &'q str,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>>
where
    Arg: Encode<'q, DB> + Type<DB>,
{
    args.into_iter()
        .fold(sqlx::query(sql), |q, arg| q.bind(arg))
}

fn prepared_as<'q, DB: Database, O>(
    sql: &'q str,
    args: Vec<Arg>,
) -> sqlx::query::QueryAs<'q, DB, O, DB::Arguments<'q>>
where
    Arg: Encode<'q, DB> + Type<DB>,
    O: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    args.into_iter()
        .fold(sqlx::query_as(sql), |q, arg| q.bind(arg))
}

/// Runs `$run` (a closure-like `|query, executor| body`) with the statement prepared for the
/// executor's database.
macro_rules! dispatch {
    ($executor:expr, $sql:expr, $args:expr, $prepare:ident $(::<$o:ty>)?, |$q:ident, $e:ident| $run:expr) => {
        match $executor {
            Exec::SqlitePool($e) => {
                let $q = $prepare::<Sqlite $(, $o)?>($sql.sqlite(), $args);
                $run
            }
            Exec::Sqlite($e) => {
                let $q = $prepare::<Sqlite $(, $o)?>($sql.sqlite(), $args);
                $run
            }
            Exec::PostgresPool($e) => {
                let text = $sql.postgres();
                let $q = $prepare::<Postgres $(, $o)?>(&text, $args);
                $run
            }
            Exec::Postgres($e) => {
                let text = $sql.postgres();
                let $q = $prepare::<Postgres $(, $o)?>(&text, $args);
                $run
            }
        }
    };
}

impl<'q> Query<'q> {
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    pub async fn execute<'e>(self, executor: impl Into<Exec<'e>>) -> sqlx::Result<Done> {
        let rows_affected = dispatch!(executor.into(), self.sql, self.args, prepared, |q, e| {
            q.execute(e).await?.rows_affected()
        });
        Ok(Done { rows_affected })
    }
}

impl<O> QueryAs<'_, O> {
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }
}

impl<O: FromRow> QueryAs<'_, O> {
    pub async fn fetch_all<'e>(self, executor: impl Into<Exec<'e>>) -> sqlx::Result<Vec<O>> {
        dispatch!(
            executor.into(),
            self.sql,
            self.args,
            prepared_as::<O>,
            |q, e| q.fetch_all(e).await
        )
    }

    pub async fn fetch_one<'e>(self, executor: impl Into<Exec<'e>>) -> sqlx::Result<O> {
        dispatch!(
            executor.into(),
            self.sql,
            self.args,
            prepared_as::<O>,
            |q, e| q.fetch_one(e).await
        )
    }

    pub async fn fetch_optional<'e>(
        self,
        executor: impl Into<Exec<'e>>,
    ) -> sqlx::Result<Option<O>> {
        dispatch!(
            executor.into(),
            self.sql,
            self.args,
            prepared_as::<O>,
            |q, e| q.fetch_optional(e).await
        )
    }

    /// Hands each row to `each` as it arrives, until the rows end or `each` answers false.
    pub async fn for_each<'e, F, Fut>(
        self,
        executor: impl Into<Exec<'e>>,
        mut each: F,
    ) -> sqlx::Result<()>
    where
        F: FnMut(O) -> Fut,
        Fut: Future<Output = bool>,
    {
        dispatch!(
            executor.into(),
            self.sql,
            self.args,
            prepared_as::<O>,
            |q, e| {
                let mut rows = q.fetch(e);
                while let Some(row) = rows.try_next().await? {
                    if !each(row).await {
                        break;
                    }
                }
                Ok(())
            }
        )
    }
}

impl<O> QueryScalar<'_, O> {
    pub fn bind(self, value: impl Into<Arg>) -> Self {
        QueryScalar(self.0.bind(value))
    }
}

impl<O> QueryScalar<'_, O>
where
    (O,): FromRow,
{
    pub async fn fetch_all<'e>(self, executor: impl Into<Exec<'e>>) -> sqlx::Result<Vec<O>> {
        Ok(self
            .0
            .fetch_all(executor)
            .await?
            .into_iter()
            .map(|(o,)| o)
            .collect())
    }

    pub async fn fetch_one<'e>(self, executor: impl Into<Exec<'e>>) -> sqlx::Result<O> {
        Ok(self.0.fetch_one(executor).await?.0)
    }

    pub async fn fetch_optional<'e>(
        self,
        executor: impl Into<Exec<'e>>,
    ) -> sqlx::Result<Option<O>> {
        Ok(self.0.fetch_optional(executor).await?.map(|(o,)| o))
    }
}

/// A statement built piece by piece, as [`sqlx::QueryBuilder`]: `push_bind` writes a `?` and
/// keeps the value.
#[derive(Debug, Default)]
pub struct QueryBuilder {
    sql: String,
    args: Vec<Arg>,
}

impl QueryBuilder {
    pub fn new(sql: impl Into<String>) -> Self {
        QueryBuilder {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.sql, "{sql}");
        self
    }

    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.sql.push('?');
        self.args.push(value.into());
        self
    }

    /// ` VALUES (…), (…)`, one tuple per item, its values bound by `each`.
    pub fn push_values<I: IntoIterator>(
        &mut self,
        items: I,
        mut each: impl FnMut(Values<'_>, I::Item),
    ) -> &mut Self {
        self.sql.push_str(" VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.sql.push('(');
            each(
                Values {
                    builder: self,
                    first: true,
                },
                item,
            );
            self.sql.push(')');
        }
        self
    }

    pub fn build(self) -> Query<'static> {
        Query {
            sql: self.sql.into(),
            args: self.args,
        }
    }

    pub fn build_query_as<O>(self) -> QueryAs<'static, O> {
        QueryAs {
            sql: self.sql.into(),
            args: self.args,
            row: PhantomData,
        }
    }

    pub fn build_query_scalar<O>(self) -> QueryScalar<'static, O> {
        QueryScalar(self.build_query_as())
    }
}

/// One tuple of [`QueryBuilder::push_values`].
pub struct Values<'b> {
    builder: &'b mut QueryBuilder,
    first: bool,
}

impl Values<'_> {
    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        if !std::mem::take(&mut self.first) {
            self.builder.sql.push_str(", ");
        }
        self.builder.push_bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::respell;

    #[test]
    fn postgres_spelling() {
        assert_eq!(
            respell(
                "SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '\\' AND d = '?' -- ?\n AND e = ?"
            ),
            "SELECT a FROM t WHERE b = $1 AND c COLLATE \"C\" ILIKE $2 ESCAPE '\\' AND d = '?' -- ?\n AND e = $3"
        );
        assert_eq!(
            respell("x LIKE ?1 OR y like ?1 LIMIT ?2"),
            "x COLLATE \"C\" ILIKE $1 OR y COLLATE \"C\" ILIKE $1 LIMIT $2"
        );
        assert_eq!(
            respell("SELECT \"like\", 'it''s ?' FROM unlikely WHERE z = ?"),
            "SELECT \"like\", 'it''s ?' FROM unlikely WHERE z = $1"
        );
    }
}
