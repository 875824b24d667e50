package main

import (
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	rel := map[string]int{"a": 2, "b": 1}
	tests := []struct {
		ranked            []string
		ndcg, mrr, recall float64
	}{
		{[]string{"a", "b"}, 1, 1, 1},
		{[]string{"x", "a"}, (3 / math.Log2(3)) / (3 + 1/math.Log2(3)), 0.5, 0.5},
		{[]string{"x", "y"}, 0, 0, 0},
		{nil, 0, 0, 0},
	}
	for _, tc := range tests {
		if got := ndcgAt(tc.ranked, rel, 10); math.Abs(got-tc.ndcg) > 1e-9 {
			t.Errorf("ndcg(%v) = %v; want %v", tc.ranked, got, tc.ndcg)
		}
		if got := mrrAt(tc.ranked, rel, 10); got != tc.mrr {
			t.Errorf("mrr(%v) = %v; want %v", tc.ranked, got, tc.mrr)
		}
		if got := recallAt(tc.ranked, rel, 100); got != tc.recall {
			t.Errorf("recall(%v) = %v; want %v", tc.ranked, got, tc.recall)
		}
	}
}

// TestEvalOnALabelledSet runs `cortex eval` end to end on a small collection written for
// it: every mode must produce sane figures, and hybrid must be good on it.
func TestEvalOnALabelledSet(t *testing.T) {
	out, err := exec.Command(cortexBin, "eval", "--docs", "testdata/eval/corpus.jsonl",
		"--queries", "testdata/eval/queries.jsonl", "--qrels", "testdata/eval/qrels.tsv").CombinedOutput()
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	t.Logf("\n%s", out)
	scores := map[string][]float64{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 {
			continue
		}
		var vals []float64
		for _, s := range f[2:5] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				break
			}
			vals = append(vals, v)
		}
		if len(vals) == 3 {
			scores[f[0]] = vals
		}
	}
	for _, mode := range []string{"keyword", "vector", "hybrid"} {
		s, ok := scores[mode]
		if !ok {
			t.Fatalf("no figures for %s in:\n%s", mode, out)
		}
		for _, v := range s {
			if v < 0 || v > 1 {
				t.Errorf("%s: metric %v out of [0,1]", mode, v)
			}
		}
	}
	if h := scores["hybrid"]; h[0] < 0.7 || h[2] < 0.9 {
		t.Errorf("hybrid nDCG@10 %.3f recall@100 %.3f on an easy set; want >= 0.7 and >= 0.9", h[0], h[2])
	}
}
