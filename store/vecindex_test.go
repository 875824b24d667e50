package store

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// clustered makes n unit vectors around `clusters` random centres with noise, like the
// topical structure of real document embeddings.
func clustered(n, dims, clusters int, noise float64, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float64, clusters)
	for c := range centres {
		centres[c] = make([]float64, dims)
		for i := range centres[c] {
			centres[c][i] = r.NormFloat64()
		}
	}
	out := make([][]float32, n)
	for k := range out {
		c := centres[r.IntN(clusters)]
		v := make([]float32, dims)
		var norm float64
		for i := range v {
			x := c[i] + noise*r.NormFloat64()
			v[i] = float32(x)
			norm += x * x
		}
		for i := range v {
			v[i] /= float32(math.Sqrt(norm))
		}
		out[k] = v
	}
	return out
}

func exactTopK(vecs [][]float32, q []float32, k int) map[int64]bool {
	type hit struct {
		id    int64
		score float32
	}
	hits := make([]hit, len(vecs))
	for i, v := range vecs {
		var s float32
		for j := range v {
			s += v[j] * q[j]
		}
		hits[i] = hit{int64(i + 1), s}
	}
	sort.Slice(hits, func(a, b int) bool { return hits[a].score > hits[b].score })
	out := map[int64]bool{}
	for _, h := range hits[:k] {
		out[h.id] = true
	}
	return out
}

func recallAt10(t testing.TB, vecs, queries [][]float32) float64 {
	ix := newVecIndex(1, len(vecs[0]))
	for i, v := range vecs {
		ix.put(int64(i+1), "item", v)
	}
	var found, total int
	for _, q := range queries {
		want := exactTopK(vecs, q, 10)
		for _, h := range ix.search(q, 10, nil) {
			if want[h.chunkID] {
				found++
			}
		}
		total += 10
	}
	return float64(found) / float64(total)
}

// TestVectorIndexRecall checks the sign-bit pass plus int8 re-scoring against exact
// search on data with little and much noise, at both common dimensions.
func TestVectorIndexRecall(t *testing.T) {
	for _, tc := range []struct {
		name           string
		dims, clusters int
		noise          float64
	}{
		{"384d clustered", 384, 50, 0.6},
		{"768d clustered", 768, 50, 0.6},
		{"768d noisy", 768, 200, 1.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vecs := clustered(20000, tc.dims, tc.clusters, tc.noise, 7)
			queries := clustered(100, tc.dims, tc.clusters, tc.noise, 7) // same centres, new points
			r := recallAt10(t, vecs, queries)
			t.Logf("recall@10 = %.3f", r)
			if r < 0.95 {
				t.Errorf("recall@10 = %.3f; want >= 0.95", r)
			}
		})
	}
}

func TestVectorIndexUpdates(t *testing.T) {
	ix := newVecIndex(1, 3)
	ix.put(1, "a", []float32{1, 0, 0})
	ix.put(2, "b", []float32{0, 1, 0})
	ix.put(2, "b", []float32{0, 0, 1}) // replace
	ix.remove(1)
	ix.put(3, "c", []float32{0.6, 0.8, 0})
	hits := ix.search([]float32{1, 0, 0}, 5, nil)
	if len(hits) != 2 || hits[0].chunkID != 3 || hits[1].chunkID != 2 {
		t.Fatalf("hits %+v", hits)
	}
	if hits := ix.search([]float32{1, 0, 0}, 5, map[string]bool{"b": true}); len(hits) != 1 || hits[0].itemID != "b" {
		t.Fatalf("filtered %+v", hits)
	}
	if ix.len() != 2 || len(ix.free) != 0 {
		t.Fatalf("slot reuse: len %d free %v", ix.len(), ix.free)
	}
}

func benchIndex(b *testing.B, n, dims int) {
	vecs := clustered(n, dims, 100, 0.8, 3)
	ix := newVecIndex(1, dims)
	for i, v := range vecs {
		ix.put(int64(i+1), "item", v)
	}
	queries := clustered(64, dims, 100, 0.8, 3)
	i := 0
	for b.Loop() {
		ix.search(queries[i%len(queries)], 10, nil)
		i++
	}
}

func BenchmarkVectorIndex100kx384(b *testing.B) { benchIndex(b, 100_000, 384) }
func BenchmarkVectorIndex100kx768(b *testing.B) { benchIndex(b, 100_000, 768) }
func BenchmarkVectorIndex10kx384(b *testing.B)  { benchIndex(b, 10_000, 384) }
