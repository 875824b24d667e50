// Package harness runs a Cortex plugin in a real host from `go test`: a real Wasm runtime
// with the real host functions, limits and capability checks, over a real (throw-away)
// SQLite store, with the offline local models or scripted ones. It builds the plugin from
// its Go sources (cached by content hash), seeds items, calls exports, and exposes what
// the plugin did: the chunks it stored, the events it emitted and every host call it made.
//
//	func TestExtract(t *testing.T) {
//		p := harness.Load(t, harness.Build(t, "."), harness.Options{})
//		out, err := p.Extract(abi.ExtractInput{Content: "# Hello\n\nWorld", ContentType: "text/markdown"})
//		…
//	}
//
// It needs cgo (SQLite), but not the sqlite_fts5 build tag: without it the store simply
// has no keyword index, which only search plugins miss.
package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/internal/wasmbuild"
	"github.com/cortexhq/cortex/providers"
	"github.com/cortexhq/cortex/providers/local"
	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/store"
)

// Build compiles the plugin whose main package is in dir to a .wasm and returns its path.
// Builds are cached by a hash of the sources (and of the Cortex SDK they use), so repeated
// test runs cost nothing.
func Build(tb testing.TB, dir string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var extra []string
	if sdk := sdkDir(); sdk != "" {
		extra = append(extra, sdk)
	}
	path, err := wasmbuild.Build(ctx, dir, wasmbuild.Options{ExtraSources: extra})
	if err != nil {
		tb.Fatalf("build plugin: %v", err)
	}
	return path
}

// sdkDir is the folder of the Cortex SDK this harness was built from, so edits to it
// invalidate cached plugin builds.
func sdkDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	dir := filepath.Dir(filepath.Dir(file)) // sdk/harness -> sdk
	if _, err := os.Stat(filepath.Join(dir, "abi")); err != nil {
		return ""
	}
	return dir
}

// Options describe the plugin's manifest entry and the models it talks to.
type Options struct {
	// Name and Kind default to what the plugin's describe says.
	Name         string
	Kind         string
	Capabilities []string
	AllowedHosts []string
	Config       map[string]string
	Limits       host.Limits
	Match        *abi.Match
	// Embedder and Chat default to the offline local provider. ScriptedChat gives an LLM
	// that answers with fixed text.
	Embedder providers.Embedder
	Chat     providers.ChatModel
	// Settings are runtime settings the plugin may read with sdk.Config (chunk_size, …).
	Settings map[string]string
}

// Plugin is a plugin loaded in a harness host.
type Plugin struct {
	tb   testing.TB
	Host *host.Host
	DB   *store.DB
	Name string

	mu     sync.Mutex
	calls  []host.HostCall
	events []abi.Event
}

// Load starts a host with the plugin at wasmPath and waits until it is ready; a plugin
// that fails to load fails the test with the host's reason. Everything is closed when the
// test ends.
func Load(tb testing.TB, wasmPath string, opts Options) *Plugin {
	tb.Helper()
	p, err := load(tb, wasmPath, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// LoadErr is Load for tests that expect the plugin to be refused: it returns the error.
func LoadErr(tb testing.TB, wasmPath string, opts Options) (*Plugin, error) {
	tb.Helper()
	return load(tb, wasmPath, opts)
}

func load(tb testing.TB, wasmPath string, opts Options) (*Plugin, error) {
	ctx := context.Background()
	dir := tb.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "cortex.db"), store.Options{AllowMissingFTS5: true})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	tb.Cleanup(func() { db.Close() })

	name, kind := opts.Name, opts.Kind
	if name == "" || kind == "" {
		d, err := describe(ctx, wasmPath)
		if err != nil {
			return nil, err
		}
		if name == "" {
			name = d.Name
		}
		if kind == "" {
			kind = d.Kind
		}
	}
	pluginsDir := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(pluginsDir, 0o755); err != nil {
		return nil, err
	}
	if err := writeManifest(filepath.Join(pluginsDir, "plugins.toml"), name, kind, wasmPath, opts); err != nil {
		return nil, err
	}

	emb, chat := opts.Embedder, opts.Chat
	if emb == nil {
		emb = local.New()
	}
	if chat == nil {
		chat = local.New()
	}
	settings := map[string]string{"chunk_size": "500", "chunk_overlap": "50", "fetch_urls": "true"}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	p := &Plugin{tb: tb, DB: db, Name: name}
	h, err := host.New(ctx, host.Options{
		PluginsDir: pluginsDir,
		CacheDir:   filepath.Join(os.TempDir(), "cortex-harness-cache"),
		Services: host.Services{
			Store:    db,
			Models:   host.NewModelsWith(emb, chat),
			Settings: func() map[string]string { return settings },
			OnHostCall: func(c host.HostCall) {
				p.mu.Lock()
				p.calls = append(p.calls, c)
				p.mu.Unlock()
			},
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { h.Close(context.Background()) })
	p.Host = h
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := h.WaitReady(wctx); err != nil {
		return nil, err
	}
	info, err := h.Plugin(name)
	if err != nil {
		return nil, err
	}
	if info.State != host.StateReady {
		return nil, fmt.Errorf("plugin %q did not load: %s", name, info.LastError)
	}
	return p, nil
}

func describe(ctx context.Context, wasmPath string) (abi.Description, error) {
	data, err := os.ReadFile(wasmPath)
	if err != nil {
		return abi.Description{}, err
	}
	return host.DescribeWasm(ctx, data)
}

func writeManifest(path, name, kind, wasmPath string, opts Options) error {
	abs, err := filepath.Abs(wasmPath)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[[plugin]]\nname = %q\nkind = %q\nwasm = %q\n", name, kind, abs)
	fmt.Fprintf(&b, "capabilities = %s\n", tomlList(opts.Capabilities))
	if len(opts.AllowedHosts) > 0 {
		fmt.Fprintf(&b, "allowed_hosts = %s\n", tomlList(opts.AllowedHosts))
	}
	if len(opts.Config) > 0 {
		b.WriteString("[plugin.config]\n")
		for k, v := range opts.Config {
			fmt.Fprintf(&b, "%q = %q\n", k, v)
		}
	}
	l := opts.Limits
	fmt.Fprintf(&b, "[plugin.limits]\nmemory_mb = %d\ntimeout_ms = %d\nmax_input_bytes = %d\nmax_output_bytes = %d\npool_size = %d\nmax_calls_per_instance = %d\n",
		l.MemoryMB, l.TimeoutMS, l.MaxInputBytes, l.MaxOutputBytes, l.PoolSize, l.MaxCallsPerInstance)
	fmt.Fprintf(&b, "uninterruptible = %t\n", l.Uninterruptible)
	if m := opts.Match; m != nil {
		fmt.Fprintf(&b, "[plugin.match]\nurl_globs = %s\ncontent_types = %s\npriority = %d\n", tomlList(m.URLGlobs), tomlList(m.ContentTypes), m.Priority)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func tomlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// Call runs an export with in encoded as JSON and decodes its output into out (which may
// be nil). Events the plugin emits are recorded.
func (p *Plugin) Call(export string, in, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ctx = host.WithEvents(ctx, func(ev abi.Event) {
		p.mu.Lock()
		p.events = append(p.events, ev)
		p.mu.Unlock()
	})
	res, err := p.Host.Call(ctx, p.Name, export, raw)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(res, out)
}

// Extract calls an extractor's extract export.
func (p *Plugin) Extract(in abi.ExtractInput) (abi.ExtractOutput, error) {
	var out abi.ExtractOutput
	err := p.Call(abi.ExportExtract, in, &out)
	return out, err
}

// SeedItem stores an item and returns its ID.
func (p *Plugin) SeedItem(in store.NewItem) string {
	p.tb.Helper()
	if in.Title == "" && in.Content == "" && in.URL == "" {
		in.Content = "seed"
	}
	it, _, err := p.DB.CreateItem(context.Background(), in)
	if err != nil {
		p.tb.Fatalf("seed item: %v", err)
	}
	return it.ID
}

// Item returns a stored item.
func (p *Plugin) Item(id string) store.Item {
	p.tb.Helper()
	it, err := p.DB.GetItem(context.Background(), id)
	if err != nil {
		p.tb.Fatalf("item %s: %v", id, err)
	}
	return it
}

// Chunks returns an item's stored chunks.
func (p *Plugin) Chunks(itemID string) []store.Chunk {
	p.tb.Helper()
	c, err := p.DB.Chunks(context.Background(), itemID)
	if err != nil {
		p.tb.Fatalf("chunks of %s: %v", itemID, err)
	}
	return c
}

// Events returns the events emitted so far.
func (p *Plugin) Events() []abi.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]abi.Event(nil), p.events...)
}

// HostCalls returns every host function call made so far.
func (p *Plugin) HostCalls() []host.HostCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]host.HostCall(nil), p.calls...)
}

// ScriptedChat is a chat model that answers with Answers in turn (the last one repeats),
// streaming each word as a token. It records the requests it got.
type ScriptedChat struct {
	Answers []string

	mu       sync.Mutex
	n        int
	Requests []providers.ChatRequest
}

// Chat answers with the next scripted answer.
func (s *ScriptedChat) Chat(ctx context.Context, req providers.ChatRequest, onToken providers.TokenFunc) (providers.ChatResponse, error) {
	s.mu.Lock()
	s.Requests = append(s.Requests, req)
	answer := ""
	if len(s.Answers) > 0 {
		answer = s.Answers[min(s.n, len(s.Answers)-1)]
	}
	s.n++
	s.mu.Unlock()
	if onToken != nil {
		for i, w := range strings.SplitAfter(answer, " ") {
			if err := ctx.Err(); err != nil {
				return providers.ChatResponse{}, err
			}
			if err := onToken(w); err != nil {
				return providers.ChatResponse{}, fmt.Errorf("token %d: %w", i, err)
			}
		}
	}
	return providers.ChatResponse{Content: answer, Model: "scripted"}, nil
}

// RunNode runs a workflow node's step natively the way sdk.HandleNode runs it in the
// sandbox: in.State decoded into S (an empty state is S's zero value), the step, the state
// encoded again. It lets a plugin's unit tests drive its nodes with a fake host, no Wasm
// build needed. An undecodable state is an abi.ErrInvalid error, as the host would see it.
func RunNode[S any](step func(in abi.NodeInput, state *S) (next string, err error), in abi.NodeInput) (abi.NodeOutput, error) {
	var st S
	if len(in.State) > 0 {
		if err := json.Unmarshal(in.State, &st); err != nil {
			return abi.NodeOutput{}, abi.Errorf(abi.ErrInvalid, "decode node state: %v", err)
		}
	}
	next, err := step(abi.NodeInput{RunID: in.RunID, Node: in.Node, Attempt: in.Attempt}, &st)
	if err != nil {
		return abi.NodeOutput{}, err
	}
	raw, err := json.Marshal(&st)
	if err != nil {
		return abi.NodeOutput{}, fmt.Errorf("encode node state: %w", err)
	}
	return abi.NodeOutput{State: raw, Next: next}, nil
}
