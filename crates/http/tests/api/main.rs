//! API tests: the real server on a random port with a fresh SQLite database per test, driven
//! over HTTP. One binary, so linking happens once.

mod accounts;
mod acting;
mod authz_matrix;
mod ecology;
mod helpers;
mod idempotency;
mod ledger;
mod lifecycle;
mod limits;
mod openapi;
mod review;
mod sales;
mod security;
mod transparency;
mod validation;
mod web;
