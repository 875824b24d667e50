package host

import (
	"context"

	"github.com/cortexhq/cortex/sdk/abi"
)

// EventSink receives the events a plugin emits (and streamed LLM tokens) during a call.
type EventSink func(abi.Event)

// RunInfo identifies the workflow step a call belongs to; side-effecting host functions
// derive their idempotency key from it.
type RunInfo struct {
	RunID   string
	Node    string
	Attempt int
	ItemID  string
	// Durable runs journal their side-effecting host calls under (RunID, Node, Attempt).
	Durable bool
}

type ctxKey int

const (
	callInfoKey ctxKey = iota
	eventsKey
	runInfoKey
)

// callInfo is what a host function knows about the call it serves.
type callInfo struct {
	v      *version
	depth  int // 1 for a direct call, +1 per invoke
	events EventSink
	run    RunInfo
	// effects counts the journalled calls made so far; replayOver is set once one is not
	// in the journal as made.
	effects    int
	replayOver bool
}

// WithEvents returns a context whose plugin calls send their events to sink.
func WithEvents(ctx context.Context, sink EventSink) context.Context {
	return context.WithValue(ctx, eventsKey, sink)
}

// WithRun returns a context whose plugin calls belong to run.
func WithRun(ctx context.Context, run RunInfo) context.Context {
	return context.WithValue(ctx, runInfoKey, run)
}

func withCallInfo(ctx context.Context, v *version) context.Context {
	ci := &callInfo{v: v, depth: 1}
	if parent, ok := ctx.Value(callInfoKey).(*callInfo); ok {
		ci.depth = parent.depth + 1
		ci.events, ci.run = parent.events, parent.run
	}
	if sink, ok := ctx.Value(eventsKey).(EventSink); ok {
		ci.events = sink
	}
	if run, ok := ctx.Value(runInfoKey).(RunInfo); ok {
		ci.run = run
	}
	return context.WithValue(ctx, callInfoKey, ci)
}

func callInfoFrom(ctx context.Context) *callInfo {
	ci, _ := ctx.Value(callInfoKey).(*callInfo)
	return ci
}

func (ci *callInfo) emit(ev abi.Event) {
	if ci != nil && ci.events != nil {
		ci.events(ev)
	}
}
