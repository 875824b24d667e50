package store

import "errors"

// Sentinel errors callers branch on. Methods wrap them with context; use errors.Is.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the write would break a uniqueness rule (a URL already saved by
	// another item, for example).
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the value cannot be stored as given.
	ErrInvalid = errors.New("invalid")
	// ErrNoFTS5 means SQLite was compiled without FTS5 (build without -tags sqlite_fts5).
	ErrNoFTS5 = errors.New("sqlite built without FTS5: build with -tags sqlite_fts5")
	// ErrLocked means another process already has the data directory open.
	ErrLocked = errors.New("database in use by another process")
)
