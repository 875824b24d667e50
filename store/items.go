package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Item statuses.
const (
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusReady      = "ready"
	StatusFailed     = "failed"
)

// JobProcess is the job kind that runs the processing workflow for an item.
const JobProcess = "process"

// Tag origins: the user's own tags are kept apart from those enrichment adds.
const (
	TagUser = "user"
	TagAI   = "ai"
)

// Item is a saved article, note or document.
type Item struct {
	ID             string          `json:"id"`
	URL            string          `json:"url"`
	Title          string          `json:"title"`
	Content        string          `json:"content,omitempty"`
	ContentType    string          `json:"content_type"`
	Source         string          `json:"source"`
	Status         string          `json:"status"`
	Error          string          `json:"error,omitempty"`
	Text           string          `json:"text,omitempty"`
	Summary        string          `json:"summary"`
	Byline         string          `json:"byline,omitempty"`
	Language       string          `json:"language,omitempty"`
	PublishedAt    string          `json:"published_at,omitempty"`
	Extractor      string          `json:"extractor,omitempty"`
	EmbeddingModel string          `json:"embedding_model,omitempty"`
	WordCount      int             `json:"word_count"`
	ChunkCount     int             `json:"chunk_count"`
	Tags           []string        `json:"tags"`
	UserTags       []string        `json:"user_tags"`
	AITags         []string        `json:"ai_tags"`
	Metadata       json.RawMessage `json:"metadata"`
	ContentHash    string          `json:"content_hash"`
	LatestRunID    string          `json:"latest_run_id,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	ProcessedAt    *time.Time      `json:"processed_at"`
}

// NewItem is what a client saves.
type NewItem struct {
	URL         string
	Title       string
	Content     string
	ContentType string
	Source      string
	Tags        []string
	Metadata    json.RawMessage
	// RequestID, when set, makes a retried create return the item the first try made.
	RequestID string
}

// ContentHash is the key used to recognise identical content saved twice: SHA-256 of the
// content with runs of white space collapsed. Empty content has no hash.
func ContentHash(content string) string {
	fields := strings.FieldsFunc(content, unicode.IsSpace)
	if len(fields) == 0 {
		return ""
	}
	sum := sha256.Sum256([]byte(strings.Join(fields, " ")))
	return hex.EncodeToString(sum[:])
}

// CreateItem stores a new item as pending and queues its processing job, in one
// transaction. When the same request ID, the same normalised URL or identical content is
// already stored, it returns that item instead and created is false.
func (db *DB) CreateItem(ctx context.Context, in NewItem) (item Item, created bool, err error) {
	meta, err := normaliseMetadata(in.Metadata)
	if err != nil {
		return Item{}, false, err
	}
	if in.Source == "" {
		in.Source = "manual"
	}
	now := db.Now()
	var urlNorm sql.NullString
	if in.URL != "" {
		norm, ok := NormalizeURL(in.URL)
		if !ok {
			return Item{}, false, fmt.Errorf("url %q: %w: not an absolute URL", in.URL, ErrInvalid)
		}
		urlNorm = sql.NullString{String: norm, Valid: true}
	}
	hash := ContentHash(in.Content)

	var id string
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		existing, err := findDuplicate(ctx, tx, in.RequestID, urlNorm, hash)
		if err != nil {
			return err
		}
		if existing != "" {
			id = existing
			return nil
		}
		id = NewID(PrefixItem, now)
		_, err = tx.ExecContext(ctx, `INSERT INTO items
			(id, url, url_norm, request_id, title, content, content_type, content_hash, source,
			 status, metadata, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
			id, nullIfEmpty(in.URL), urlNorm, nullIfEmpty(in.RequestID), in.Title, in.Content,
			in.ContentType, hash, in.Source, string(meta), formatTime(now), formatTime(now))
		if err != nil {
			return fmt.Errorf("insert item: %w", err)
		}
		if err := setTags(ctx, tx, id, TagUser, in.Tags); err != nil {
			return err
		}
		created = true
		return enqueueJob(ctx, tx, JobProcess, id, now)
	})
	if err != nil {
		return Item{}, false, fmt.Errorf("create item: %w", err)
	}
	item, err = db.GetItem(ctx, id)
	return item, created, err
}

func findDuplicate(ctx context.Context, tx *sql.Tx, requestID string, urlNorm sql.NullString, hash string) (string, error) {
	type probe struct {
		skip  bool
		query string
		arg   any
	}
	// The content-hash probe repeats the partial index's condition (content_hash != ''):
	// without it SQLite cannot prove the index applies and scans every item.
	for _, p := range []probe{
		{requestID == "", "SELECT id FROM items WHERE request_id = ?", requestID},
		{!urlNorm.Valid, "SELECT id FROM items WHERE url_norm = ?", urlNorm.String},
		{hash == "", "SELECT id FROM items WHERE content_hash = ? AND content_hash != '' ORDER BY created_at LIMIT 1", hash},
	} {
		if p.skip {
			continue
		}
		var id string
		err := tx.QueryRowContext(ctx, p.query, p.arg).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("find duplicate: %w", err)
		}
	}
	return "", nil
}

func nullIfEmpty(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func normaliseMetadata(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return []byte("{}"), nil
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("metadata: %w: must be a JSON object", ErrInvalid)
	}
	return json.Marshal(obj)
}

const itemColumns = `id, coalesce(url, ''), title, content, content_type, source, status, error,
	text, summary, byline, language, published_at, extractor, embedding_model, word_count,
	chunk_count, metadata, content_hash, coalesce(latest_run_id, ''), created_at, updated_at,
	processed_at`

// itemListColumns leaves out content and text, which a list never shows and which can be
// megabytes per item.
const itemListColumns = `id, coalesce(url, ''), title, '', content_type, source, status, error,
	'', summary, byline, language, published_at, extractor, embedding_model, word_count,
	chunk_count, metadata, content_hash, coalesce(latest_run_id, ''), created_at, updated_at,
	processed_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanItem(row rowScanner) (Item, error) {
	var it Item
	var meta, created, updated string
	var processed sql.NullString
	err := row.Scan(&it.ID, &it.URL, &it.Title, &it.Content, &it.ContentType, &it.Source,
		&it.Status, &it.Error, &it.Text, &it.Summary, &it.Byline, &it.Language, &it.PublishedAt,
		&it.Extractor, &it.EmbeddingModel, &it.WordCount, &it.ChunkCount, &meta, &it.ContentHash,
		&it.LatestRunID, &created, &updated, &processed)
	if err != nil {
		return Item{}, err
	}
	it.Metadata = json.RawMessage(meta)
	it.CreatedAt, it.UpdatedAt = parseTime(created), parseTime(updated)
	if processed.Valid {
		t := parseTime(processed.String)
		it.ProcessedAt = &t
	}
	return it, nil
}

// GetItem returns the item with its tags.
func (db *DB) GetItem(ctx context.Context, id string) (Item, error) {
	var it Item
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		it, err = scanItem(tx.QueryRowContext(ctx, "SELECT "+itemColumns+" FROM items WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("item %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("get item %q: %w", id, err)
		}
		items := []Item{it}
		if err := loadTags(ctx, tx, items); err != nil {
			return err
		}
		it = items[0]
		return nil
	})
	return it, err
}

// ItemFilter selects items for ListItems. Empty fields do not filter.
type ItemFilter struct {
	Status      string
	Source      string
	ContentType string
	Tag         string
	Limit       int
	Offset      int
}

// ListItems returns a page of items, newest first, without their content and text, and
// the number of items matching the filter.
func (db *DB) ListItems(ctx context.Context, f ItemFilter) ([]Item, int, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Source != "" {
		where, args = append(where, "source = ?"), append(args, f.Source)
	}
	if f.ContentType != "" {
		where, args = append(where, "content_type = ?"), append(args, f.ContentType)
	}
	if f.Tag != "" {
		where = append(where, "id IN (SELECT item_id FROM item_tags WHERE tag = ?)")
		args = append(args, NormalizeTag(f.Tag))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var items []Item
	var total int
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM items"+cond, args...).Scan(&total); err != nil {
			return fmt.Errorf("count items: %w", err)
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+itemListColumns+" FROM items"+cond+
			" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", append(args, f.Limit, f.Offset)...)
		if err != nil {
			return fmt.Errorf("list items: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanItem(rows)
			if err != nil {
				return fmt.Errorf("list items: %w", err)
			}
			items = append(items, it)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list items: %w", err)
		}
		return loadTags(ctx, tx, items)
	})
	if items == nil {
		items = []Item{}
	}
	return items, total, err
}

func loadTags(ctx context.Context, tx *sql.Tx, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	index := make(map[string]int, len(items))
	args := make([]any, len(items))
	for i := range items {
		index[items[i].ID] = i
		args[i] = items[i].ID
		items[i].Tags, items[i].UserTags, items[i].AITags = []string{}, []string{}, []string{}
	}
	rows, err := tx.QueryContext(ctx, "SELECT item_id, tag, origin FROM item_tags WHERE item_id IN (?"+
		strings.Repeat(", ?", len(items)-1)+") ORDER BY origin DESC, rowid", args...)
	if err != nil {
		return fmt.Errorf("load tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, tag, origin string
		if err := rows.Scan(&id, &tag, &origin); err != nil {
			return fmt.Errorf("load tags: %w", err)
		}
		it := &items[index[id]]
		it.Tags = append(it.Tags, tag)
		if origin == TagUser {
			it.UserTags = append(it.UserTags, tag)
		} else {
			it.AITags = append(it.AITags, tag)
		}
	}
	return rows.Err()
}

// ItemUpdate changes an item. Nil fields are left as they are.
type ItemUpdate struct {
	Title       *string
	Content     *string
	URL         *string
	ContentType *string
	// Tags replaces the user's tags (AI tags stay).
	Tags     *[]string
	Metadata json.RawMessage
}

// UpdateItem applies u. New content sends the item back to pending and queues it for
// processing again. Moving the URL onto one another item has is ErrConflict.
func (db *DB) UpdateItem(ctx context.Context, id string, u ItemUpdate) (Item, error) {
	now := db.Now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var oldHash, oldURL string
		err := tx.QueryRowContext(ctx, "SELECT content_hash, coalesce(url, '') FROM items WHERE id = ?", id).Scan(&oldHash, &oldURL)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("item %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		var sets []string
		var args []any
		set := func(col string, v any) { sets, args = append(sets, col+" = ?"), append(args, v) }
		if u.Title != nil {
			set("title", *u.Title)
		}
		if u.ContentType != nil {
			set("content_type", *u.ContentType)
		}
		if u.Metadata != nil {
			meta, err := normaliseMetadata(u.Metadata)
			if err != nil {
				return err
			}
			set("metadata", string(meta))
		}
		reprocess := false
		if u.URL != nil && *u.URL != oldURL {
			var norm sql.NullString
			if *u.URL != "" {
				n, ok := NormalizeURL(*u.URL)
				if !ok {
					return fmt.Errorf("url %q: %w: not an absolute URL", *u.URL, ErrInvalid)
				}
				norm = sql.NullString{String: n, Valid: true}
			}
			set("url", nullIfEmpty(*u.URL))
			set("url_norm", norm)
			reprocess = true
		}
		if u.Content != nil {
			if hash := ContentHash(*u.Content); hash != oldHash {
				set("content", *u.Content)
				set("content_hash", hash)
				reprocess = true
			}
		}
		if reprocess {
			set("status", StatusPending)
			set("error", "")
		}
		set("updated_at", formatTime(now))
		args = append(args, id)
		if _, err := tx.ExecContext(ctx, "UPDATE items SET "+strings.Join(sets, ", ")+" WHERE id = ?", args...); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("url %q is already saved as another item: %w", *u.URL, ErrConflict)
			}
			return fmt.Errorf("update item %q: %w", id, err)
		}
		if u.Tags != nil {
			if _, err := tx.ExecContext(ctx, "DELETE FROM item_tags WHERE item_id = ? AND origin = ?", id, TagUser); err != nil {
				return err
			}
			if err := setTags(ctx, tx, id, TagUser, *u.Tags); err != nil {
				return err
			}
		}
		if reprocess {
			return enqueueJob(ctx, tx, JobProcess, id, now)
		}
		return nil
	})
	if err != nil {
		return Item{}, err
	}
	return db.GetItem(ctx, id)
}

// DeleteItem removes the item and everything derived from it — chunks, their FTS rows and
// their vectors in every embedding space, tags, jobs, runs, connections — in one
// transaction.
func (db *DB) DeleteItem(ctx context.Context, id string) error {
	var gone []int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		if gone, err = chunkIDs(ctx, tx, id); err != nil {
			return err
		}
		if err := deleteItemVectors(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM items WHERE id = ?", id)
		if err != nil {
			return fmt.Errorf("delete item %q: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("item %q: %w", id, ErrNotFound)
		}
		return nil
	})
	if err == nil {
		db.indexUpdate(0, func(ix *vecIndex) {
			for _, c := range gone {
				ix.remove(c)
			}
		})
	}
	return err
}

// NormalizeTag is the stored form of a tag: trimmed, lower-case, inner white space
// collapsed to single spaces.
func NormalizeTag(tag string) string {
	return strings.ToLower(strings.Join(strings.Fields(tag), " "))
}

// setTags adds tags of one origin. A tag the item already has keeps its first origin, so
// an AI tag never demotes the user's own.
func setTags(ctx context.Context, tx *sql.Tx, itemID, origin string, tags []string) error {
	for _, t := range tags {
		t = NormalizeTag(t)
		if t == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_tags (item_id, tag, origin) VALUES (?, ?, ?)
			ON CONFLICT (item_id, tag) DO NOTHING`, itemID, t, origin); err != nil {
			return fmt.Errorf("set tag %q: %w", t, err)
		}
	}
	return nil
}

// enqueueJob queues a job unless one of the same kind is already queued for the item.
func enqueueJob(ctx context.Context, tx *sql.Tx, kind, itemID string, now time.Time) error {
	ts := formatTime(now)
	_, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, item_id, status, run_after, created_at, updated_at)
		VALUES (?, ?, 'queued', ?, ?, ?)
		ON CONFLICT (kind, item_id) WHERE status = 'queued' DO NOTHING`, kind, itemID, ts, ts, ts)
	if err != nil {
		return fmt.Errorf("enqueue %s job for %q: %w", kind, itemID, err)
	}
	return nil
}

// DerivedUpdate sets what processing learns about an item. Nil fields stay as they are.
// Unlike UpdateItem it never sends the item back to pending: it is how the pipeline writes
// its results, not how the user edits.
type DerivedUpdate struct {
	Title          *string
	Content        *string
	ContentType    *string
	Text           *string
	Summary        *string
	Byline         *string
	Language       *string
	PublishedAt    *string
	Extractor      *string
	EmbeddingModel *string
	WordCount      *int
	// AITags replaces the AI tags; the user's own tags stay.
	AITags *[]string
	// Metadata is merged into the item's metadata (top-level keys replaced).
	Metadata map[string]any
}

// UpdateItemDerived applies u in one transaction.
func (db *DB) UpdateItemDerived(ctx context.Context, id string, u DerivedUpdate) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var metaRaw string
		err := tx.QueryRowContext(ctx, "SELECT metadata FROM items WHERE id = ?", id).Scan(&metaRaw)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("item %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		var sets []string
		var args []any
		for col, v := range map[string]*string{
			"title": u.Title, "content": u.Content, "content_type": u.ContentType, "text": u.Text,
			"summary": u.Summary, "byline": u.Byline, "language": u.Language, "published_at": u.PublishedAt,
			"extractor": u.Extractor, "embedding_model": u.EmbeddingModel,
		} {
			if v != nil {
				sets, args = append(sets, col+" = ?"), append(args, *v)
			}
		}
		if u.Content != nil {
			sets, args = append(sets, "content_hash = ?"), append(args, ContentHash(*u.Content))
		}
		if u.WordCount != nil {
			sets, args = append(sets, "word_count = ?"), append(args, *u.WordCount)
		}
		if len(u.Metadata) > 0 {
			meta := map[string]any{}
			_ = json.Unmarshal([]byte(metaRaw), &meta)
			for k, v := range u.Metadata {
				meta[k] = v
			}
			merged, err := json.Marshal(meta)
			if err != nil {
				return fmt.Errorf("metadata: %w: %v", ErrInvalid, err)
			}
			sets, args = append(sets, "metadata = ?"), append(args, string(merged))
		}
		sets, args = append(sets, "updated_at = ?"), append(args, formatTime(db.now()))
		if _, err := tx.ExecContext(ctx, "UPDATE items SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, id)...); err != nil {
			return fmt.Errorf("update item %q: %w", id, err)
		}
		if u.AITags != nil {
			if _, err := tx.ExecContext(ctx, "DELETE FROM item_tags WHERE item_id = ? AND origin = ?", id, TagAI); err != nil {
				return err
			}
			tags, err := reconcileAITags(ctx, tx, id, *u.AITags)
			if err != nil {
				return fmt.Errorf("reconcile tags: %w", err)
			}
			return setTags(ctx, tx, id, TagAI, tags)
		}
		return nil
	})
}
