package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/internal/config"
)

// evalDoc, evalQuery and the qrels are a labelled retrieval collection.
type evalDoc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

type evalQuery struct {
	ID   string `json:"_id"`
	Text string `json:"text"`
}

// qrels maps query ID to document ID to graded relevance (> 0 is relevant).
type qrels map[string]map[string]int

// evalCommand ingests a collection into a throw-away data directory through the real
// pipeline (API, queue, processing workflow, extractors, embedder), runs every query
// through the real search workflow in each mode, and prints nDCG@10, MRR@10 and
// recall@100.
func evalCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	docsPath := fs.String("docs", "", "documents: BEIR corpus.jsonl ({_id, title, text} per line) or TSV (id, title, text)")
	queriesPath := fs.String("queries", "", "queries: BEIR queries.jsonl ({_id, text}) or TSV (id, text)")
	qrelsPath := fs.String("qrels", "", "judgements: TREC qrels (qid 0 docid rel) or BEIR TSV (query-id, corpus-id, score)")
	modes := fs.String("modes", "keyword,vector,hybrid", "search modes to evaluate")
	sweep := fs.Bool("sweep", false, "also evaluate hybrid fusion settings over a grid (rrf_k x weights)")
	maxQueries := fs.Int("max-queries", 0, "evaluate at most this many judged queries (0 = all)")
	provider := fs.String("provider", "", "AI provider for embeddings (default: the offline local one)")
	if err := fs.Parse(args); err != nil || *docsPath == "" || *queriesPath == "" || *qrelsPath == "" {
		fmt.Fprintln(stderr, "usage: cortex eval --docs corpus.jsonl --queries queries.jsonl --qrels qrels.tsv [--modes keyword,vector,hybrid] [--sweep]")
		return errUsage
	}
	docs, err := readDocs(*docsPath)
	if err != nil {
		return err
	}
	queries, err := readQueries(*queriesPath)
	if err != nil {
		return err
	}
	judged, err := readQrels(*qrelsPath)
	if err != nil {
		return err
	}
	var evalQueries []evalQuery
	for _, q := range queries {
		if len(judged[q.ID]) > 0 {
			evalQueries = append(evalQueries, q)
		}
	}
	if *maxQueries > 0 && len(evalQueries) > *maxQueries {
		evalQueries = evalQueries[:*maxQueries]
	}
	if len(evalQueries) == 0 {
		return errors.New("no query has a relevance judgement")
	}

	app, base, stop, err := startThrowawayServer(ctx, func(cfg *config.Config) {
		if *provider != "" {
			cfg.Provider = *provider
		}
	}, nil)
	if err != nil {
		return err
	}
	defer stop()
	if err := app.host.WaitReady(ctx); err != nil {
		return err
	}

	start := time.Now()
	itemDocs, err := ingestCollection(ctx, app, base, docs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "ingested %d documents in %s\n", len(docs), time.Since(start).Round(time.Millisecond))

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "mode\tqueries\tnDCG@10\tMRR@10\trecall@100\tp50 ms\t\n")
	for _, mode := range strings.Split(*modes, ",") {
		m, err := evaluate(ctx, app, evalQueries, judged, itemDocs, mode, nil)
		if err != nil {
			return err
		}
		m.print(tw, mode)
	}
	if *sweep {
		for _, k := range []float64{10, 30, 60, 100} {
			for _, w := range [][2]float64{{1, 1}, {1, 0.7}, {0.7, 1}, {1, 0.5}, {0.5, 1}} {
				tuning := map[string]float64{"rrf_k": k, "keyword_weight": w[0], "vector_weight": w[1]}
				m, err := evaluate(ctx, app, evalQueries, judged, itemDocs, "hybrid", tuning)
				if err != nil {
					return err
				}
				m.print(tw, fmt.Sprintf("hybrid k=%g kw=%g vec=%g", k, w[0], w[1]))
			}
		}
	}
	return tw.Flush()
}

// ingestCollection saves every document through the HTTP API and waits for processing;
// it returns item ID -> document IDs (identical documents share an item).
func ingestCollection(ctx context.Context, app *App, base string, docs []evalDoc) (map[string][]string, error) {
	itemDocs := map[string][]string{}
	skipped := 0
	for _, d := range docs {
		if strings.TrimSpace(d.Title+d.Text) == "" {
			skipped++ // nothing to save; judged as relevant, it simply counts as missed
			continue
		}
		body, _ := json.Marshal(map[string]any{"title": d.Title, "content": d.Text, "content_type": "text/plain",
			"source": "eval", "metadata": map[string]string{"doc_id": d.ID}})
		resp, err := http.Post(base+"/api/items", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		var out struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("save document %s: status %d", d.ID, resp.StatusCode)
		}
		itemDocs[out.ID] = append(itemDocs[out.ID], d.ID)
	}
	if skipped > 0 {
		fmt.Fprintf(os.Stderr, "skipped %d empty documents\n", skipped)
	}
	for {
		st, err := app.db.Queue(ctx)
		if err != nil {
			return nil, err
		}
		if st.Items["pending"]+st.Items["processing"] == 0 {
			if n := st.Items["failed"]; n > 0 {
				return nil, fmt.Errorf("%d documents failed to process: %v", n, st.RecentErrors)
			}
			return itemDocs, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type metrics struct {
	queries           int
	ndcg, mrr, recall float64
	latencies         []time.Duration
}

func (m metrics) print(w io.Writer, name string) {
	sort.Slice(m.latencies, func(i, j int) bool { return m.latencies[i] < m.latencies[j] })
	p50 := 0.0
	if len(m.latencies) > 0 {
		p50 = float64(m.latencies[len(m.latencies)/2].Microseconds()) / 1000
	}
	fmt.Fprintf(w, "%s\t%d\t%.4f\t%.4f\t%.4f\t%.1f\t\n", name, m.queries, m.ndcg, m.mrr, m.recall, p50)
}

// evaluate runs each query through the search workflow (100 results) and averages the
// metrics. tuning, when set, overrides the fusion settings.
func evaluate(ctx context.Context, app *App, queries []evalQuery, judged qrels, itemDocs map[string][]string, mode string, tuning map[string]float64) (metrics, error) {
	var m metrics
	for _, q := range queries {
		state := map[string]any{"query": q.Text, "limit": 100, "offset": 0, "mode": mode, "no_snippets": true}
		if tuning != nil {
			state["tuning"] = tuning
		}
		raw, _ := json.Marshal(state)
		t0 := time.Now()
		res, err := app.engine.Execute(ctx, "search", raw, host.RunOptions{})
		if err != nil {
			return m, fmt.Errorf("query %s: %w", q.ID, err)
		}
		m.latencies = append(m.latencies, time.Since(t0))
		var out struct {
			Results []struct {
				ItemID string `json:"item_id"`
			} `json:"results"`
		}
		if err := json.Unmarshal(res.State, &out); err != nil {
			return m, err
		}
		var ranked []string
		seen := map[string]bool{}
		for _, r := range out.Results {
			for _, d := range itemDocs[r.ItemID] {
				if !seen[d] {
					seen[d] = true
					ranked = append(ranked, d)
				}
			}
		}
		rel := judged[q.ID]
		m.ndcg += ndcgAt(ranked, rel, 10)
		m.mrr += mrrAt(ranked, rel, 10)
		m.recall += recallAt(ranked, rel, 100)
		m.queries++
	}
	if m.queries > 0 {
		n := float64(m.queries)
		m.ndcg, m.mrr, m.recall = m.ndcg/n, m.mrr/n, m.recall/n
	}
	return m, nil
}

// ndcgAt is nDCG@k with graded gains (2^rel - 1), as trec_eval computes it.
func ndcgAt(ranked []string, rel map[string]int, k int) float64 {
	var dcg float64
	for i, d := range ranked[:min(k, len(ranked))] {
		if g := rel[d]; g > 0 {
			dcg += (math.Pow(2, float64(g)) - 1) / math.Log2(float64(i+2))
		}
	}
	var gains []int
	for _, g := range rel {
		if g > 0 {
			gains = append(gains, g)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(gains)))
	var ideal float64
	for i, g := range gains[:min(k, len(gains))] {
		ideal += (math.Pow(2, float64(g)) - 1) / math.Log2(float64(i+2))
	}
	if ideal == 0 {
		return 0
	}
	return dcg / ideal
}

func mrrAt(ranked []string, rel map[string]int, k int) float64 {
	for i, d := range ranked[:min(k, len(ranked))] {
		if rel[d] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

func recallAt(ranked []string, rel map[string]int, k int) float64 {
	total := 0
	for _, g := range rel {
		if g > 0 {
			total++
		}
	}
	if total == 0 {
		return 0
	}
	found := 0
	for _, d := range ranked[:min(k, len(ranked))] {
		if rel[d] > 0 {
			found++
		}
	}
	return float64(found) / float64(total)
}

func readLines(path string, fn func(line string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

func readDocs(path string) ([]evalDoc, error) {
	var docs []evalDoc
	err := readLines(path, func(line string) error {
		if strings.HasPrefix(line, "{") {
			var d evalDoc
			if err := json.Unmarshal([]byte(line), &d); err != nil {
				return err
			}
			docs = append(docs, d)
			return nil
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) < 2 {
			return errors.New("want id<TAB>title<TAB>text or a JSON object")
		}
		if len(parts) == 2 {
			docs = append(docs, evalDoc{ID: parts[0], Text: parts[1]})
		} else {
			docs = append(docs, evalDoc{ID: parts[0], Title: parts[1], Text: parts[2]})
		}
		return nil
	})
	return docs, err
}

func readQueries(path string) ([]evalQuery, error) {
	var qs []evalQuery
	err := readLines(path, func(line string) error {
		if strings.HasPrefix(line, "{") {
			var q evalQuery
			if err := json.Unmarshal([]byte(line), &q); err != nil {
				return err
			}
			qs = append(qs, q)
			return nil
		}
		id, text, ok := strings.Cut(line, "\t")
		if !ok {
			return errors.New("want id<TAB>text or a JSON object")
		}
		qs = append(qs, evalQuery{ID: id, Text: text})
		return nil
	})
	return qs, err
}

// readQrels reads TREC qrels ("qid iter docid rel", space separated) or BEIR's TSV
// ("query-id corpus-id score" with a header line).
func readQrels(path string) (qrels, error) {
	out := qrels{}
	err := readLines(path, func(line string) error {
		f := strings.Fields(line)
		var qid, did, rel string
		switch len(f) {
		case 4:
			qid, did, rel = f[0], f[2], f[3]
		case 3:
			qid, did, rel = f[0], f[1], f[2]
		default:
			return errors.New("want 'qid iter docid rel' or 'qid docid rel'")
		}
		r, err := strconv.Atoi(rel)
		if err != nil {
			if qid == "query-id" || strings.EqualFold(qid, "qid") {
				return nil // header
			}
			return fmt.Errorf("relevance %q is not an integer", rel)
		}
		if out[qid] == nil {
			out[qid] = map[string]int{}
		}
		out[qid][did] = r
		return nil
	})
	return out, err
}
