package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/store"
)

// RunStore keeps durable runs and their checkpoints.
type RunStore interface {
	CreateRun(ctx context.Context, r store.Run) (store.Run, error)
	GetRun(ctx context.Context, id string) (store.Run, error)
	StartNode(ctx context.Context, runID, node string, attempt int) (int, error)
	FailNode(ctx context.Context, runID string, seq int, errMsg string, took time.Duration) error
	CompleteNode(ctx context.Context, runID string, seq int, took time.Duration, state json.RawMessage, next string) error
	RestartRun(ctx context.Context, runID, entry, pluginVersion string, schemaVersion int) error
	FinishRun(ctx context.Context, runID, status, errMsg string) error
}

// Defaults for a node that does not say otherwise: LangGraph's retry policy.
var defaultRetry = abi.RetryPolicy{MaxAttempts: 3, InitialBackoffMS: 500, Multiplier: 2, Jitter: true}

// maxBackoff caps the wait between two attempts of a node.
const maxBackoff = 30 * time.Second

// Engine runs workflow graphs that plugins describe: each node is an export; the JSON
// state passes from node to node; every node start and finish, every emit and the run's
// end are events. Durable workflows checkpoint after each node in SQLite and can resume
// at the node that had not finished; interactive ones keep their runs in memory.
type Engine struct {
	host   *Host
	runs   RunStore
	broker *Broker
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	recent map[string]*store.Run // interactive runs, for GET /api/runs/{id}
	order  []string
	active map[string]*activeRun // runs in progress, by run id
}

// activeRun is what the queue endpoint shows of a run in progress.
type activeRun struct {
	Workflow string
	ItemID   string
	Node     string
	Started  time.Time
}

// ActiveRun describes a run in progress.
type ActiveRun struct {
	RunID    string    `json:"run_id"`
	Workflow string    `json:"workflow"`
	ItemID   string    `json:"item_id,omitempty"`
	Node     string    `json:"node"`
	Started  time.Time `json:"started_at"`
	Elapsed  float64   `json:"elapsed_seconds"`
}

// recentRuns is how many interactive runs stay inspectable.
const recentRuns = 256

// NewEngine returns an engine running workflows of h, recording durable runs in runs.
func NewEngine(h *Host, runs RunStore, broker *Broker, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.Default()
	}
	return &Engine{host: h, runs: runs, broker: broker, log: log, now: time.Now,
		recent: map[string]*store.Run{}, active: map[string]*activeRun{}}
}

// liveRun is a run being executed: durable ones are recorded in the store, interactive
// ones only in the Run held here (and in Engine.recent).
type liveRun struct {
	*store.Run
	durable bool
}

// Broker is where run events are published.
func (e *Engine) Broker() *Broker { return e.broker }

// RunOptions tune Execute.
type RunOptions struct {
	// ItemID ties the run to an item: its events also go to topic "item:<id>".
	ItemID string
	// ResumeRunID continues that durable run from its checkpoint instead of starting anew.
	ResumeRunID string
	// OnStart, when set, learns the run ID before the first node runs (the queue records
	// it, so a restart resumes this run).
	OnStart func(runID string)
	// Events, when set, also receives every event of the run.
	Events func(RunEvent)
	// MaxSteps caps node executions; 0 means 4 per node, at least 50.
	MaxSteps int
}

// Result is a finished run.
type Result struct {
	RunID string
	State json.RawMessage
}

// NodeError is a node that failed for good: the run stops there.
type NodeError struct {
	Node string
	Err  error
}

func (e *NodeError) Error() string { return fmt.Sprintf("node %q: %v", e.Node, e.Err) }
func (e *NodeError) Unwrap() error { return e.Err }

// ErrStepLimit means a graph ran more steps than allowed (it probably loops).
var ErrStepLimit = errors.New("workflow step limit reached")

// WorkflowPlugin returns the ready plugin that implements workflow: one whose describe
// names it (or, failing that, one named after it). A user plugin wins over a built-in.
func (h *Host) WorkflowPlugin(ctx context.Context, workflow string) (string, abi.Description, error) {
	var best *PluginInfo
	for _, p := range h.plugins((*slot).describe) {
		if p.Kind != abi.KindWorkflow || (p.Workflow != workflow && !(p.Workflow == "" && p.Name == workflow)) {
			continue
		}
		if best == nil || (best.Source == SourceBuiltin && p.Source != SourceBuiltin) || (best.State != StateReady && p.State == StateReady) {
			p := p
			best = &p
		}
	}
	if best == nil {
		return "", abi.Description{}, fmt.Errorf("workflow %q: %w", workflow, ErrNotFound)
	}
	desc, err := h.Describe(ctx, best.Name)
	if err != nil {
		return "", abi.Description{}, err
	}
	if desc.Graph == nil {
		return "", abi.Description{}, fmt.Errorf("workflow %q: plugin %q describes no graph: %w", workflow, best.Name, ErrInvalidPlugin)
	}
	return best.Name, desc, nil
}

// Execute runs workflow with input as the initial state until its graph ends, and returns
// the final state. It retries failing nodes by their policy; when a node keeps failing the
// run fails and (if durable) keeps its checkpoint, so a retry resumes at that node.
func (e *Engine) Execute(ctx context.Context, workflow string, input json.RawMessage, opts RunOptions) (Result, error) {
	plugin, desc, err := e.host.WorkflowPlugin(ctx, workflow)
	if err != nil {
		return Result{}, err
	}
	g := desc.Graph
	stored, err := e.begin(ctx, workflow, plugin, desc, input, opts)
	if err != nil {
		return Result{}, err
	}
	run := &liveRun{Run: stored, durable: g.Durable}
	if run.Status == store.RunSucceeded {
		return Result{RunID: run.ID, State: run.State}, nil
	}
	if opts.OnStart != nil {
		opts.OnStart(run.ID)
	}
	e.setActive(run.ID, &activeRun{Workflow: workflow, ItemID: opts.ItemID, Started: e.now()})
	defer e.setActive(run.ID, nil)
	emit := func(ev RunEvent) {
		ev.RunID, ev.Workflow, ev.ItemID, ev.Time = run.ID, workflow, opts.ItemID, e.now().UTC()
		e.broker.Publish("run:"+run.ID, ev)
		if opts.ItemID != "" {
			e.broker.Publish("item:"+opts.ItemID, ev)
		}
		if opts.Events != nil {
			opts.Events(ev)
		}
	}
	emit(RunEvent{Type: EventRunStarted, Node: run.NextNode})

	maxSteps := opts.MaxSteps
	if maxSteps <= 0 {
		maxSteps = max(50, 4*len(g.Nodes))
	}
	state, next, steps := run.State, run.NextNode, run.Steps
	for next != "" && next != abi.End {
		if steps >= maxSteps {
			err := fmt.Errorf("%w: %d steps (does the graph loop?)", ErrStepLimit, steps)
			e.finish(ctx, run, desc, store.RunFailed, err, emit)
			return Result{RunID: run.ID}, err
		}
		node, ok := findNode(g, next)
		if !ok {
			err := fmt.Errorf("%w: node %q is not in the graph", ErrInvalidPlugin, next)
			e.finish(ctx, run, desc, store.RunFailed, err, emit)
			return Result{RunID: run.ID}, err
		}
		e.setNode(run.ID, node.Name)
		out, err := e.runNode(ctx, run, plugin, g, node, state, emit)
		if err != nil {
			status := store.RunFailed
			if ctx.Err() != nil {
				status = store.RunCancelled
			}
			e.finish(context.WithoutCancel(ctx), run, desc, status, err, emit)
			return Result{RunID: run.ID, State: state}, err
		}
		state = out.State
		next = out.Next
		if next == "" {
			next = node.Next
		}
		if next == abi.End {
			next = ""
		}
		steps++
	}
	e.finish(ctx, run, desc, store.RunSucceeded, nil, emit)
	return Result{RunID: run.ID, State: state}, nil
}

// begin creates the run, or loads the one to resume. A checkpoint written by another
// plugin version resumes only when the state schema is unchanged; otherwise the run
// starts over from the entry node with its original input.
func (e *Engine) begin(ctx context.Context, workflow, plugin string, desc abi.Description, input json.RawMessage, opts RunOptions) (*store.Run, error) {
	g := desc.Graph
	if len(input) == 0 {
		input = json.RawMessage("{}")
	}
	if opts.ResumeRunID != "" && g.Durable {
		run, err := e.runs.GetRun(ctx, opts.ResumeRunID)
		if err == nil {
			if run.Status == store.RunSucceeded {
				return &run, nil
			}
			if run.SchemaVersion != g.StateSchemaVersion {
				e.log.Info("checkpoint from another state schema; starting over", "run", run.ID,
					"was", run.SchemaVersion, "now", g.StateSchemaVersion)
				if err := e.runs.RestartRun(ctx, run.ID, g.Entry, desc.Version, g.StateSchemaVersion); err != nil {
					return nil, err
				}
				run.State, run.NextNode, run.Steps = run.Input, g.Entry, 0
			} else if run.NextNode == "" {
				run.NextNode = g.Entry
			}
			run.PluginVersion, run.Status = desc.Version, store.RunRunning
			return &run, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	r := store.Run{
		Workflow: workflow, Plugin: plugin, PluginVersion: desc.Version, SchemaVersion: g.StateSchemaVersion,
		ItemID: opts.ItemID, Input: input, State: input, NextNode: g.Entry,
	}
	if !g.Durable {
		now := e.now().UTC()
		r.ID, r.Status, r.CreatedAt, r.UpdatedAt, r.Nodes = store.NewID(store.PrefixRun, now), store.RunRunning, now, now, []store.RunNode{}
		e.remember(&r)
		return &r, nil
	}
	created, err := e.runs.CreateRun(ctx, r)
	if err != nil {
		return nil, err
	}
	return &created, nil
}

func findNode(g *abi.Graph, name string) (abi.Node, bool) {
	i := slices.IndexFunc(g.Nodes, func(n abi.Node) bool { return n.Name == name })
	if i < 0 {
		return abi.Node{}, false
	}
	return g.Nodes[i], true
}

// runNode runs one node with retries. Durable runs record every attempt and checkpoint
// the state after success.
func (e *Engine) runNode(ctx context.Context, run *liveRun, plugin string, g *abi.Graph, node abi.Node, state json.RawMessage, emit func(RunEvent)) (abi.NodeOutput, error) {
	policy := defaultRetry
	if node.Retry != nil {
		policy = *node.Retry
		if policy.MaxAttempts <= 0 {
			policy.MaxAttempts = 1
		}
		if policy.Multiplier <= 0 {
			policy.Multiplier = 2
		}
	}
	export := node.Export
	if export == "" {
		export = node.Name
	}
	progress := float64(slices.IndexFunc(g.Nodes, func(n abi.Node) bool { return n.Name == node.Name })) / float64(len(g.Nodes))
	var lastErr error
	for attempt := 1; attempt <= policy.MaxAttempts; attempt++ {
		seq, err := e.startNode(ctx, run, node.Name, attempt)
		if err != nil {
			return abi.NodeOutput{}, err
		}
		emit(RunEvent{Type: EventNodeStarted, Node: node.Name, Step: node.Name, Attempt: attempt, Progress: progress})
		input, _ := marshal(abi.NodeInput{RunID: run.ID, Node: node.Name, Attempt: attempt, State: state})
		callCtx := WithRun(ctx, RunInfo{RunID: run.ID, Node: node.Name, Attempt: attempt, ItemID: run.ItemID, Durable: run.durable})
		callCtx = WithEvents(callCtx, func(ev abi.Event) {
			emit(RunEvent{Type: ev.Type, Node: node.Name, Step: firstNonEmpty(ev.Step, node.Name), Progress: ev.Progress, Message: ev.Message, Data: ev.Data})
		})
		var cancel context.CancelFunc = func() {}
		if node.TimeoutMS > 0 {
			callCtx, cancel = context.WithTimeout(callCtx, time.Duration(node.TimeoutMS)*time.Millisecond)
		}
		start := e.now()
		raw, err := e.host.Call(callCtx, plugin, export, input)
		cancel()
		took := e.now().Sub(start)
		var out abi.NodeOutput
		if err == nil {
			if uerr := json.Unmarshal(raw, &out); uerr != nil || len(out.State) == 0 || !json.Valid(out.State) {
				err = fmt.Errorf("%w: node %q returned no valid state", ErrBadOutput, node.Name)
			}
		}
		if err == nil {
			next := out.Next
			if next == "" {
				next = node.Next
			}
			if next == abi.End {
				next = ""
			}
			if err := e.completeNode(ctx, run, seq, took, out.State, next); err != nil {
				return abi.NodeOutput{}, err
			}
			emit(RunEvent{Type: EventNodeFinished, Node: node.Name, Step: node.Name, Attempt: attempt, DurationMS: took.Milliseconds(),
				Progress: float64(slices.IndexFunc(g.Nodes, func(n abi.Node) bool { return n.Name == node.Name })+1) / float64(len(g.Nodes))})
			return out, nil
		}
		lastErr = err
		e.failNode(context.WithoutCancel(ctx), run, seq, err, took)
		willRetry := attempt < policy.MaxAttempts && ctx.Err() == nil && retryable(err)
		emit(RunEvent{Type: EventNodeFailed, Node: node.Name, Step: node.Name, Attempt: attempt, Error: err.Error(),
			Message: map[bool]string{true: "will retry", false: "giving up"}[willRetry]})
		if !willRetry {
			break
		}
		if err := sleepCtx(ctx, backoff(policy, attempt)); err != nil {
			return abi.NodeOutput{}, err
		}
	}
	return abi.NodeOutput{}, &NodeError{Node: node.Name, Err: lastErr}
}

// retryable says whether another attempt of the same node might succeed. A plugin that
// does not exist, a refused capability or an error the plugin marks invalid, not_found or
// denied will not change within seconds; anything else (a provider hiccup, a timeout, a
// bug that depends on timing) gets its attempts.
func retryable(err error) bool {
	var abiErr *abi.Error
	if errors.As(err, &abiErr) {
		switch abiErr.Code {
		case abi.ErrInvalid, abi.ErrNotFound, abi.ErrDenied:
			// The plugin says so: the input or the setup is wrong, not the moment.
			return false
		}
	}
	return !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrDenied) && !errors.Is(err, ErrNoExport) &&
		!errors.Is(err, ErrInvalidPlugin) && !errors.Is(err, context.Canceled)
}

func backoff(p abi.RetryPolicy, attempt int) time.Duration {
	d := time.Duration(p.InitialBackoffMS) * time.Millisecond
	for range attempt - 1 {
		d = time.Duration(float64(d) * p.Multiplier)
	}
	d = min(d, maxBackoff)
	if p.Jitter && d > 0 {
		d = d/2 + rand.N(d)
	}
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (e *Engine) startNode(ctx context.Context, run *liveRun, node string, attempt int) (int, error) {
	if run.durable {
		return e.runs.StartNode(ctx, run.ID, node, attempt)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	seq := len(run.Nodes) + 1
	run.Nodes = append(run.Nodes, store.RunNode{Seq: seq, Node: node, Attempt: attempt, Status: "running", StartedAt: e.now().UTC()})
	return seq, nil
}

func (e *Engine) completeNode(ctx context.Context, run *liveRun, seq int, took time.Duration, state json.RawMessage, next string) error {
	if run.durable {
		return e.runs.CompleteNode(ctx, run.ID, seq, took, state, next)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finishMemNode(run, seq, "succeeded", "", took)
	run.State, run.NextNode, run.Steps = state, next, run.Steps+1
	return nil
}

func (e *Engine) failNode(ctx context.Context, run *liveRun, seq int, err error, took time.Duration) {
	if run.durable {
		if ferr := e.runs.FailNode(ctx, run.ID, seq, err.Error(), took); ferr != nil {
			e.log.Error("record node failure", "run", run.ID, "err", ferr)
		}
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finishMemNode(run, seq, "failed", err.Error(), took)
}

func (e *Engine) finishMemNode(run *liveRun, seq int, status, errMsg string, took time.Duration) {
	if seq < 1 || seq > len(run.Nodes) {
		return
	}
	n := &run.Nodes[seq-1]
	now := e.now().UTC()
	n.Status, n.Error, n.FinishedAt, n.DurationMS = status, errMsg, &now, took.Milliseconds()
}

func (e *Engine) finish(ctx context.Context, run *liveRun, desc abi.Description, status string, runErr error, emit func(RunEvent)) {
	msg := ""
	if runErr != nil {
		msg = runErr.Error()
	}
	if run.durable {
		if err := e.runs.FinishRun(ctx, run.ID, status, msg); err != nil {
			e.log.Error("record run end", "run", run.ID, "err", err)
		}
	} else {
		e.mu.Lock()
		now := e.now().UTC()
		run.Status, run.Error, run.FinishedAt, run.UpdatedAt = status, msg, &now, now
		e.mu.Unlock()
	}
	emit(RunEvent{Type: EventRunFinished, Status: status, Error: msg, Progress: 1})
}

func (e *Engine) remember(r *store.Run) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recent[r.ID] = r
	e.order = append(e.order, r.ID)
	if len(e.order) > recentRuns {
		delete(e.recent, e.order[0])
		e.order = e.order[1:]
	}
}

func (e *Engine) setActive(runID string, a *activeRun) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a == nil {
		delete(e.active, runID)
		return
	}
	e.active[runID] = a
}

func (e *Engine) setNode(runID, node string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a := e.active[runID]; a != nil {
		a.Node = node
	}
}

// Active lists the runs in progress.
func (e *Engine) Active() []ActiveRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	out := make([]ActiveRun, 0, len(e.active))
	for id, a := range e.active {
		out = append(out, ActiveRun{RunID: id, Workflow: a.Workflow, ItemID: a.ItemID, Node: a.Node,
			Started: a.Started.UTC(), Elapsed: now.Sub(a.Started).Seconds()})
	}
	slices.SortFunc(out, func(a, b ActiveRun) int { return a.Started.Compare(b.Started) })
	return out
}

// Run returns a run by ID: an interactive one from memory, a durable one from the store.
func (e *Engine) Run(ctx context.Context, id string) (store.Run, error) {
	e.mu.Lock()
	if r, ok := e.recent[id]; ok {
		cp := *r
		cp.Nodes = slices.Clone(r.Nodes)
		e.mu.Unlock()
		return cp, nil
	}
	e.mu.Unlock()
	return e.runs.GetRun(ctx, id)
}
