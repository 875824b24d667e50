package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cortexhq/cortex/providers"
	"github.com/cortexhq/cortex/providers/local"
	"github.com/cortexhq/cortex/store"
)

// benchSearch measures search through the HTTP API over a store of n chunks. The chunks
// are written straight into the store (with the local embedder's vectors) rather than
// through processing, which would take hours at 100k: what is measured is the search.
func benchSearch(ctx context.Context, n int, stdout io.Writer) error {
	// Seeded before the server (and its queue) starts, with their jobs marked done, so
	// processing does not redo the items while search is measured.
	var seeded time.Duration
	app, base, stop, err := startThrowawayServer(ctx, nil, func(app *App) error {
		start := time.Now()
		err := seedChunks(ctx, app.db, n)
		seeded = time.Since(start)
		return err
	})
	if err != nil {
		return err
	}
	defer stop()
	dir := app.cfg.DataDir
	if err := app.host.WaitReady(ctx); err != nil {
		return err
	}

	size := dirSize(dir)

	queries := benchQueries()
	// Warm: the vector index is built on the first vector search.
	warm := time.Now()
	searchOnce(base, queries[0], "hybrid")
	warmup := time.Since(warm)

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "search over %d chunks\tclients\tqueries\tqps\tp50\tp95\tp99\t\n", n)
	for _, mode := range []string{"keyword", "vector", "hybrid"} {
		for _, conc := range []int{1, 8} {
			r := runSearches(base, queries, mode, conc, 400)
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t\n", mode, conc, r.ops, float64(r.ops)/r.elapsed.Seconds(),
				pctl(r.latencies, 0.5), pctl(r.latencies, 0.95), pctl(r.latencies, 0.99))
		}
	}
	sug := runSuggestions(base, 400)
	fmt.Fprintf(tw, "suggestions\t1\t%d\t%.0f\t%s\t%s\t%s\t\n", sug.ops, float64(sug.ops)/sug.elapsed.Seconds(),
		pctl(sug.latencies, 0.5), pctl(sug.latencies, 0.95), pctl(sug.latencies, 0.99))
	tw.Flush()
	fmt.Fprintf(stdout, "seeded %d chunks in %s; database on disk %.1f MiB (%.0f bytes/chunk); first vector search (builds the index) %s; max RSS %d MiB\n\n",
		n, seeded.Round(time.Millisecond), float64(size)/(1<<20), float64(size)/float64(n), warmup.Round(time.Millisecond), rssBytes()>>20)
	return nil
}

// seedChunks writes items of 10 chunks each (~120 words per chunk) with local vectors.
func seedChunks(ctx context.Context, db *store.DB, n int) error {
	emb := local.New()
	id := emb.Identity()
	space, err := db.EnsureSpace(ctx, store.SpaceIdentity(id), 500, 50)
	if err != nil {
		return err
	}
	if err := db.SetSpaceState(ctx, space.ID, store.SpaceActive); err != nil {
		return err
	}
	const perItem = 10
	for i := 0; i*perItem < n; i++ {
		chunks := make([]store.Chunk, min(perItem, n-i*perItem))
		texts := make([]string, len(chunks))
		for j := range chunks {
			texts[j] = syntheticWords(i*perItem+j, 120)
			chunks[j] = store.Chunk{Text: texts[j], TokenCount: 120}
		}
		it, _, err := db.CreateItem(ctx, store.NewItem{Title: syntheticWords(i+5_000_000, 5), Content: texts[0],
			Source: []string{"manual", "browser_extension"}[i%2], Tags: []string{fmt.Sprintf("topic%d", i%20)}})
		if err != nil {
			return err
		}
		vecs, err := emb.Embed(ctx, texts, providers.PurposeDocument)
		if err != nil {
			return err
		}
		if _, err := db.ReplaceChunks(ctx, it.ID, chunks, &space, vecs); err != nil {
			return err
		}
		jobs, err := db.ClaimJobs(ctx, store.JobProcess, 1)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if err := db.CompleteProcessJob(ctx, j); err != nil {
				return err
			}
		}
		model := id.Provider + "/" + id.Model
		if err := db.UpdateItemDerived(ctx, it.ID, store.DerivedUpdate{EmbeddingModel: &model}); err != nil {
			return err
		}
	}
	return nil
}

// benchQueries mixes what people type: single words, a few keywords, phrases,
// descriptions and questions, over the synthetic vocabulary.
func benchQueries() []string {
	r := rand.New(rand.NewPCG(11, 12))
	word := func() string { return benchVocabulary[r.IntN(200)] }
	var qs []string
	for i := range 200 {
		switch i % 5 {
		case 0:
			qs = append(qs, word())
		case 1:
			qs = append(qs, word()+" "+word())
		case 2:
			qs = append(qs, `"`+word()+" "+word()+`"`)
		case 3:
			qs = append(qs, "notes about "+word()+" and "+word()+" in the "+word())
		default:
			qs = append(qs, "how does the "+word()+" affect "+word()+"?")
		}
	}
	return qs
}

func searchOnce(base, q, mode string) (time.Duration, error) {
	body, _ := json.Marshal(map[string]any{"query": q, "limit": 10, "mode": mode})
	t0 := time.Now()
	resp, err := http.Post(base+"/api/search", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("search: status %d", resp.StatusCode)
	}
	return time.Since(t0), nil
}

func runSearches(base string, queries []string, mode string, conc, total int) benchResult {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	next := make(chan int, total)
	for i := range total {
		next <- i
	}
	close(next)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d, err := searchOnce(base, queries[i%len(queries)], mode)
				if err != nil {
					continue
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return benchResult{ops: len(lat), elapsed: time.Since(start), latencies: lat}
}

func runSuggestions(base string, total int) benchResult {
	prefixes := []string{"k", "kn", "kno", "know", "knowl", "da", "dat", "data", "databa", "emb", "embed", "lan", "langu"}
	var lat []time.Duration
	start := time.Now()
	for i := range total {
		t0 := time.Now()
		resp, err := http.Get(base + "/api/search/suggestions?q=" + url.QueryEscape("some "+prefixes[i%len(prefixes)]))
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
	}
	return benchResult{ops: len(lat), elapsed: time.Since(start), latencies: lat}
}

func pctl(lat []time.Duration, p float64) string {
	if len(lat) == 0 {
		return "-"
	}
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))].Round(10 * time.Microsecond).String()
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasPrefix(info.Name(), "cortex.db") {
			n += info.Size()
		}
		return nil
	})
	return n
}
