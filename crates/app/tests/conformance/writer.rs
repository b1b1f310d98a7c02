//! One writer per database. On PostgreSQL a second registry on the same database is refused at
//! start (an advisory lock per schema); the process-level version of this test is in the CLI's
//! tests. (SQLite's exclusivity is the data directory's lock file, also tested there.)

use std::sync::Arc;

use furrow_app::store::Store;
use furrow_app::{AppError, Registry, SequencerOptions};
use furrow_store_postgres::PgStore;
use furrow_testkit::PgSchema;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_on_the_same_postgres_schema_is_refused() {
    let Some(schema) = PgSchema::create().await else { return };
    let options = || SequencerOptions { check_invariants: true, log: None };
    let first = Arc::new(PgStore::connect(&schema.url, None).await.expect("connect"));
    let _writer = Registry::start(first.clone(), options()).await.expect("the first writer starts");

    let second = Arc::new(PgStore::connect(&schema.url, None).await.expect("connect"));
    let refused = Registry::start(second.clone(), options()).await.err().expect("a second writer is refused");
    assert!(
        matches!(&refused, AppError::Unavailable(m) if m.contains("already the writer")),
        "unexpected error: {refused}"
    );

    // Another schema in the same database is another registry: it gets its own writer.
    let Some(other) = PgSchema::create().await else { return };
    let third = Arc::new(PgStore::connect(&other.url, None).await.expect("connect"));
    Registry::start(third, options()).await.expect("a writer for another schema");

    // When the first writer lets go, the second may take over.
    first.close().await;
    Registry::start(second, options()).await.expect("the lock is free again");
}
