package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cortexhq/cortex/host"
)

// ingestResult is one ingestion run: pages saved through the API and processed to ready.
type ingestResult struct {
	concurrency int
	pages       int
	failed      int
	chunks      int
	elapsed     time.Duration
	latencies   []time.Duration // POST to ready
	extractP50  float64
	extractP95  float64
	maxRSS      uint64
	nodes       map[string][]time.Duration // node name -> durations of its finished attempts
	failures    map[string]int             // item error -> count
}

// benchIngest saves pages through the HTTP API of an in-process server with
// max_concurrent_processing = concurrency and waits until every item is ready or failed.
func benchIngest(ctx context.Context, app *App, base string, pages []string, concurrency int) (ingestResult, error) {
	res := ingestResult{concurrency: concurrency, pages: len(pages)}
	putSettings(base, map[string]any{"max_concurrent_processing": concurrency})
	events, unsubscribe := app.engine.Broker().Subscribe(host.TopicItems)
	defer unsubscribe()

	var mu sync.Mutex
	posted := map[string]time.Time{}
	done := map[string]bool{}
	stopRSS := make(chan struct{})
	var rssWG sync.WaitGroup
	rssWG.Add(1)
	go func() {
		defer rssWG.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopRSS:
				return
			case <-t.C:
				res.maxRSS = max(res.maxRSS, rssBytes())
			}
		}
	}()

	start := time.Now()
	run := time.Now().UnixNano()
	for i, page := range pages {
		// A unique marker keeps the duplicate check from folding copies of a page together.
		body, _ := json.Marshal(map[string]any{
			"title": "", "url": fmt.Sprintf("https://bench.example/%d/%d", run, i),
			"content": page + fmt.Sprintf("\n<!-- copy %d/%d -->", run, i), "source": "bench",
		})
		resp, err := http.Post(base+"/api/items", "application/json", bytes.NewReader(body))
		if err != nil {
			return res, err
		}
		var out struct{ ID string }
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		mu.Lock()
		posted[out.ID] = time.Now()
		mu.Unlock()
	}
	timeout := time.After(30 * time.Minute)
	for len(done) < len(pages) {
		select {
		case ev := <-events:
			mu.Lock()
			t0, ok := posted[ev.ItemID]
			mu.Unlock()
			if !ok || done[ev.ItemID] || (ev.Status != "ready" && ev.Status != "failed") {
				continue
			}
			done[ev.ItemID] = true
			if ev.Status == "failed" {
				res.failed++
				continue
			}
			res.latencies = append(res.latencies, time.Since(t0))
		case <-time.After(10 * time.Second):
			// Events can be dropped under load; the item table is the truth.
			for id := range posted {
				if done[id] {
					continue
				}
				if it, err := app.db.GetItem(ctx, id); err == nil && (it.Status == "ready" || it.Status == "failed") {
					done[id] = true
					if it.Status == "failed" {
						res.failed++
					}
				}
			}
		case <-timeout:
			return res, fmt.Errorf("ingest: %d of %d items finished after 30 minutes", len(done), len(pages))
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	res.elapsed = time.Since(start)
	close(stopRSS)
	rssWG.Wait()
	res.nodes, res.failures = map[string][]time.Duration{}, map[string]int{}
	for id := range posted {
		it, err := app.db.GetItem(ctx, id)
		if err != nil {
			continue
		}
		res.chunks += it.ChunkCount
		if it.Status == "failed" {
			res.failures[it.Error]++
		}
		if run, err := app.db.GetRun(ctx, it.LatestRunID); err == nil {
			for _, n := range run.Nodes {
				if n.Status == "succeeded" {
					res.nodes[n.Node] = append(res.nodes[n.Node], time.Duration(n.DurationMS)*time.Millisecond)
				}
			}
		}
	}
	if info, err := app.host.Plugin("extract-html"); err == nil {
		res.extractP50, res.extractP95 = info.Stats.P50Ms, info.Stats.P95Ms
	}
	return res, nil
}

func putSettings(base string, v map[string]any) {
	raw, _ := json.Marshal(v)
	req, _ := http.NewRequest("PUT", base+"/api/settings", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

func printIngest(w io.Writer, results []ingestResult, source string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "ingest (%s)\tpages\tfailed\titems/s\tchunks/s\tready p50\tready p95\textract p50\textract p95\tmax RSS\t\n", source)
	for _, r := range results {
		sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
		pct := func(p float64) string {
			if len(r.latencies) == 0 {
				return "-"
			}
			return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))].Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "concurrency %d\t%d\t%d\t%.1f\t%.0f\t%s\t%s\t%.1fms\t%.1fms\t%d MiB\t\n", r.concurrency, r.pages, r.failed,
			float64(r.pages)/r.elapsed.Seconds(), float64(r.chunks)/r.elapsed.Seconds(), pct(0.5), pct(0.95),
			r.extractP50, r.extractP95, r.maxRSS>>20)
	}
	tw.Flush()
	for _, r := range results {
		fmt.Fprintf(w, "\nconcurrency %d, per node (finished attempts):", r.concurrency)
		names := make([]string, 0, len(r.nodes))
		for n := range r.nodes {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, " %s p50 %s p95 %s;", n, pctl(r.nodes[n], 0.5), pctl(r.nodes[n], 0.95))
		}
		fmt.Fprintln(w)
		for msg, n := range r.failures {
			fmt.Fprintf(w, "  failed ×%d: %s\n", n, msg)
		}
	}
}

// benchReadyLatency saves pages one at a time on an idle queue and measures each from POST
// to ready: the latency a user sees, which the backlog of benchIngest hides.
func benchReadyLatency(ctx context.Context, app *App, base string, pages []string) ([]time.Duration, error) {
	events, unsubscribe := app.engine.Broker().Subscribe(host.TopicItems)
	defer unsubscribe()
	var out []time.Duration
	run := time.Now().UnixNano()
	for i, page := range pages {
		body, _ := json.Marshal(map[string]any{
			"title": "", "url": fmt.Sprintf("https://bench.example/idle/%d/%d", run, i),
			"content": page + fmt.Sprintf("\n<!-- idle %d/%d -->", run, i), "source": "bench",
		})
		t0 := time.Now()
		resp, err := http.Post(base+"/api/items", "application/json", bytes.NewReader(body))
		if err != nil {
			return out, err
		}
		var created struct{ ID, Message string }
		json.NewDecoder(resp.Body).Decode(&created)
		resp.Body.Close()
		if created.ID == "" {
			return out, fmt.Errorf("POST /api/items: %s: %s", resp.Status, created.Message)
		}
		deadline := time.After(2 * time.Minute)
	wait:
		for {
			select {
			case ev := <-events:
				if ev.ItemID == created.ID && (ev.Status == "ready" || ev.Status == "failed") {
					break wait
				}
			case <-time.After(time.Second):
				if it, err := app.db.GetItem(ctx, created.ID); err == nil && (it.Status == "ready" || it.Status == "failed") {
					break wait
				}
			case <-deadline:
				return out, fmt.Errorf("item %s not ready after 2 minutes", created.ID)
			case <-ctx.Done():
				return out, ctx.Err()
			}
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

// benchPages returns n web pages: the real-world pages go-readability ships with its
// module (when the module cache has it), cycled, else synthetic articles.
func benchPages(n int) ([]string, string) {
	real := readabilityTestPages()
	pages := make([]string, n)
	if len(real) > 0 {
		for i := range pages {
			pages[i] = real[i%len(real)]
		}
		return pages, strconv.Itoa(len(real)) + " real pages from go-readability's test set, cycled"
	}
	for i := range pages {
		pages[i] = syntheticPage(i, 40_000)
	}
	return pages, "synthetic 40 KB pages"
}

// readabilityTestPages returns the real-world pages go-readability ships in its module
// (134 sites, many languages), or nothing when the module cache does not have it.
func readabilityTestPages() []string {
	var pages []string
	out, err := exec.Command(goTool(), "list", "-m", "-f", "{{.Dir}}", "codeberg.org/readeck/go-readability/v2").Output()
	if err != nil {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "test-pages", "*", "source.html"))
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			pages = append(pages, string(data))
		}
	}
	return pages
}

func rssBytes() uint64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(fields[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}
