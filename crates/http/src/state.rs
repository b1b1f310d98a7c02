use std::sync::Arc;

use furrow_app::Registry;
use furrow_app::store::Page;
use tokio::sync::RwLock;

use crate::dto::Printer;
use crate::error::ApiError;

/// Shared by all handlers.
#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    /// Batch facts for printing serials. Batches are append-only and immutable, so the cache
    /// only ever grows, and is refreshed when a request mentions a serial beyond it.
    printer: Arc<RwLock<Arc<Printer>>>,
}

impl AppState {
    pub fn new(registry: Registry) -> Self {
        let empty = Printer { program: "AGR".parse().expect("valid code"), batches: Default::default() };
        Self { registry, printer: Arc::new(RwLock::new(Arc::new(empty))) }
    }

    /// A printer that knows every batch up to `max_serial`.
    pub async fn printer(&self, max_serial: u64) -> Result<Arc<Printer>, ApiError> {
        {
            let current = self.printer.read().await;
            if current.batches.values().next_back().is_some_and(|b| b.serials.end() >= max_serial) {
                return Ok(current.clone());
            }
        }
        let mut current = self.printer.write().await;
        let store = self.registry.store();
        let program = match store.program().await? {
            Some(p) => p.code,
            None => return Ok(current.clone()),
        };
        let mut batches = current.batches.clone();
        loop {
            let after = batches.keys().next_back().map(|id| id.0);
            let page = store.batches(Page { after, limit: 500 }).await?;
            if page.is_empty() {
                break;
            }
            batches.extend(page.into_iter().map(|(b, _)| (b.id, b)));
        }
        *current = Arc::new(Printer { program, batches });
        Ok(current.clone())
    }
}
