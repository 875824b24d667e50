package host

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"

	"github.com/cortexhq/cortex/sdk/abi"
)

// version is one loaded build of a plugin: compiled, probed and described. Calls hold it
// through inflight; a retired version closes when its last call returns.
type version struct {
	spec     Spec
	desc     abi.Description
	hash     string
	limits   Limits
	exports  map[string]bool
	compiled *extism.CompiledPlugin
	pool     *pool
	loadedAt time.Time
	inflight sync.WaitGroup
	stats    *stats
	log      *slog.Logger
	// overran is called when an uninterruptible call outlives its deadline.
	overran func()
}

// extismEnvDenied are Extism's own host functions plugins may not import: its HTTP client
// checks only the first allowed host and follows redirects unchecked, so plugins use
// cortex_http_fetch instead.
var extismEnvDenied = map[string]bool{"http_request": true, "http_status_code": true, "http_headers": true}

// checkImports refuses a module that imports a host function it was not granted, naming
// the function and the missing capability, before any instance of it runs.
func checkImports(ctx context.Context, cache wazero.CompilationCache, wasm []byte, spec *Spec) error {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	defer rt.Close(ctx)
	mod, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	defer mod.Close(ctx)
	var problems []string
	for _, fn := range mod.ImportedFunctions() {
		module, name, _ := fn.Import()
		switch module {
		case abi.HostNamespace:
			capability, known := abi.HostFunctions[name]
			switch {
			case !known:
				problems = append(problems, fmt.Sprintf("imports unknown host function %q", name))
			case !spec.granted(capability):
				problems = append(problems, fmt.Sprintf("imports %s, which needs the %q capability (not granted%s)",
					name, capability, grantHint(spec)))
			}
		case "extism:host/env":
			if extismEnvDenied[name] {
				problems = append(problems, fmt.Sprintf("imports Extism's %s; use %s (capability %q) instead", name, abi.FnHTTPFetch, abi.CapHTTP))
			}
		case "wasi_snapshot_preview1":
		default:
			problems = append(problems, fmt.Sprintf("imports %s.%s from an unknown module", module, name))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrDenied, strings.Join(problems, "; "))
	}
	return nil
}

// sourceProbe marks a version loaded only to read its describe.
const sourceProbe = "probe"

// DescribeWasm reads a module's describe without serving it: every host function is linked
// (so a plugin needing capabilities can still be described) but never called.
func DescribeWasm(ctx context.Context, wasm []byte) (abi.Description, error) {
	h := &Host{log: slog.New(slog.DiscardHandler), cache: wazero.NewCompilationCache(), queryCache: newLRU(1)}
	defer h.cache.Close(ctx)
	spec := Spec{Name: "probe", Wasm: "probe.wasm", Source: sourceProbe, Capabilities: abi.Capabilities}
	v, err := h.loadVersion(ctx, spec, wasm, &stats{})
	if err != nil {
		return abi.Description{}, err
	}
	defer v.close()
	return v.desc, nil
}

func grantHint(spec *Spec) string {
	if spec.Source == SourceDropIn {
		return ": a drop-in plugin gets no capability; add a [[plugin]] entry to plugins.toml"
	}
	return " in " + spec.File
}

// loadVersion compiles wasm for spec, checks its imports, starts a probe instance and
// validates its describe output. Nothing is returned that could not serve.
func (h *Host) loadVersion(ctx context.Context, spec Spec, wasm []byte, st *stats) (*version, error) {
	sum := sha256.Sum256(wasm)
	if h.isDemoted(spec.Name) {
		spec.Limits.Uninterruptible = false
	}
	v := &version{
		spec:     spec,
		hash:     hex.EncodeToString(sum[:]),
		limits:   spec.Limits.withDefaults(),
		loadedAt: time.Now().UTC(),
		log:      h.log.With("plugin", spec.Name),
		stats:    st,
		overran:  func() { h.demote(spec.Name) },
	}
	if err := checkImports(ctx, h.cache, wasm, &v.spec); err != nil {
		return nil, err
	}
	config := map[string]string{abi.ConfigMemoryLimitMB: strconv.Itoa(v.limits.MemoryMB)}
	for k, val := range spec.Config {
		config[k] = val
	}
	manifest := extism.Manifest{
		Wasm:   []extism.Wasm{extism.WasmData{Data: wasm, Name: "main"}},
		Memory: &extism.ManifestMemory{MaxPages: v.limits.memoryPages()},
		Config: config,
	}
	rc := wazero.NewRuntimeConfig().
		WithCompilationCache(h.cache).
		WithCloseOnContextDone(!v.limits.Uninterruptible). // without it a deadline cannot stop a spinning guest
		WithMemoryLimitPages(v.limits.memoryPages())
	compiled, err := extism.NewCompiledPlugin(ctx, manifest, extism.PluginConfig{RuntimeConfig: rc, EnableWasi: true}, h.hostFunctions(v))
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	v.compiled = compiled
	v.pool = newPool(v.limits.PoolSize, v.limits.MaxCallsPerInstance, func() (*instance, error) {
		stderr := &headBuffer{max: 4096}
		p, err := compiled.Instance(context.Background(), extism.PluginInstanceConfig{
			ModuleConfig: wazero.NewModuleConfig().WithSysWalltime().WithSysNanotime().
				WithRandSource(rand.Reader).WithStderr(stderr),
		})
		if err != nil {
			return nil, fmt.Errorf("instantiate: %w", err)
		}
		p.SetLogger(func(level extism.LogLevel, msg string) { v.log.Info(msg, "extism_level", level.String()) })
		return &instance{plugin: p, stderr: stderr}, nil
	})
	if err := v.probe(ctx); err != nil {
		v.close()
		return nil, err
	}
	return v, nil
}

// probe starts the first instance (catching missing imports and init failures), reads its
// exports, and validates describe. The instance stays in the pool, warm.
func (v *version) probe(ctx context.Context) error {
	inst, err := v.pool.acquire(ctx)
	if err != nil {
		return err
	}
	v.exports = map[string]bool{}
	for name := range inst.plugin.Module().ExportedFunctions() {
		v.exports[name] = true
	}
	v.pool.release(inst, true)
	if !v.exports[abi.ExportDescribe] {
		return fmt.Errorf("%w: plugin does not export %q", ErrInvalidPlugin, abi.ExportDescribe)
	}
	out, err := v.call(ctx, abi.ExportDescribe, nil)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	if err := json.Unmarshal(out, &v.desc); err != nil {
		return fmt.Errorf("%w: describe returned invalid JSON: %v", ErrInvalidPlugin, err)
	}
	return v.validate()
}

func (v *version) validate() error {
	d := &v.desc
	if d.ABIVersion != 0 && d.ABIVersion != abi.Version {
		return fmt.Errorf("%w: built for ABI version %d; this host speaks %d", ErrInvalidPlugin, d.ABIVersion, abi.Version)
	}
	if v.spec.Source == SourceDropIn || v.spec.Source == sourceProbe {
		// A drop-in is what it says it is.
		v.spec.Name, v.spec.Kind = d.Name, d.Kind
		if d.Match != nil {
			m := *d.Match
			v.spec.Match = &m
		}
		if err := v.spec.validate(); err != nil {
			return fmt.Errorf("%w: describe: %v", ErrInvalidPlugin, err)
		}
	} else {
		if d.Name != "" && d.Name != v.spec.Name {
			v.log.Warn("plugin describes itself under another name; using the manifest's", "describe_name", d.Name)
		}
		if d.Kind != "" && d.Kind != v.spec.Kind {
			return fmt.Errorf("%w: describe says kind %q, plugins.toml says %q", ErrInvalidPlugin, d.Kind, v.spec.Kind)
		}
		if v.spec.Match == nil && d.Match != nil {
			m := *d.Match
			v.spec.Match = &m
		}
	}
	if v.spec.Version == "" {
		v.spec.Version = d.Version
	}
	for _, e := range d.Exports {
		if !v.exports[e] {
			return fmt.Errorf("%w: describe lists export %q, which the module does not export", ErrInvalidPlugin, e)
		}
	}
	if v.spec.Kind == abi.KindExtractor && !v.exports[abi.ExportExtract] {
		return fmt.Errorf("%w: an extractor must export %q", ErrInvalidPlugin, abi.ExportExtract)
	}
	if d.Graph != nil {
		if err := validateGraph(d.Graph, v.exports); err != nil {
			return fmt.Errorf("%w: graph: %v", ErrInvalidPlugin, err)
		}
	}
	return nil
}

func validateGraph(g *abi.Graph, exports map[string]bool) error {
	names := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Name == "" || names[n.Name] {
			return fmt.Errorf("node names must be unique and not empty (%q)", n.Name)
		}
		names[n.Name] = true
		export := n.Export
		if export == "" {
			export = n.Name
		}
		if !exports[export] {
			return fmt.Errorf("node %q runs export %q, which the module does not export", n.Name, export)
		}
	}
	if !names[g.Entry] {
		return fmt.Errorf("entry node %q is not a node", g.Entry)
	}
	for _, n := range g.Nodes {
		if n.Next != "" && n.Next != abi.End && !names[n.Next] {
			return fmt.Errorf("node %q goes to unknown node %q", n.Name, n.Next)
		}
	}
	return nil
}

// call runs export on a pooled instance within the plugin's limits.
func (v *version) call(ctx context.Context, export string, input []byte) (out []byte, err error) {
	start := time.Now()
	defer func() { v.stats.record(time.Since(start), err != nil) }()
	if int64(len(input)) > v.limits.MaxInputBytes {
		return nil, fmt.Errorf("%w: input of %d bytes is over the plugin's limit of %d", ErrLimit, len(input), v.limits.MaxInputBytes)
	}
	if !v.exports[export] {
		return nil, fmt.Errorf("%w: plugin %q has no export %q", ErrNoExport, v.spec.Name, export)
	}
	callCtx, cancel := context.WithTimeout(ctx, v.limits.Timeout())
	defer cancel()
	inst, err := v.pool.acquire(callCtx)
	if err != nil {
		return nil, fmt.Errorf("wait for an instance: %w", err)
	}
	callCtx = withCallInfo(callCtx, v)
	var stderr string
	if v.limits.Uninterruptible {
		out, stderr, err = v.callUninterruptible(callCtx, inst, export, input)
	} else {
		inst.stderr.Reset()
		_, out, err = inst.plugin.CallWithContext(callCtx, export, input)
		stderr = inst.stderr.String()
		v.pool.release(inst, err == nil || isGuestError(err, callCtx))
	}
	if err = v.classify(callCtx, ctx, export, out, err, stderr); err != nil {
		return nil, err
	}
	return out, nil
}

// callUninterruptible runs a call the deadline cannot stop, in its own goroutine, so the
// caller still gets its answer (a timeout) on time. The overrunning instance is released,
// and discarded, only when the guest finally returns; until then the guest counts as in
// flight, so its version (and the code it is running) is not closed under it.
func (v *version) callUninterruptible(ctx context.Context, inst *instance, export string, input []byte) ([]byte, string, error) {
	type result struct {
		out    []byte
		stderr string
		err    error
	}
	done := make(chan result, 1)
	v.inflight.Add(1) // the caller holds one too, so this cannot race a retire's Wait
	go func() {
		defer v.inflight.Done()
		start := time.Now()
		inst.stderr.Reset()
		_, out, err := inst.plugin.CallWithContext(ctx, export, input)
		r := result{out: out, stderr: inst.stderr.String(), err: err}
		overran := ctx.Err() != nil
		v.pool.release(inst, !overran && (err == nil || isGuestError(err, ctx)))
		if overran {
			v.log.Warn("uninterruptible plugin call returned after its deadline", "export", export, "took", time.Since(start))
		}
		done <- r
	}()
	select {
	case r := <-done:
		return r.out, r.stderr, r.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && v.overran != nil {
			// A guest waiting on a slow host call (a remote model) returns as soon as
			// that call sees the deadline; only one still computing after the grace
			// period is spinning.
			go func() {
				select {
				case <-done:
				case <-time.After(overrunGrace):
					v.overran()
				}
			}()
		}
		return nil, "", ctx.Err()
	}
}

// overrunGrace is how long after its deadline an uninterruptible guest may take to return
// before its plugin is reloaded with deadline checks.
const overrunGrace = 2 * time.Second

func (h *Host) isDemoted(name string) bool {
	h.demotedMu.Lock()
	defer h.demotedMu.Unlock()
	return h.demoted[name]
}

// demote reloads an uninterruptible plugin that overran its deadline with the deadline
// checks compiled in, until the process restarts: the overrunning guest may never
// return, and no later call of that plugin may join it.
func (h *Host) demote(name string) {
	h.demotedMu.Lock()
	if h.demoted[name] {
		h.demotedMu.Unlock()
		return
	}
	if h.demoted == nil {
		h.demoted = map[string]bool{}
	}
	h.demoted[name] = true
	h.demotedMu.Unlock()
	select {
	case <-h.closed:
		return
	default:
	}
	h.log.Error("uninterruptible plugin overran its deadline; reloading it with deadline checks", "plugin", name)
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		if _, err := h.Reload(context.Background(), name); err != nil {
			h.log.Error("reload overrunning plugin", "plugin", name, "err", err)
		}
	}()
}

// isGuestError tells an error the plugin reported (its instance is fine) from a trap, a
// timeout or an exit (its instance may be broken or closed, so it must not be reused).
func isGuestError(err error, ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	msg := err.Error()
	return !strings.Contains(msg, "wasm error") && !strings.Contains(msg, "wasm stack trace") &&
		!strings.Contains(msg, "module closed") && !strings.Contains(msg, "module is closed") &&
		!strings.Contains(msg, "exit_code")
}

func (v *version) classify(callCtx, parent context.Context, export string, out []byte, err error, stderr string) error {
	prefix := fmt.Sprintf("plugin %q %s", v.spec.Name, export)
	switch {
	case err == nil:
	case parent.Err() != nil:
		return fmt.Errorf("%s: %w", prefix, parent.Err())
	case errors.Is(callCtx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: %w: no answer within %s", prefix, ErrTimeout, v.limits.Timeout())
	case isGuestError(err, callCtx):
		var structured abi.Error
		if msg := err.Error(); strings.HasPrefix(msg, `{"code":`) && json.Unmarshal([]byte(msg), &structured) == nil {
			return fmt.Errorf("%s: %w: %w", prefix, ErrPluginFailed, &structured)
		}
		return fmt.Errorf("%s: %w: %s", prefix, ErrPluginFailed, firstLine(err.Error()))
	default:
		// A Go guest prints why it died (a panic, "out of memory") to stderr before the trap.
		msg := firstLine(err.Error())
		if why := guestDeathNote(stderr); why != "" {
			msg += ": " + why
		}
		if strings.Contains(stderr, "out of memory") {
			msg += fmt.Sprintf(" (the memory limit is %d MB)", v.limits.MemoryMB)
		}
		return fmt.Errorf("%s: %w: %s", prefix, ErrTrap, msg)
	}
	if len(out) == 0 {
		return fmt.Errorf("%s: %w: no output (an output too large for the %d MB memory limit arrives empty)", prefix, ErrBadOutput, v.limits.MemoryMB)
	}
	if int64(len(out)) > v.limits.MaxOutputBytes {
		return fmt.Errorf("%s: %w: output of %d bytes is over the limit of %d", prefix, ErrLimit, len(out), v.limits.MaxOutputBytes)
	}
	if !json.Valid(out) {
		return fmt.Errorf("%s: %w: output is not JSON (%q…)", prefix, ErrBadOutput, truncateBytes(out, 40))
	}
	return nil
}

// guestDeathNote picks the line of a dying guest's stderr that says why: a Go panic or
// fatal error, else the first line.
func guestDeathNote(stderr string) string {
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "runtime:") {
			return line
		}
	}
	return strings.TrimSpace(firstLine(stderr))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func truncateBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// close releases the version's instances and compiled code. Call it only when no call is
// in flight.
func (v *version) close() {
	if v.pool != nil {
		v.pool.close()
	}
	if v.compiled != nil {
		_ = v.compiled.Close(context.Background())
	}
}

// retire waits for in-flight calls to finish, then closes the version.
func (v *version) retire() {
	v.inflight.Wait()
	v.close()
}

// retireWithin is retire for shutdown: a call still running after d (an uninterruptible
// guest that overran) is abandoned with its version left open, since closing the code it
// runs could crash the process, which is exiting anyway.
func (v *version) retireWithin(d time.Duration) {
	done := make(chan struct{})
	go func() {
		v.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		v.close()
	case <-time.After(d):
		v.log.Warn("plugin left open at shutdown: a call is still running", "after", d)
	}
}

func (v *version) exportList() []string {
	out := make([]string, 0, len(v.exports))
	for e := range v.exports {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}
