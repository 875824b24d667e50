package host

import (
	"slices"
	"sync"
	"time"
)

// latencyWindow is how many recent calls the percentiles are computed over.
const latencyWindow = 1024

// stats counts one plugin's calls across its versions.
type stats struct {
	mu     sync.Mutex
	calls  int64
	errors int64
	recent [latencyWindow]time.Duration
	n      int // filled entries of recent
	next   int
}

func (s *stats) record(d time.Duration, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if failed {
		s.errors++
	}
	s.recent[s.next] = d
	s.next = (s.next + 1) % latencyWindow
	if s.n < latencyWindow {
		s.n++
	}
}

// Stats is a snapshot of a plugin's call statistics.
type Stats struct {
	Calls         int64   `json:"calls"`
	Errors        int64   `json:"errors"`
	P50Ms         float64 `json:"p50_ms"`
	P95Ms         float64 `json:"p95_ms"`
	P99Ms         float64 `json:"p99_ms"`
	LiveInstances int64   `json:"live_instances"`
}

func (s *stats) snapshot() Stats {
	s.mu.Lock()
	lat := slices.Clone(s.recent[:s.n])
	out := Stats{Calls: s.calls, Errors: s.errors}
	s.mu.Unlock()
	if len(lat) == 0 {
		return out
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	out.P50Ms, out.P95Ms, out.P99Ms = pct(0.50), pct(0.95), pct(0.99)
	return out
}
