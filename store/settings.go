package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Settings returns every setting saved through the API, by key, as JSON values.
func (db *DB) Settings(ctx context.Context) (map[string]json.RawMessage, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT key, value FROM settings")
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	defer rows.Close()
	out := map[string]json.RawMessage{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read settings: %w", err)
		}
		out[k] = json.RawMessage(v)
	}
	return out, rows.Err()
}

// PutSettings saves values by key in one transaction: all of them or none.
func (db *DB) PutSettings(ctx context.Context, values map[string]json.RawMessage) error {
	now := formatTime(db.now())
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		for k, v := range values {
			if !json.Valid(v) {
				return fmt.Errorf("setting %q: %w: not JSON", k, ErrInvalid)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, k, string(v), now)
			if err != nil {
				return fmt.Errorf("save setting %q: %w", k, err)
			}
		}
		return nil
	})
}
