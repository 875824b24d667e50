package store

import "context"

// CountForTest runs a count query; tests use it to look behind the API.
func (db *DB) CountForTest(ctx context.Context, query string) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}
