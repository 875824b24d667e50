package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/cortexhq/cortex/internal/config"
	"github.com/cortexhq/cortex/providers"
	"github.com/cortexhq/cortex/providers/local"
)

// benchCommand is the load driver behind `make bench`: it starts a throw-away server (or
// targets --addr), drives it over real HTTP, and prints one table row per scenario.
func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "host:port of a running server (default: start a throw-away one)")
	items := fs.Int("items", 2000, "items to create per scenario")
	chunks := fs.Int("chunks", 2000, "chunks to embed in the embedder scenario")
	pages := fs.Int("pages", 1000, "web pages to ingest per concurrency level (0 skips ingestion)")
	searchSizes := fs.String("search-chunks", "10000,100000", "chunk counts to measure search at (empty skips)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (driver and in-process server) to this file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// Each scenario gets a fresh server (unless --addr names one), so the processing one
	// scenario queues does not run on into the next.
	withServer := func(fn func(app *App, url string) error) error {
		if *addr != "" {
			return fn(nil, "http://"+*addr)
		}
		app, url, stop, err := startThrowawayServer(ctx, nil, nil)
		if err != nil {
			return err
		}
		defer stop()
		return fn(app, url)
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tops\tops/s\tp50\tp95\tp99\t")
	for _, conc := range []int{1, 8} {
		err := withServer(func(_ *App, url string) error {
			r, err := benchCreateItems(ctx, url, *items, conc)
			if err != nil {
				return err
			}
			r.print(tw, fmt.Sprintf("POST /api/items, %d client(s)", conc))
			return nil
		})
		if err != nil {
			return err
		}
	}
	r, err := benchLocalEmbed(ctx, *chunks)
	if err != nil {
		return err
	}
	r.print(tw, "local embedder, 500-word chunks (batch 32)")
	if err := tw.Flush(); err != nil {
		return err
	}
	if *pages > 0 && *addr == "" {
		pageSet, source := benchPages(*pages)
		var results []ingestResult
		for _, conc := range []int{1, 2} {
			err := withServer(func(app *App, url string) error {
				if err := app.host.WaitReady(ctx); err != nil {
					return err
				}
				res, err := benchIngest(ctx, app, url, pageSet, conc)
				results = append(results, res)
				return err
			})
			if err != nil {
				return err
			}
		}
		fmt.Fprintln(stdout)
		printIngest(stdout, results, source)
		err := withServer(func(app *App, url string) error {
			if err := app.host.WaitReady(ctx); err != nil {
				return err
			}
			lat, err := benchReadyLatency(ctx, app, url, pageSet[:min(len(pageSet), 40)])
			if err == nil {
				fmt.Fprintf(stdout, "\nPOST to ready, one page at a time on an idle queue (%d pages): p50 %s p95 %s\n",
					len(lat), pctl(lat, 0.5), pctl(lat, 0.95))
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	for _, f := range strings.Split(*searchSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			continue
		}
		fmt.Fprintln(stdout)
		if err := benchSearch(ctx, n, stdout); err != nil {
			return err
		}
	}
	return nil
}

// startThrowawayServer runs a server in-process on a throw-away data directory, for the
// bench and eval commands. configure, when set, adjusts the default configuration; seed,
// when set, runs before the server (and its processing queue) starts. stop shuts the
// server down and removes the directory.
func startThrowawayServer(ctx context.Context, configure func(*config.Config), seed func(app *App) error) (app *App, url string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "cortex-")
	if err != nil {
		return nil, "", nil, err
	}
	cfg := config.Default()
	cfg.DataDir, cfg.Port = dir, 0
	if configure != nil {
		configure(&cfg)
	}
	cfg.ApplyDerived()
	if err := cfg.Validate(); err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	app, err = NewApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	if seed != nil {
		if err := seed(app); err != nil {
			app.Close()
			os.RemoveAll(dir)
			return nil, "", nil, err
		}
	}
	ready := make(chan string, 1)
	served := make(chan struct{})
	sctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(served)
		app.Serve(sctx, func(a string) { ready <- a })
	}()
	stop = func() {
		cancel()
		<-served
		app.Close()
		os.RemoveAll(dir)
	}
	return app, "http://" + <-ready, stop, nil
}

type benchResult struct {
	ops       int
	elapsed   time.Duration
	latencies []time.Duration
}

func (r benchResult) print(w io.Writer, name string) {
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	pct := func(p float64) string {
		if len(r.latencies) == 0 {
			return "-"
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))].Round(time.Microsecond).String()
	}
	fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t%s\t\n", name, r.ops, float64(r.ops)/r.elapsed.Seconds(), pct(0.50), pct(0.95), pct(0.99))
}

func benchCreateItems(ctx context.Context, url string, n, concurrency int) (benchResult, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	run := rand.Int64()
	var next atomic.Int64
	lat := make([][]time.Duration, concurrency)
	errc := make(chan error, concurrency)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				body, _ := json.Marshal(map[string]any{
					"title":   fmt.Sprintf("Bench item %d", i),
					"url":     fmt.Sprintf("https://bench.example/%d/%d", run, i),
					"content": syntheticPage(int(i), 3000),
					"source":  "bench",
				})
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, "POST", url+"/api/items", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					errc <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errc <- fmt.Errorf("create item: status %d", resp.StatusCode)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errc:
		return benchResult{}, err
	default:
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	return benchResult{ops: n, elapsed: elapsed, latencies: all}, nil
}

func benchLocalEmbed(ctx context.Context, n int) (benchResult, error) {
	emb := local.New()
	texts := make([]string, n)
	for i := range texts {
		texts[i] = syntheticWords(i, 500)
	}
	var lat []time.Duration
	start := time.Now()
	for i := 0; i < n; i += 32 {
		batch := texts[i:min(n, i+32)]
		t0 := time.Now()
		if _, err := emb.Embed(ctx, batch, providers.PurposeDocument); err != nil {
			return benchResult{}, err
		}
		per := time.Since(t0) / time.Duration(len(batch))
		for range batch {
			lat = append(lat, per)
		}
	}
	return benchResult{ops: n, elapsed: time.Since(start), latencies: lat}, nil
}

// benchVocabulary mixes common English words with a few thousand generated ones, drawn
// with a Zipf-like skew, so that texts have the distinct-word counts of real prose (the
// local embedder's cost grows with distinct words).
var benchVocabulary = func() []string {
	words := strings.Fields(`the of and to in is that for it as with was on be by this are from
		knowledge graph retrieval embedding vector search local model article note document
		summary research paper network protocol database index query language learning system
		memory storage cache latency throughput design pattern function interface module package
		compiler runtime thread process kernel history science biology physics economy market`)
	syllables := strings.Fields("ka lo mi ne ru sa ti vo ze pa ri on el an ter ly ment ing ex ra co de")
	r := rand.New(rand.NewPCG(1, 2))
	for len(words) < 5000 {
		n := 2 + r.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteString(syllables[r.IntN(len(syllables))])
		}
		words = append(words, b.String())
	}
	return words
}()

// syntheticWords is deterministic filler text: a vocabulary walk seeded by i.
func syntheticWords(i, words int) string {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	var b strings.Builder
	for w := range words {
		if w > 0 {
			if w%14 == 0 {
				b.WriteString(". ")
			} else {
				b.WriteByte(' ')
			}
		}
		// Squaring a uniform draw skews toward the front: common words repeat, rare ones do not.
		u := r.Float64()
		b.WriteString(benchVocabulary[int(u*u*float64(len(benchVocabulary)))])
	}
	b.WriteByte('.')
	return b.String()
}

// syntheticPage wraps filler text in the HTML a saved article would have.
func syntheticPage(i, bytes int) string {
	return "<html><head><title>Page " + fmt.Sprint(i) + "</title></head><body><article><p>" +
		syntheticWords(i, bytes/8) + "</p></article></body></html>"
}
