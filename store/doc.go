// Package store owns Cortex's SQLite database: the schema and its numbered migrations, and
// plain SQL for every aggregate — items and their tags, chunks with their FTS5 rows and
// sqlite-vec vectors, conversations, settings, durable jobs, workflow runs, connections,
// digests and plugin key/value data. One file per aggregate.
//
// A DB holds one writer connection (SQLite allows one writer at a time; serialising in Go
// avoids SQLITE_BUSY storms) and a pool of query-only readers, all in WAL mode with
// synchronous=NORMAL, foreign keys on and a busy timeout. Public methods open their own
// transaction; private helpers take a *sql.Tx.
//
// FTS5 needs the build tag sqlite_fts5 (mattn/go-sqlite3 leaves it out otherwise); Open
// fails with ErrNoFTS5 when the binary was built without it.
package store
