//! The server-rendered faces over HTTP, on both backends: pages render for the roles that may
//! see them, send others to the login page, and speak the reader's language. One module per face.

#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod admin;
mod admin_ops;
mod guide;
mod mall;
mod pos;
mod shell;
