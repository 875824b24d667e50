package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cortexhq/cortex/store"
	"github.com/cortexhq/cortex/store/storetest"
)

func BenchmarkCreateItem(b *testing.B) {
	ctx := context.Background()
	db := storetest.MustOpen(b)
	body := strings.Repeat("lorem ipsum dolor sit amet ", 100)
	i := 0
	for b.Loop() {
		i++
		if _, _, err := db.CreateItem(ctx, store.NewItem{
			URL: fmt.Sprintf("https://bench.example/%d", i), Title: "t", Content: fmt.Sprint(i) + body,
		}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplaceChunks(b *testing.B) {
	ctx := context.Background()
	db := storetest.MustOpen(b)
	it, _, _ := db.CreateItem(ctx, store.NewItem{Title: "t", Content: "c"})
	space, err := db.EnsureSpace(ctx, store.SpaceIdentity{Provider: "bench", Model: "m", Dimensions: 384}, 500, 50)
	if err != nil {
		b.Fatal(err)
	}
	chunks := make([]store.Chunk, 10)
	vecs := make([][]float32, 10)
	for i := range chunks {
		chunks[i] = store.Chunk{Text: strings.Repeat(fmt.Sprintf("word%d ", i), 400)}
		vecs[i] = make([]float32, 384)
		vecs[i][i] = 1
	}
	for b.Loop() {
		if _, err := db.ReplaceChunks(ctx, it.ID, chunks, &space, vecs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(chunks)*b.N)/b.Elapsed().Seconds(), "chunks/s")
}
