package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Embedding space states. A new space is built in the background while the active one
// keeps serving; it becomes active only when every chunk has a vector in it.
const (
	SpaceBuilding = "building"
	SpaceActive   = "active"
	SpaceRetired  = "retired"
)

// SpaceIdentity names an embedding space: vectors are comparable only within one.
type SpaceIdentity struct {
	Provider    string `json:"provider"`
	Model       string `json:"model"`
	Dimensions  int    `json:"dimensions"`
	DocPrefix   string `json:"doc_prefix,omitempty"`
	QueryPrefix string `json:"query_prefix,omitempty"`
}

// Space is an embedding space and the sqlite-vec table that holds its vectors.
type Space struct {
	ID int64 `json:"id"`
	SpaceIdentity
	ChunkSize    int       `json:"chunk_size"`
	ChunkOverlap int       `json:"chunk_overlap"`
	Table        string    `json:"table"`
	State        string    `json:"state"`
	CreatedAt    time.Time `json:"created_at"`
}

// EnsureSpace returns the space with this identity, creating it and its vector table (in
// state building) when it does not exist yet.
func (db *DB) EnsureSpace(ctx context.Context, id SpaceIdentity, chunkSize, chunkOverlap int) (Space, error) {
	if id.Provider == "" || id.Model == "" || id.Dimensions <= 0 || id.Dimensions > 8192 {
		return Space{}, fmt.Errorf("embedding space %+v: %w", id, ErrInvalid)
	}
	if sp, err := db.findSpace(ctx, id); err == nil || !errors.Is(err, ErrNotFound) {
		return sp, err
	}
	now := formatTime(db.now())
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO embedding_spaces
			(provider, model, dimensions, doc_prefix, query_prefix, chunk_size, chunk_overlap, table_name, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, '', 'building', ?)
			ON CONFLICT DO NOTHING`,
			id.Provider, id.Model, id.Dimensions, id.DocPrefix, id.QueryPrefix, chunkSize, chunkOverlap, now)
		if err != nil {
			return fmt.Errorf("insert embedding space: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // created concurrently
		}
		rowID, err := res.LastInsertId()
		if err != nil {
			return err
		}
		// The table name derives from the row id alone, so no user text reaches DDL.
		table := fmt.Sprintf("vec_space_%d", rowID)
		if _, err := tx.ExecContext(ctx, "UPDATE embedding_spaces SET table_name = ? WHERE id = ?", table, rowID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, fmt.Sprintf(
			"CREATE VIRTUAL TABLE %s USING vec0(embedding float[%d] distance_metric=cosine)", table, id.Dimensions))
		if err != nil {
			return fmt.Errorf("create vector table: %w", err)
		}
		return nil
	})
	if err != nil {
		return Space{}, err
	}
	return db.findSpace(ctx, id)
}

const spaceColumns = `id, provider, model, dimensions, doc_prefix, query_prefix, chunk_size,
	chunk_overlap, table_name, state, created_at`

func scanSpace(row rowScanner) (Space, error) {
	var sp Space
	var created string
	err := row.Scan(&sp.ID, &sp.Provider, &sp.Model, &sp.Dimensions, &sp.DocPrefix, &sp.QueryPrefix,
		&sp.ChunkSize, &sp.ChunkOverlap, &sp.Table, &sp.State, &created)
	sp.CreatedAt = parseTime(created)
	return sp, err
}

func (db *DB) findSpace(ctx context.Context, id SpaceIdentity) (Space, error) {
	sp, err := scanSpace(db.read.QueryRowContext(ctx, "SELECT "+spaceColumns+` FROM embedding_spaces
		WHERE provider = ? AND model = ? AND dimensions = ? AND doc_prefix = ? AND query_prefix = ?`,
		id.Provider, id.Model, id.Dimensions, id.DocPrefix, id.QueryPrefix))
	if errors.Is(err, sql.ErrNoRows) {
		return Space{}, fmt.Errorf("embedding space %s/%s: %w", id.Provider, id.Model, ErrNotFound)
	}
	return sp, err
}

// Spaces lists every embedding space, oldest first.
func (db *DB) Spaces(ctx context.Context) ([]Space, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT "+spaceColumns+" FROM embedding_spaces ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list embedding spaces: %w", err)
	}
	defer rows.Close()
	var out []Space
	for rows.Next() {
		sp, err := scanSpace(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, rows.Err()
}

// SetSpaceState moves a space to state. Activating one retires the previously active one,
// so exactly one space answers queries.
func (db *DB) SetSpaceState(ctx context.Context, spaceID int64, state string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if state == SpaceActive {
			if _, err := tx.ExecContext(ctx, "UPDATE embedding_spaces SET state = 'retired' WHERE state = 'active' AND id != ?", spaceID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, "UPDATE embedding_spaces SET state = ? WHERE id = ?", state, spaceID)
		if err != nil {
			return fmt.Errorf("set space %d state: %w", spaceID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("embedding space %d: %w", spaceID, ErrNotFound)
		}
		return nil
	})
}

// spaceTables lists every vector table, whatever its state: deleting data must reach all.
func spaceTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT table_name FROM embedding_spaces WHERE table_name != ''")
	if err != nil {
		return nil, fmt.Errorf("list vector tables: %w", err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, rows.Err()
}

func deleteItemVectors(ctx context.Context, tx *sql.Tx, itemID string) error {
	tables, err := spaceTables(ctx, tx)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE rowid IN (SELECT id FROM chunks WHERE item_id = ?)", itemID); err != nil {
			return fmt.Errorf("delete vectors of %q from %s: %w", itemID, t, err)
		}
	}
	return nil
}

// ActiveSpace returns the space queries are answered from.
func (db *DB) ActiveSpace(ctx context.Context) (Space, error) {
	sp, err := scanSpace(db.read.QueryRowContext(ctx, "SELECT "+spaceColumns+" FROM embedding_spaces WHERE state = 'active'"))
	if errors.Is(err, sql.ErrNoRows) {
		return Space{}, fmt.Errorf("active embedding space: %w", ErrNotFound)
	}
	return sp, err
}

// ChunksMissingVectors returns up to limit chunks that have no vector in space yet, for the
// re-embedding job.
func (db *DB) ChunksMissingVectors(ctx context.Context, space Space, limit int) ([]Chunk, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT c.id, c.item_id, c.ordinal, c.text, c.heading FROM chunks c
		WHERE NOT EXISTS (SELECT 1 FROM `+space.Table+` v WHERE v.rowid = c.id) ORDER BY c.id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("chunks missing from %s: %w", space.Table, err)
	}
	defer rows.Close()
	var out []Chunk
	for rows.Next() {
		var c Chunk
		if err := rows.Scan(&c.ID, &c.ItemID, &c.Ordinal, &c.Text, &c.Heading); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CountVectors returns how many chunks exist and how many of them have a vector in space.
func (db *DB) CountVectors(ctx context.Context, space Space) (chunks, vectors int, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM chunks),
		(SELECT count(*) FROM chunks c WHERE EXISTS (SELECT 1 FROM `+space.Table+` v WHERE v.rowid = c.id))`).Scan(&chunks, &vectors)
	return chunks, vectors, err
}

// InsertVectors stores vectors for existing chunks in space, replacing any there; chunks
// deleted meanwhile are skipped.
func (db *DB) InsertVectors(ctx context.Context, space Space, ids []int64, vectors [][]float32) error {
	if len(ids) != len(vectors) {
		return fmt.Errorf("insert vectors: %d ids, %d vectors: %w", len(ids), len(vectors), ErrInvalid)
	}
	var keep []int64
	var keepVecs [][]float32
	var keepItems []string
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		keep, keepVecs, keepItems = nil, nil, nil
		for i, id := range ids {
			var item string
			err := tx.QueryRowContext(ctx, "SELECT item_id FROM chunks WHERE id = ?", id).Scan(&item)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			keepItems = append(keepItems, item)
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+space.Table+" WHERE rowid = ?", id); err != nil {
				return err
			}
			keep, keepVecs = append(keep, id), append(keepVecs, vectors[i])
		}
		return insertVectors(ctx, tx, &space, keep, keepVecs)
	})
	if err == nil {
		db.indexUpdate(space.ID, func(ix *vecIndex) {
			for i, id := range keep {
				ix.put(id, keepItems[i], keepVecs[i])
			}
		})
	}
	return err
}

// SetEmbeddingModel records the model every chunked item's vectors come from.
func (db *DB) SetEmbeddingModel(ctx context.Context, model string) error {
	_, err := db.write.ExecContext(ctx, "UPDATE items SET embedding_model = ? WHERE chunk_count > 0", model)
	return err
}
