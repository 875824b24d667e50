package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
)

// Chunk is a piece of an item's text, the unit that is embedded and retrieved.
type Chunk struct {
	ID          int64  `json:"id"`
	ItemID      string `json:"item_id"`
	Ordinal     int    `json:"ordinal"`
	Text        string `json:"text"`
	Heading     string `json:"heading,omitempty"`
	StartOffset int    `json:"start_offset"`
	EndOffset   int    `json:"end_offset"`
	TokenCount  int    `json:"token_count"`
}

// ReplaceChunks swaps an item's chunks for new ones in one transaction: the old chunks,
// their FTS rows and their vectors in every space go, the new chunks and their FTS rows
// come in, and, when space is not nil, vectors[i] is stored for chunks[i]. Replacing rather
// than appending makes a re-run of the same step harmless. It returns the new chunk IDs.
func (db *DB) ReplaceChunks(ctx context.Context, itemID string, chunks []Chunk, space *Space, vectors [][]float32) ([]int64, error) {
	if space != nil && len(vectors) != len(chunks) {
		return nil, fmt.Errorf("replace chunks of %q: %d vectors for %d chunks: %w", itemID, len(vectors), len(chunks), ErrInvalid)
	}
	ids := make([]int64, len(chunks))
	var oldIDs []int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM items WHERE id = ?", itemID).Scan(&exists); err != nil {
			return err
		}
		if exists == 0 {
			return fmt.Errorf("item %q: %w", itemID, ErrNotFound)
		}
		var err error
		if oldIDs, err = chunkIDs(ctx, tx, itemID); err != nil {
			return err
		}
		if err := deleteItemVectors(ctx, tx, itemID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM chunks WHERE item_id = ?", itemID); err != nil {
			return fmt.Errorf("delete old chunks: %w", err)
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO chunks
			(item_id, ordinal, text, heading, start_offset, end_offset, token_count) VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for i, c := range chunks {
			res, err := ins.ExecContext(ctx, itemID, i, c.Text, c.Heading, c.StartOffset, c.EndOffset, c.TokenCount)
			if err != nil {
				return fmt.Errorf("insert chunk %d: %w", i, err)
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return err
			}
		}
		if space != nil {
			if err := insertVectors(ctx, tx, space, ids, vectors); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, "UPDATE items SET chunk_count = ? WHERE id = ?", len(chunks), itemID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("replace chunks of %q: %w", itemID, err)
	}
	db.indexUpdate(0, func(ix *vecIndex) {
		for _, id := range oldIDs {
			ix.remove(id)
		}
		if space != nil && space.ID == ix.spaceID {
			for i, id := range ids {
				ix.put(id, itemID, vectors[i])
			}
		}
	})
	return ids, nil
}

func chunkIDs(ctx context.Context, tx *sql.Tx, itemID string) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id FROM chunks WHERE item_id = ?", itemID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func insertVectors(ctx context.Context, tx *sql.Tx, space *Space, ids []int64, vectors [][]float32) error {
	ins, err := tx.PrepareContext(ctx, "INSERT INTO "+space.Table+" (rowid, embedding) VALUES (?, ?)")
	if err != nil {
		return fmt.Errorf("prepare vector insert: %w", err)
	}
	defer ins.Close()
	buf := make([]byte, 4*space.Dimensions)
	for i, v := range vectors {
		if len(v) != space.Dimensions {
			return fmt.Errorf("vector %d has %d dimensions, space %s/%s has %d: %w",
				i, len(v), space.Provider, space.Model, space.Dimensions, ErrInvalid)
		}
		encodeVector(buf, v)
		if _, err := ins.ExecContext(ctx, ids[i], buf); err != nil {
			return fmt.Errorf("insert vector %d: %w", i, err)
		}
	}
	return nil
}

// encodeVector writes v as the little-endian float32 blob sqlite-vec reads.
func encodeVector(dst []byte, v []float32) {
	for i, f := range v {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(f))
	}
}

// Chunks lists an item's chunks in order.
func (db *DB) Chunks(ctx context.Context, itemID string) ([]Chunk, error) {
	out, err := db.queryChunks(ctx, "WHERE item_id = ? ORDER BY ordinal", itemID)
	if err != nil {
		return nil, fmt.Errorf("list chunks of %q: %w", itemID, err)
	}
	return out, nil
}

// queryChunks reads the chunks that where (a WHERE clause and what follows) selects.
func (db *DB) queryChunks(ctx context.Context, where string, args ...any) ([]Chunk, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, item_id, ordinal, text, heading, start_offset,
		end_offset, token_count FROM chunks `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Chunk{}
	for rows.Next() {
		var c Chunk
		if err := rows.Scan(&c.ID, &c.ItemID, &c.Ordinal, &c.Text, &c.Heading, &c.StartOffset, &c.EndOffset, &c.TokenCount); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
