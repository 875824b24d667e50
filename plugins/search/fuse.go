package main

import (
	"cmp"
	"math"
	"slices"
)

// hitRef is one candidate chunk. Its rank is its position in its list, from 1; the
// lists' scores (BM25, cosine) are not comparable, so only ranks are kept.
type hitRef struct {
	ChunkID int64  `json:"chunk_id"`
	ItemID  string `json:"item_id"`
	// Exact keyword hits contain the query's identifiers or phrases whole.
	Exact bool `json:"exact,omitempty"`
}

// weights are the two lists' weights in the fusion.
type weights struct {
	Keyword float64 `json:"keyword"`
	Vector  float64 `json:"vector"`
}

// fusionDefaults are the fusion settings when neither the plugin's config nor the request
// says otherwise. They depend on the embedding model behind the vector list.
type fusionDefaults struct {
	K float64
	W map[string]weights
}

// localDefaults are measured with `cortex eval --sweep` on Cranfield (1,400 documents, 225
// judged queries) with the offline local embedder, whose hashed word and character n-grams
// are a lexical signal weaker than BM25 (alone: nDCG@10 0.244 against keyword's 0.329).
// Keyword 1.0 / vector 0.5 at k = 10 was the best hybrid (nDCG@10 0.323, MRR@10 0.483,
// recall@100 0.748, against 0.297 / 0.479 / 0.725 for the k = 60 equal-weight textbook
// setting); at every k from 10 to 100 the weights ranked the same way, and a lower k was
// better at every weight.
var localDefaults = fusionDefaults{K: 10, W: map[string]weights{
	typeSimple:   {Keyword: 1.0, Vector: 0.5},
	typeSemantic: {Keyword: 1.0, Vector: 0.5},
	typeQuestion: {Keyword: 1.0, Vector: 0.5},
}}

// neuralDefaults are for embedding models served by Ollama or an OpenAI-compatible
// endpoint. No such model can run here, so these are not measured: the standard k = 60
// with equal weights, leaning on keywords for simple queries (names, identifiers, which an
// embedding blurs) and on vectors for questions (whose phrasing a keyword match follows
// too literally).
var neuralDefaults = fusionDefaults{K: 60, W: map[string]weights{
	typeSimple:   {Keyword: 1.0, Vector: 0.7},
	typeSemantic: {Keyword: 1.0, Vector: 1.0},
	typeQuestion: {Keyword: 0.8, Vector: 1.0},
}}

// defaultsFor picks the defaults for the AI provider the host reports.
func defaultsFor(provider string) fusionDefaults {
	if provider == "" || provider == "local" {
		return localDefaults
	}
	return neuralDefaults
}

// fusion is one search's fusion settings and which lists ran.
type fusion struct {
	K          float64
	W          weights
	UseKeyword bool
	UseVector  bool
}

// best is the highest fused score possible in this search: rank 1 in every list that ran.
func (f fusion) best() float64 {
	sum := 0.0
	if f.UseKeyword {
		sum += f.W.Keyword
	}
	if f.UseVector {
		sum += f.W.Vector
	}
	return sum / (f.K + 1)
}

// normalise maps a fused score to 0..1 against the best possible, to 4 decimals.
func (f fusion) normalise(score float64) float64 {
	b := f.best()
	if b <= 0 {
		return 0
	}
	return math.Round(min(score/b, 1)*1e4) / 1e4
}

// fusedItem is one item found: its best chunk and that chunk's ranks.
type fusedItem struct {
	ItemID      string
	ChunkID     int64
	Score       float64 // the best chunk's fused score
	KeywordRank int     // 0: not in the keyword list
	VectorRank  int     // 0: not in the vector list
	Chunks      int     // how many of the item's chunks either list found
}

type fusedChunk struct {
	id, kwRank, vecRank int64
	item                string
	score               float64
}

// fuse merges the lists by weighted reciprocal rank fusion over their union —
// Σ w_list / (k + rank_list) — and groups the chunks by item, best item first. Nothing is
// cut: a chunk only one list found keeps its share of the score.
func fuse(kw, vec []hitRef, f fusion) []fusedItem {
	chunks := map[int64]*fusedChunk{}
	var order []int64
	add := func(list []hitRef, w float64, rank func(*fusedChunk) *int64) {
		for i, h := range list {
			c := chunks[h.ChunkID]
			if c == nil {
				c = &fusedChunk{id: h.ChunkID, item: h.ItemID}
				chunks[h.ChunkID] = c
				order = append(order, h.ChunkID)
			}
			if r := rank(c); *r == 0 { // a chunk listed twice keeps its better rank
				*r = int64(i + 1)
				c.score += w / (f.K + float64(i+1))
				if h.Exact {
					// An exact identifier or phrase match counts as a third list: with
					// RRF's flat ranks, a chunk that merely shares parts of an identifier
					// but is close in both lists would otherwise outrank it.
					c.score += w / (f.K + float64(i+1))
				}
			}
		}
	}
	add(kw, f.W.Keyword, func(c *fusedChunk) *int64 { return &c.kwRank })
	add(vec, f.W.Vector, func(c *fusedChunk) *int64 { return &c.vecRank })

	items := map[string]*fusedItem{}
	for _, id := range order {
		c := chunks[id]
		it := items[c.item]
		if it == nil {
			it = &fusedItem{ItemID: c.item}
			items[c.item] = it
		}
		it.Chunks++
		if it.Chunks == 1 || c.score > it.Score || (c.score == it.Score && c.id < it.ChunkID) {
			it.ChunkID, it.Score, it.KeywordRank, it.VectorRank = c.id, c.score, int(c.kwRank), int(c.vecRank)
		}
	}
	out := make([]fusedItem, 0, len(items))
	for _, it := range items {
		out = append(out, *it)
	}
	slices.SortFunc(out, func(a, b fusedItem) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Chunks, a.Chunks); c != 0 {
			return c
		}
		return cmp.Compare(a.ItemID, b.ItemID)
	})
	return out
}

// page cuts items[offset : offset+limit], clamped.
func page[T any](items []T, offset, limit int) []T {
	if offset >= len(items) {
		return nil
	}
	return items[offset:min(len(items), offset+limit)]
}
