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

    /// The bound values, for `sqlx::query_with`.
    pub fn into_args(self) -> AnyArguments<'static> {
        self.args
    }
}
