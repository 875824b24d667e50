package host_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/store"
	"github.com/cortexhq/cortex/store/storetest"
)

// A durable node that runs again after a crash makes the same calls under the same
// idempotency key (run, node, attempt): its side-effecting host calls get the recorded
// answers instead of happening twice. Another attempt, another request or an
// interactive run does the real thing.
func TestJournalReplaysSideEffectsOfTheSameAttempt(t *testing.T) {
	db := storetest.MustOpen(t)
	h, _ := newHostWithStore(t, db, faultyManifest, map[string]string{"faulty.wasm": wasm.faulty})
	ctx := context.Background()
	run, err := db.CreateRun(ctx, store.Run{Workflow: "test", Plugin: "faulty"})
	if err != nil {
		t.Fatal(err)
	}
	// kv sets Key to Value, then reads it back: the read shows whether the set happened.
	kv := func(ri host.RunInfo, value string) string {
		t.Helper()
		out, err := h.Call(host.WithRun(ctx, ri), "faulty", "kv", []byte(`{"Key":"k","Value":"`+value+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	setBehindItsBack := func() {
		t.Helper()
		if err := db.KVSet(ctx, "faulty", "k", []byte("moved on")); err != nil {
			t.Fatal(err)
		}
	}
	attempt1 := host.RunInfo{RunID: run.ID, Node: "n", Attempt: 1, Durable: true}

	if out := kv(attempt1, "v1"); !strings.Contains(out, `"value":"v1"`) {
		t.Fatalf("first run of the attempt: %s", out)
	}
	setBehindItsBack()
	if out := kv(attempt1, "v1"); !strings.Contains(out, `"value":"moved on"`) {
		t.Errorf("the same attempt again set the key a second time: %s", out)
	}
	if out := kv(attempt1, "v2"); !strings.Contains(out, `"value":"v2"`) {
		t.Errorf("a different request under the same key was replayed: %s", out)
	}
	setBehindItsBack()
	attempt2 := attempt1
	attempt2.Attempt = 2
	if out := kv(attempt2, "v2"); !strings.Contains(out, `"value":"v2"`) {
		t.Errorf("a new attempt was replayed: %s", out)
	}
	setBehindItsBack()
	interactive := attempt1
	interactive.Durable = false
	if out := kv(interactive, "v2"); !strings.Contains(out, `"value":"v2"`) {
		t.Errorf("an interactive run was replayed: %s", out)
	}

	// Completing the node ends its journal.
	key := store.EffectKey{RunID: run.ID, Node: "n", Attempt: 1, Seq: 1}
	if _, found, err := db.Effect(ctx, key); err != nil || !found {
		t.Fatalf("journal entry before the node completes: found %t, %v", found, err)
	}
	seq, err := db.StartNode(ctx, run.ID, "n", 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CompleteNode(ctx, run.ID, seq, 0, []byte(`{}`), ""); err != nil {
		t.Fatal(err)
	}
	if _, found, err := db.Effect(ctx, key); err != nil || found {
		t.Errorf("journal entry after the node completed: found %t, %v", found, err)
	}

	// So does the end of the run: a retry of a failed run starts with a clean slate.
	kv(attempt1, "v3")
	if _, found, _ := db.Effect(ctx, key); !found {
		t.Fatal("no journal entry for the new call")
	}
	if err := db.FinishRun(ctx, run.ID, store.RunFailed, "boom"); err != nil {
		t.Fatal(err)
	}
	if _, found, err := db.Effect(ctx, key); err != nil || found {
		t.Errorf("journal entry after the run ended: found %t, %v", found, err)
	}
}
