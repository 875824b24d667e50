// Package storetest opens real, throw-away Cortex databases for tests and benchmarks.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cortexhq/cortex/store"
)

// MustOpen opens a fresh database file in a temporary directory and closes it when tb ends.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "cortex.db"), store.Options{})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
