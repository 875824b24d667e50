package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SearchFilter narrows keyword and vector search alike. Empty fields do not filter.
type SearchFilter struct {
	Sources       []string  `json:"sources,omitempty"`
	ContentTypes  []string  `json:"content_types,omitempty"`
	Tags          []string  `json:"tags,omitempty"`
	ItemIDs       []string  `json:"item_ids,omitempty"`
	CreatedAfter  time.Time `json:"created_after,omitzero"`
	CreatedBefore time.Time `json:"created_before,omitzero"`
}

// IsZero reports whether f filters nothing.
func (f SearchFilter) IsZero() bool {
	return len(f.Sources) == 0 && len(f.ContentTypes) == 0 && len(f.Tags) == 0 && len(f.ItemIDs) == 0 &&
		f.CreatedAfter.IsZero() && f.CreatedBefore.IsZero()
}

// where returns the SQL condition on items aliased i, and its arguments.
func (f SearchFilter) where() (string, []any) {
	var conds []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		conds = append(conds, col+" IN (?"+strings.Repeat(", ?", len(vals)-1)+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("i.source", f.Sources)
	in("i.content_type", f.ContentTypes)
	in("i.id", f.ItemIDs)
	if len(f.Tags) > 0 {
		tags := make([]string, len(f.Tags))
		for k, t := range f.Tags {
			tags[k] = NormalizeTag(t)
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM item_tags t WHERE t.item_id = i.id AND t.tag IN (?"+strings.Repeat(", ?", len(tags)-1)+"))")
		for _, t := range tags {
			args = append(args, t)
		}
	}
	if !f.CreatedAfter.IsZero() {
		conds, args = append(conds, "i.created_at >= ?"), append(args, formatTime(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		conds, args = append(conds, "i.created_at < ?"), append(args, formatTime(f.CreatedBefore))
	}
	if len(conds) == 0 {
		return "1", nil
	}
	return strings.Join(conds, " AND "), args
}

// ChunkHit is a chunk found by keyword or vector search. Score is higher-is-better:
// -BM25 for keyword hits, cosine similarity for vector hits.
type ChunkHit struct {
	ChunkID int64   `json:"chunk_id"`
	ItemID  string  `json:"item_id"`
	Ordinal int     `json:"ordinal"`
	Score   float64 `json:"score"`
	Text    string  `json:"text,omitempty"`
	// Exact marks a keyword hit that contains the query's identifiers and phrases whole.
	Exact bool `json:"exact,omitempty"`
}

// bm25Weights weight the title column over the text column.
const bm25Weights = "2.0, 1.0"

// KeywordSearch ranks chunks by BM25 against q, best first. FTS5 first picks the best
// candidates on its own (its fast ORDER BY rank LIMIT path); the filter is applied to
// those, with a wider candidate pool when a filter is set.
//
// When the query holds identifiers that FTS5 splits ("QX-7731-ZB"), chunks containing all
// of them exactly come first: BM25 alone favours a short chunk that shares two of an
// identifier's three parts over a long one that contains it whole.
func (db *DB) KeywordSearch(ctx context.Context, q KeywordQuery, f SearchFilter, limit int, withText bool) ([]ChunkHit, error) {
	if q.Match == "" || limit <= 0 {
		return []ChunkHit{}, nil
	}
	if !db.hasFTS {
		return nil, fmt.Errorf("keyword search: %w", ErrNoFTS5)
	}
	if len(q.Compounds) == 0 {
		return db.keywordSearch(ctx, q.Match, f, limit, withText)
	}
	exact := make([]string, 0, len(q.Compounds)+len(q.Phrases))
	for _, p := range append(append([][]string{}, q.Phrases...), q.Compounds...) {
		exact = append(exact, quote(strings.Join(p, " ")))
	}
	first, err := db.keywordSearch(ctx, strings.Join(exact, " AND "), f, limit, withText)
	if err != nil {
		return nil, err
	}
	for i := range first {
		first[i].Exact = true
	}
	rest, err := db.keywordSearch(ctx, q.Match, f, limit, withText)
	if err != nil {
		return nil, err
	}
	seen := make(map[int64]bool, len(first))
	for _, h := range first {
		seen[h.ChunkID] = true
	}
	for _, h := range rest {
		if len(first) >= limit {
			break
		}
		if !seen[h.ChunkID] {
			first = append(first, h)
		}
	}
	return first, nil
}

func (db *DB) keywordSearch(ctx context.Context, match string, f SearchFilter, limit int, withText bool) ([]ChunkHit, error) {
	candidates := max(limit*4, 200)
	if !f.IsZero() {
		candidates = max(limit*50, 5000)
	}
	cond, args := f.where()
	text := "''"
	if withText {
		text = "c.text"
	}
	query := `SELECT c.id, c.item_id, c.ordinal, -m.rank, ` + text + `
		FROM (SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? AND rank MATCH 'bm25(` + bm25Weights + `)'
		      ORDER BY rank LIMIT ?) m
		JOIN chunks c ON c.id = m.rowid JOIN items i ON i.id = c.item_id
		WHERE ` + cond + ` ORDER BY m.rank LIMIT ?`
	rows, err := db.read.QueryContext(ctx, query, append(append([]any{match, candidates}, args...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("keyword search %q: %w", match, err)
	}
	defer rows.Close()
	hits := []ChunkHit{}
	for rows.Next() {
		var h ChunkHit
		if err := rows.Scan(&h.ChunkID, &h.ItemID, &h.Ordinal, &h.Score, &h.Text); err != nil {
			return nil, err
		}
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// ChunksByID returns chunks with the given IDs (for snippets), in no particular order.
func (db *DB) ChunksByID(ctx context.Context, ids []int64) ([]Chunk, error) {
	if len(ids) == 0 {
		return []Chunk{}, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	out, err := db.queryChunks(ctx, "WHERE id IN (?"+strings.Repeat(", ?", len(ids)-1)+")", args...)
	if err != nil {
		return nil, fmt.Errorf("chunks by id: %w", err)
	}
	return out, nil
}

// FilterItems returns the IDs of items that pass f (nil when f filters nothing).
func (db *DB) FilterItems(ctx context.Context, f SearchFilter) (map[string]bool, error) {
	if f.IsZero() {
		return nil, nil
	}
	cond, args := f.where()
	rows, err := db.read.QueryContext(ctx, "SELECT i.id FROM items i WHERE "+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("filter items: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// ChunkText is a chunk's text with its item's title.
type ChunkText struct {
	ChunkID int64
	ItemID  string
	Title   string
	Heading string
	Text    string
}

// ChunkTexts returns chunks with their item titles, in the order of ids; unknown IDs are
// left out.
func (db *DB) ChunkTexts(ctx context.Context, ids []int64) ([]ChunkText, error) {
	if len(ids) == 0 {
		return []ChunkText{}, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := db.read.QueryContext(ctx, `SELECT c.id, c.item_id, i.title, c.heading, c.text FROM chunks c
		JOIN items i ON i.id = c.item_id WHERE c.id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("chunk texts: %w", err)
	}
	defer rows.Close()
	byID := map[int64]ChunkText{}
	for rows.Next() {
		var c ChunkText
		if err := rows.Scan(&c.ChunkID, &c.ItemID, &c.Title, &c.Heading, &c.Text); err != nil {
			return nil, err
		}
		byID[c.ChunkID] = c
	}
	out := make([]ChunkText, 0, len(ids))
	for _, id := range ids {
		if c, ok := byID[id]; ok {
			out = append(out, c)
		}
	}
	return out, rows.Err()
}
