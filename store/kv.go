package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// KVGet reads a plugin's private value; found is false when the key is not set.
func (db *DB) KVGet(ctx context.Context, plugin, key string) (value []byte, found bool, err error) {
	err = db.read.QueryRowContext(ctx, "SELECT value FROM plugin_kv WHERE plugin = ? AND key = ?", plugin, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("kv get %s/%q: %w", plugin, key, err)
	}
	return value, true, nil
}

// KVSet writes a plugin's private value.
func (db *DB) KVSet(ctx context.Context, plugin, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO plugin_kv (plugin, key, value, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		plugin, key, value, formatTime(db.now()))
	if err != nil {
		return fmt.Errorf("kv set %s/%q: %w", plugin, key, err)
	}
	return nil
}

// KVDelete removes a plugin's key; removing a missing key is not an error.
func (db *DB) KVDelete(ctx context.Context, plugin, key string) error {
	if _, err := db.write.ExecContext(ctx, "DELETE FROM plugin_kv WHERE plugin = ? AND key = ?", plugin, key); err != nil {
		return fmt.Errorf("kv delete %s/%q: %w", plugin, key, err)
	}
	return nil
}
