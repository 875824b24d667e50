//go:build !wasip1

package main

import (
	"fmt"
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// TestFuseRRF checks the arithmetic against a hand-computed example (k = 60, keyword
// weight 1, vector weight 0.7):
//
//	c1 (A): keyword #1             → 1/61            = 0.0163934
//	c2 (B): keyword #2             → 1/62            = 0.0161290
//	c3 (A): keyword #3, vector #1  → 1/63 + 0.7/61   = 0.0273484
//	c4 (C): vector #2              → 0.7/62          = 0.0112903
//
// A's best chunk is c3; the best possible score is 1.7/61 = 0.0278689.
func TestFuseRRF(t *testing.T) {
	kw := []hitRef{{ChunkID: 1, ItemID: "A"}, {ChunkID: 2, ItemID: "B"}, {ChunkID: 3, ItemID: "A"}}
	vec := []hitRef{{ChunkID: 3, ItemID: "A"}, {ChunkID: 4, ItemID: "C"}}
	f := fusion{K: 60, W: weights{1, 0.7}, UseKeyword: true, UseVector: true}
	got := fuse(kw, vec, f)
	want := []fusedItem{
		{ItemID: "A", ChunkID: 3, Score: 1.0/63 + 0.7/61, KeywordRank: 3, VectorRank: 1, Chunks: 2},
		{ItemID: "B", ChunkID: 2, Score: 1.0 / 62, KeywordRank: 2, Chunks: 1},
		{ItemID: "C", ChunkID: 4, Score: 0.7 / 62, VectorRank: 2, Chunks: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("fuse = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ItemID != w.ItemID || g.ChunkID != w.ChunkID || !near(g.Score, w.Score) || g.KeywordRank != w.KeywordRank ||
			g.VectorRank != w.VectorRank || g.Chunks != w.Chunks {
			t.Errorf("item %d = %+v, want %+v", i, g, w)
		}
	}
	if !near(f.best(), 1.7/61) {
		t.Errorf("best = %v, want %v", f.best(), 1.7/61)
	}
	for i, want := range []float64{0.9813, 0.5787, 0.4051} {
		if s := f.normalise(got[i].Score); s != want {
			t.Errorf("normalised score %d = %v, want %v", i, s, want)
		}
	}
	// Keyword only: the best possible is keyword #1 alone.
	kwOnly := fusion{K: 60, W: weights{1, 0.7}, UseKeyword: true}
	if s := kwOnly.normalise(1.0 / 61); s != 1 {
		t.Errorf("keyword #1 in a keyword-only search scores %v, want 1", s)
	}
	if s := (fusion{K: 60}).normalise(0.5); s != 0 {
		t.Errorf("all weights zero: score %v, want 0", s)
	}
}

func TestFuseTieBreaks(t *testing.T) {
	// B and A both have a chunk at keyword #1 / vector #1 mirrored, so the same score; A
	// has two chunks found, B one; C and D tie on everything but the ID.
	kw := []hitRef{{ChunkID: 10, ItemID: "B"}, {ChunkID: 20, ItemID: "A"}, {ChunkID: 30, ItemID: "D"}, {ChunkID: 40, ItemID: "C"}, {ChunkID: 21, ItemID: "A"}}
	vec := []hitRef{{ChunkID: 20, ItemID: "A"}, {ChunkID: 10, ItemID: "B"}, {ChunkID: 40, ItemID: "C"}, {ChunkID: 30, ItemID: "D"}}
	got := fuse(kw, vec, fusion{K: 60, W: weights{1, 1}, UseKeyword: true, UseVector: true})
	var order []string
	for _, it := range got {
		order = append(order, it.ItemID)
	}
	if fmt.Sprint(order) != "[A B C D]" {
		t.Errorf("order %v, want [A B C D] (more chunks first, then item ID)", order)
	}
	if got[0].ChunkID != 20 || got[0].Chunks != 2 {
		t.Errorf("A: %+v, want best chunk 20 of 2", got[0])
	}
	// The same chunk listed twice in one list counts once, at its better rank.
	dup := fuse([]hitRef{{ChunkID: 1, ItemID: "A"}, {ChunkID: 1, ItemID: "A"}}, nil, fusion{K: 60, W: weights{1, 1}, UseKeyword: true})
	if len(dup) != 1 || !near(dup[0].Score, 1.0/61) || dup[0].KeywordRank != 1 || dup[0].Chunks != 1 {
		t.Errorf("duplicate chunk: %+v", dup)
	}
}

// TestFuseKeepsKeywordOnlyHits: an exact keyword hit that the vector list ranks nowhere
// (or last) is never dropped, and for a simple query a keyword #1 beats a vector #1.
func TestFuseKeepsKeywordOnlyHits(t *testing.T) {
	var vec []hitRef
	for i := range 200 {
		vec = append(vec, hitRef{ChunkID: int64(1000 + i), ItemID: fmt.Sprintf("v%03d", i)})
	}
	kw := []hitRef{{ChunkID: 1, ItemID: "exact"}}
	got := fuse(kw, vec, fusion{K: 60, W: neuralDefaults.W[typeSimple], UseKeyword: true, UseVector: true})
	if len(got) != 201 {
		t.Fatalf("%d items, want the union of 201", len(got))
	}
	if got[0].ItemID != "exact" || got[0].VectorRank != 0 || got[0].KeywordRank != 1 {
		t.Errorf("first %+v, want the exact keyword hit", got[0])
	}
	// Ranked last by the vector list, it is still there and still above vector-only
	// neighbours of its vector rank.
	vec = append(vec, hitRef{ChunkID: 1, ItemID: "exact"})
	got = fuse(kw, vec, fusion{K: 60, W: neuralDefaults.W[typeQuestion], UseKeyword: true, UseVector: true})
	if got[0].ItemID != "exact" || got[0].VectorRank != 201 {
		t.Errorf("first %+v, want the exact keyword hit at vector rank 201", got[0])
	}
}

func TestPage(t *testing.T) {
	xs := []int{0, 1, 2, 3, 4}
	for _, tc := range []struct {
		offset, limit int
		want          string
	}{{0, 2, "[0 1]"}, {3, 10, "[3 4]"}, {5, 1, "[]"}, {99, 1, "[]"}, {4, 1, "[4]"}} {
		if got := fmt.Sprint(page(xs, tc.offset, tc.limit)); got != tc.want {
			t.Errorf("page(%d, %d) = %s, want %s", tc.offset, tc.limit, got, tc.want)
		}
	}
}

// An exact identifier match the vector list ranks low still beats chunks that only share
// parts of the identifier but sit high in both lists.
func TestFuseExactHitBoost(t *testing.T) {
	kw := []hitRef{{ChunkID: 1, ItemID: "exact", Exact: true}, {ChunkID: 2, ItemID: "a"}, {ChunkID: 3, ItemID: "b"}}
	vec := []hitRef{{ChunkID: 2, ItemID: "a"}, {ChunkID: 3, ItemID: "b"}, {ChunkID: 4, ItemID: "c"}, {ChunkID: 1, ItemID: "exact"}}
	got := fuse(kw, vec, fusion{K: 60, W: weights{1, 0.7}, UseKeyword: true, UseVector: true})
	if got[0].ItemID != "exact" {
		t.Fatalf("order %+v; want the exact hit first", got)
	}
}
