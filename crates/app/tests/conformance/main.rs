//! The store conformance suite: every test runs against every backend (the in-memory store the
//! simulator uses, SQLite and PostgreSQL),
//! through the real application layer, and shows they behave alike: the database's projection
//! equals the pure model after every command, reads agree with the model, concurrent clients
//! never break an invariant, and the same commands give byte-identical logs on both.
//!
//! PostgreSQL tests each get a fresh schema (see `furrow-testkit`); they skip with a printed
//! reason when no server answers, except in CI.

mod accounts;
mod bank;
mod external;
mod lifecycle;
mod model;
mod program;
mod reads;
mod support;
mod writer;

/// Defines `$name::memory`, `$name::sqlite` and `$name::postgres`, each running `$body(backend)`.
#[macro_export]
macro_rules! on_every_backend {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                $body(furrow_testkit::Backend::Memory).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body(furrow_testkit::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $body(furrow_testkit::Backend::Postgres).await
            }
        }
    };
}
