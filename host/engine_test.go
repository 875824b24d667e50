package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/store"
	"github.com/cortexhq/cortex/store/storetest"
)

const flowManifest = `
[[plugin]]
name = "flow"
kind = "workflow"
wasm = "flow.wasm"
capabilities = ["kv"]
`

type flowState struct {
	Started       int      `json:"started"`
	FlakyAttempts int      `json:"flaky_attempts"`
	Visited       []string `json:"visited"`
}

func newEngine(t *testing.T) (*host.Engine, *host.Host, *store.DB, string) {
	t.Helper()
	db := storetest.MustOpen(t)
	h, dir := newHostWithStore(t, db, flowManifest, map[string]string{"flow.wasm": wasm.flow})
	return host.NewEngine(h, db, host.NewBroker(), nil), h, db, dir
}

func nodeAttempts(run store.Run) map[string][]string {
	out := map[string][]string{}
	for _, n := range run.Nodes {
		out[n.Node] = append(out[n.Node], n.Status)
	}
	return out
}

func TestEngineRetriesAFlakyNode(t *testing.T) {
	e, _, db, _ := newEngine(t)
	var mu sync.Mutex
	var events []string
	res, err := e.Execute(context.Background(), "flow", json.RawMessage(`{"fail_times":2}`), host.RunOptions{
		Events: func(ev host.RunEvent) {
			mu.Lock()
			events = append(events, ev.Type+":"+ev.Node)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var st flowState
	json.Unmarshal(res.State, &st)
	if st.FlakyAttempts != 3 || len(st.Visited) != 1 || st.Visited[0] != "a" {
		t.Fatalf("state %+v", st)
	}
	run, err := db.GetRun(context.Background(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	got := nodeAttempts(run)
	if strings.Join(got["flaky"], ",") != "failed,failed,succeeded" || run.Status != store.RunSucceeded || run.PluginVersion != "schema-1" {
		t.Errorf("run %s: %v", run.Status, got)
	}
	joined := strings.Join(events, " ")
	for _, want := range []string{"run_started:", "node_started:start", "progress:start", "node_failed:flaky", "node_finished:a", "run_finished:"} {
		if !strings.Contains(joined, want) {
			t.Errorf("events lack %q: %s", want, joined)
		}
	}
}

func TestEngineRoutesOnState(t *testing.T) {
	e, _, _, _ := newEngine(t)
	res, err := e.Execute(context.Background(), "flow", json.RawMessage(`{"path":"b"}`), host.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var st flowState
	json.Unmarshal(res.State, &st)
	if len(st.Visited) != 1 || st.Visited[0] != "b" {
		t.Fatalf("visited %v; want [b]", st.Visited)
	}
}

func TestEngineStopsALoop(t *testing.T) {
	e, _, _, _ := newEngine(t)
	_, err := e.Execute(context.Background(), "flow", json.RawMessage(`{"loop":true}`), host.RunOptions{MaxSteps: 20})
	if !errors.Is(err, host.ErrStepLimit) {
		t.Fatalf("err = %v; want ErrStepLimit", err)
	}
}

// A run that failed resumes at the failed node: finished nodes do not run again.
func TestEngineResumesAtTheFailedNode(t *testing.T) {
	e, _, db, _ := newEngine(t)
	ctx := context.Background()
	res, err := e.Execute(ctx, "flow", json.RawMessage(`{"path":"b","gate":true,"fail_times":1}`), host.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "gate is shut") {
		t.Fatalf("first run: %v", err)
	}
	run, _ := db.GetRun(ctx, res.RunID)
	if run.Status != store.RunFailed || run.NextNode != "b" {
		t.Fatalf("checkpoint: status %s next %q", run.Status, run.NextNode)
	}
	if err := db.KVSet(ctx, "flow", "gate", []byte("open")); err != nil {
		t.Fatal(err)
	}
	res2, err := e.Execute(ctx, "flow", nil, host.RunOptions{ResumeRunID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	var st flowState
	json.Unmarshal(res2.State, &st)
	if st.Started != 1 || res2.RunID != res.RunID {
		t.Errorf("resumed run redid finished nodes: %+v (run %s vs %s)", st, res2.RunID, res.RunID)
	}
	run, _ = db.GetRun(ctx, res.RunID)
	got := nodeAttempts(run)
	if len(got["start"]) != 1 || len(got["flaky"]) != 2 || strings.Join(got["b"], ",") != "failed,succeeded" || run.Status != store.RunSucceeded {
		t.Errorf("nodes after resume: %v status %s", got, run.Status)
	}
}

// A checkpoint written by a version with another state schema is not resumed: the run
// starts over from its input.
func TestEngineRestartsOnSchemaChange(t *testing.T) {
	e, h, db, dir := newEngine(t)
	ctx := context.Background()
	res, err := e.Execute(ctx, "flow", json.RawMessage(`{"path":"b","gate":true}`), host.RunOptions{})
	if err == nil {
		t.Fatal("gate should be shut")
	}
	copyFile(t, wasm.flowV2, filepath.Join(dir, "flow.wasm"))
	if _, err := h.Reload(ctx, "flow"); err != nil {
		t.Fatal(err)
	}
	db.KVSet(ctx, "flow", "gate", []byte("open"))
	res2, err := e.Execute(ctx, "flow", nil, host.RunOptions{ResumeRunID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	var st flowState
	json.Unmarshal(res2.State, &st)
	run, _ := db.GetRun(ctx, res.RunID)
	if st.Started != 1 || len(nodeAttempts(run)["start"]) != 2 || run.PluginVersion != "schema-2" || run.SchemaVersion != 2 {
		t.Errorf("want a fresh start on the new schema: state %+v, nodes %v, version %s/%d", st, nodeAttempts(run), run.PluginVersion, run.SchemaVersion)
	}
}

// Cancelling a run (shutdown) while a node waits to retry ends it as cancelled, with its
// checkpoint at that node.
func TestEngineRunIsCancelled(t *testing.T) {
	e, _, db, _ := newEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := e.Execute(ctx, "flow", json.RawMessage(`{"fail_times":2}`), host.RunOptions{
		Events: func(ev host.RunEvent) {
			if ev.Type == host.EventNodeFailed {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	run, err := db.GetRun(context.Background(), res.RunID)
	if err != nil || run.Status != store.RunCancelled || run.NextNode != "flaky" {
		t.Errorf("run after cancel: status %s next %q err %v", run.Status, run.NextNode, err)
	}
}
