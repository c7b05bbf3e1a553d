//! A small helper for building SQL with numbered `$n` placeholders, which both SQLite and
//! PostgreSQL accept through the `Any` driver (sqlx's `QueryBuilder<Any>` emits `?`, which
//! PostgreSQL rejects).

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Encode, Type};

/// SQL text and its bound values, numbered in the order they are pushed.
#[derive(Default)]
pub struct Params {
    args: AnyArguments<'static>,
    count: usize,
}

impl Params {
    /// An empty set of parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds a value and returns its placeholder (`$1`, `$2`, …) to splice into the SQL text.
    pub fn bind<T>(&mut self, value: T) -> String
    where
        T: 'static + Send + Encode<'static, Any> + Type<Any>,
    {
        // Encoding into AnyArguments only fails for types the Any driver cannot carry, which
        // the type bound already excludes; a failure would surface at execution time anyway.
        let _ = self.args.add(value);
        self.count += 1;
        format!("${}", self.count)
    }

    /// Placeholders for every value of `values`, comma-separated, for `IN (…)`.
    pub fn list<T>(&mut self, values: impl IntoIterator<Item = T>) -> String
    where
        T: 'static + Send + Encode<'static, Any> + Type<Any>,
    {
        values
            .into_iter()
            .map(|value| self.bind(value))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The keyset condition for rows past `(value, id)` in `column, id_column` order, ascending
    /// or descending: `(column > v OR (column = v AND id_column > id))`.
    pub fn keyset<T>(
        &mut self,
        (column, id_column): (&str, &str),
        value: T,
        id: String,
        descending: bool,
    ) -> String
    where
        T: 'static + Send + Clone + Encode<'static, Any> + Type<Any>,
    {
        let past = if descending { "<" } else { ">" };
        // Bound twice: one placeholder used twice is not portable across the two drivers.
        let first = self.bind(value.clone());
        let again = self.bind(value);
        let id = self.bind(id);
        format!("({column} {past} {first} OR ({column} = {again} AND {id_column} {past} {id}))")
    }

    /// A `LIMIT` value.
    pub fn limit(&mut self, limit: usize) -> String {
        self.bind(i64::try_from(limit).unwrap_or(i64::MAX))
    }

    /// The bound values, for `sqlx::query_with`.
    pub fn into_args(self) -> AnyArguments<'static> {
        self.args
    }
}
