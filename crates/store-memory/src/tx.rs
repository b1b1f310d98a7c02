//! All-or-nothing writes: every change made through a [`Tx`] records how to undo itself, and a
//! transaction dropped before [`Tx::commit`] undoes them in reverse order. That is how a failed
//! write in the middle of a group leaves the tables exactly as they were, as a rolled-back SQLite
//! transaction does, without copying the tables for every commit.

use std::collections::BTreeMap;
use std::fmt::Debug;

use furrow_store::StoreError;

use crate::Tables;

type Undo = Box<dyn FnOnce(&mut Tables) + Send>;

/// Which map of [`Tables`] a change goes to.
pub(crate) type Table<K, V> = fn(&mut Tables) -> &mut BTreeMap<K, V>;

pub(crate) struct Tx<'a> {
    tables: &'a mut Tables,
    undo: Vec<Undo>,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(tables: &'a mut Tables) -> Self {
        Self { tables, undo: Vec::new() }
    }

    pub(crate) fn tables(&self) -> &Tables {
        self.tables
    }

    /// Inserts a row whose key must be new, like a primary key or a unique constraint.
    pub(crate) fn insert<K, V>(&mut self, table: Table<K, V>, key: K, value: V, what: &str) -> Result<(), StoreError>
    where
        K: Ord + Clone + Debug + Send + 'static,
        V: Send + 'static,
    {
        let map = table(self.tables);
        if map.contains_key(&key) {
            return Err(StoreError::Conflict { constraint: format!("UNIQUE constraint failed: {what} {key:?}") });
        }
        map.insert(key.clone(), value);
        self.undo.push(Box::new(move |t| {
            table(t).remove(&key);
        }));
        Ok(())
    }

    /// Removes a row; false if there was none.
    pub(crate) fn remove<K, V>(&mut self, table: Table<K, V>, key: &K) -> bool
    where
        K: Ord + Clone + Send + 'static,
        V: Send + 'static,
    {
        let Some(old) = table(self.tables).remove(key) else { return false };
        let key = key.clone();
        self.undo.push(Box::new(move |t| {
            table(t).insert(key, old);
        }));
        true
    }

    /// Makes the changes permanent.
    pub(crate) fn commit(mut self) {
        self.undo.clear();
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        while let Some(undo) = self.undo.pop() {
            undo(self.tables);
        }
    }
}
