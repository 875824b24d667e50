package host

import (
	"container/list"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cortexhq/cortex/providers"
	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/store"
)

// Searcher is the retrieval the search host functions use.
type Searcher interface {
	KeywordSearch(ctx context.Context, q store.KeywordQuery, f store.SearchFilter, limit int, withText bool) ([]store.ChunkHit, error)
	VectorSearch(ctx context.Context, space store.Space, query []float32, f store.SearchFilter, limit int) ([]store.ChunkHit, error)
	ActiveSpace(ctx context.Context) (store.Space, error)
	ChunkTexts(ctx context.Context, ids []int64) ([]store.ChunkText, error)
}

// maxSearchLimit caps one retrieval: fusion needs candidates, not the whole index.
const maxSearchLimit = 1000

func toFilter(f abi.SearchFilters) (store.SearchFilter, error) {
	out := store.SearchFilter{Sources: f.Sources, ContentTypes: f.ContentTypes, Tags: f.Tags, ItemIDs: f.ItemIDs}
	for _, d := range []struct {
		raw string
		dst *time.Time
	}{{f.CreatedAfter, &out.CreatedAfter}, {f.CreatedBefore, &out.CreatedBefore}} {
		if d.raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, d.raw)
		if err != nil {
			if t, err = time.Parse("2006-01-02", d.raw); err != nil {
				return out, fmt.Errorf("%w: date %q is not RFC 3339", errInvalidRequest, d.raw)
			}
		}
		*d.dst = t
	}
	return out, nil
}

func (h *Host) searcher() (Searcher, error) {
	s, ok := h.services.Store.(Searcher)
	if !ok {
		return nil, &abi.Error{Code: abi.ErrUnavailable, Message: "no search index in this host"}
	}
	return s, nil
}

func searchRequest(req []byte) (abi.SearchInput, store.SearchFilter, error) {
	var in abi.SearchInput
	if err := decode(req, &in); err != nil {
		return in, store.SearchFilter{}, err
	}
	if in.Limit <= 0 {
		in.Limit = 10
	}
	in.Limit = min(in.Limit, maxSearchLimit)
	f, err := toFilter(in.Filters)
	return in, f, err
}

func toHits(hits []store.ChunkHit) []abi.ChunkHit {
	out := make([]abi.ChunkHit, len(hits))
	for i, h := range hits {
		out[i] = abi.ChunkHit{ChunkID: h.ChunkID, ItemID: h.ItemID, Ordinal: h.Ordinal, Score: h.Score, Exact: h.Exact}
	}
	return out
}

func (h *Host) fnSearchKeyword(ctx context.Context, _ *callInfo, req []byte) (any, error) {
	s, err := h.searcher()
	if err != nil {
		return nil, err
	}
	in, f, err := searchRequest(req)
	if err != nil {
		return nil, err
	}
	q := store.ParseKeywordQuery(in.Query)
	hits, err := s.KeywordSearch(ctx, q, f, in.Limit, false)
	if err != nil {
		return nil, err
	}
	out := abi.SearchOutput{Hits: toHits(hits), Terms: q.Terms}
	for _, p := range q.Phrases {
		out.Phrases = append(out.Phrases, strings.Join(p, " "))
	}
	return out, nil
}

func (h *Host) fnSearchVector(ctx context.Context, _ *callInfo, req []byte) (any, error) {
	s, err := h.searcher()
	if err != nil {
		return nil, err
	}
	in, f, err := searchRequest(req)
	if err != nil {
		return nil, err
	}
	space, err := s.ActiveSpace(ctx)
	if err != nil {
		if errorCode(err) == abi.ErrNotFound {
			return abi.SearchOutput{Hits: []abi.ChunkHit{}}, nil // nothing embedded yet
		}
		return nil, err
	}
	if h.services.Models == nil {
		return nil, &abi.Error{Code: abi.ErrUnavailable, Message: "no embedding model in this host"}
	}
	vec, err := h.queryVector(ctx, space, in.Query)
	if err != nil {
		return nil, err
	}
	hits, err := s.VectorSearch(ctx, space, vec, f, in.Limit)
	if err != nil {
		return nil, err
	}
	return abi.SearchOutput{Hits: toHits(hits), Model: space.Provider + "/" + space.Model}, nil
}

func (h *Host) fnSearchChunks(ctx context.Context, _ *callInfo, req []byte) (any, error) {
	s, err := h.searcher()
	if err != nil {
		return nil, err
	}
	var in abi.SearchChunksInput
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	if len(in.ChunkIDs) > maxSearchLimit {
		return nil, fmt.Errorf("%w: at most %d chunks per call", ErrLimit, maxSearchLimit)
	}
	texts, err := s.ChunkTexts(ctx, in.ChunkIDs)
	if err != nil {
		return nil, err
	}
	out := abi.SearchChunksOutput{Chunks: make([]abi.ChunkText, len(texts))}
	for i, c := range texts {
		out.Chunks[i] = abi.ChunkText{ChunkID: c.ChunkID, ItemID: c.ItemID, Title: c.Title, Heading: c.Heading, Text: c.Text}
	}
	return out, nil
}

// queryVector embeds a query with the model of space — which, while a new model is being
// re-embedded, is the old one — caching recent queries (paging and typing repeat them).
func (h *Host) queryVector(ctx context.Context, space store.Space, query string) ([]float32, error) {
	id := providers.EmbeddingIdentity{Provider: space.Provider, Model: space.Model, Dimensions: space.Dimensions,
		DocPrefix: space.DocPrefix, QueryPrefix: space.QueryPrefix}
	key := fmt.Sprintf("%d\x00%s", space.ID, query)
	if v, ok := h.queryCache.get(key); ok {
		return v, nil
	}
	emb, err := h.services.Models.EmbedderFor(id)
	if err != nil {
		return nil, err
	}
	vecs, err := emb.Embed(ctx, []string{query}, providers.PurposeQuery)
	if err != nil {
		return nil, err
	}
	if len(vecs) != 1 || len(vecs[0]) != space.Dimensions {
		return nil, fmt.Errorf("%w: the embedding model answered %d dimensions, the index has %d", providers.ErrBadRequest, len(vecs[0]), space.Dimensions)
	}
	h.queryCache.put(key, vecs[0])
	return vecs[0], nil
}

// lru is a small least-recently-used cache of query vectors.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	vec []float32
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lru) get(key string) ([]float32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(lruEntry).vec, true
	}
	return nil, false
}

func (c *lru) put(key string, vec []float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value = lruEntry{key, vec}
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(lruEntry{key, vec})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(lruEntry).key)
	}
}
