//! Fresh databases for tests, on each backend, and the macro that runs one test body on both.
//!
//! SQLite always runs, on a file in a temporary directory. PostgreSQL runs when
//! `QUANYU_TEST_POSTGRES` holds a server URL; each test gets its own schema there. When the
//! variable is set and the server cannot be reached, the test fails with a message saying so:
//! a PostgreSQL run that silently tested nothing would be worse than no run.

// Implemented by the store adapter work: see `sqlite()` / `postgres()` below.
