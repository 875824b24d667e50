package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/cortexhq/cortex/sdk/abi"
)

// Options configure a Host.
type Options struct {
	// Builtin holds the built-in manifest and the .wasm files it names (embedded in the
	// release binary); nil means no built-in plugins.
	Builtin fs.FS
	// BuiltinManifest is the manifest's path within Builtin (default "plugins.toml").
	BuiltinManifest string
	// PluginsDir is the user plugins folder: its plugins.toml and drop-in .wasm files.
	// "" means none.
	PluginsDir string
	// CacheDir keeps compiled code between starts; "" keeps it in memory only.
	CacheDir string
	// Services back the host functions.
	Services Services
	Logger   *slog.Logger
	// IdleInstanceTTL closes instances unused for this long (default DefaultIdleInstanceTTL;
	// negative keeps them). A Go guest's memory only grows, so an instance that once
	// extracted a big page holds its high-water mark until closed; a desktop app idles most
	// of the day.
	IdleInstanceTTL time.Duration
}

// DefaultIdleInstanceTTL balances memory against the cost of a fresh instance (about
// 10-15 ms for the built-in extractors).
const DefaultIdleInstanceTTL = time.Minute

// Host loads, runs and reloads plugins.
type Host struct {
	opts     Options
	log      *slog.Logger
	cache    wazero.CompilationCache
	services Services

	mu      sync.RWMutex
	slots   map[string]*slot
	dropIns map[string]dropIn // by file path

	queryCache *lru

	reconcileMu sync.Mutex // one reconcile at a time
	loadSem     chan struct{}

	// reaper is the idle-instance reaper, apart from bg, which ReloadChanged waits for.
	reaper sync.WaitGroup

	demotedMu sync.Mutex
	demoted   map[string]bool // uninterruptible plugins that overran: run with checks now
	bg        sync.WaitGroup
	closed    chan struct{}
}

type dropIn struct {
	hash string
	name string // from its describe; "" when it was refused
	err  error
}

// dropInName names a refused drop-in after its file.
func dropInName(file string) string {
	name := strings.ToLower(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)))
	if !nameRE.MatchString(name) {
		name = "drop-in-" + strings.Trim(nameRE.ReplaceAllString(name, ""), "-")
	}
	return name
}

// slot is one named plugin and the version serving it.
type slot struct {
	name  string
	stats *stats

	mu       sync.RWMutex
	cur      *version
	spec     Spec // the spec last loaded, or attempted
	state    string
	lastErr  string
	loading  chan struct{} // closed when the first load attempt has finished
	loadOnce sync.Once
	loadMu   sync.Mutex // one load of this plugin at a time
	wasmHash string     // of the spec last attempted, to skip unchanged reloads
}

// Plugin states.
const (
	StateLoading = "loading"
	StateReady   = "ready"
	StateFailed  = "failed"
)

// New reads the manifests and starts loading every plugin in the background. It returns
// at once: a call waits for its own plugin only. A manifest that cannot be parsed is an
// error.
func New(ctx context.Context, opts Options) (*Host, error) {
	if opts.BuiltinManifest == "" {
		opts.BuiltinManifest = "plugins.toml"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Host{
		opts:       opts,
		log:        opts.Logger,
		services:   opts.Services,
		slots:      map[string]*slot{},
		dropIns:    map[string]dropIn{},
		loadSem:    make(chan struct{}, max(1, runtime.NumCPU())),
		queryCache: newLRU(512),
		closed:     make(chan struct{}),
	}
	if opts.CacheDir != "" {
		if err := os.MkdirAll(opts.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("plugin cache: %w", err)
		}
		c, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("plugin cache %s: %w", opts.CacheDir, err)
		}
		h.cache = c
	} else {
		h.cache = wazero.NewCompilationCache()
	}
	if _, err := h.reconcile(ctx, false); err != nil {
		h.cache.Close(ctx)
		return nil, err
	}
	if opts.IdleInstanceTTL == 0 {
		opts.IdleInstanceTTL = DefaultIdleInstanceTTL
	}
	if opts.IdleInstanceTTL > 0 {
		h.reaper.Add(1)
		go h.reapIdle(opts.IdleInstanceTTL)
	}
	return h, nil
}

// reapIdle closes the instances idle for longer than ttl, and hands what they held back to
// the operating system, until the host closes.
func (h *Host) reapIdle(ttl time.Duration) {
	defer h.reaper.Done()
	t := time.NewTicker(max(ttl/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-h.closed:
			return
		case <-t.C:
		}
		reaped := 0
		h.mu.RLock()
		for _, sl := range h.slots {
			sl.mu.RLock()
			if sl.cur != nil {
				reaped += sl.cur.pool.reapIdle(time.Now().Add(-ttl))
			}
			sl.mu.RUnlock()
		}
		h.mu.RUnlock()
		if reaped > 0 {
			// Their linear memories are Go garbage now; without this the runtime would
			// give the pages back over minutes.
			debug.FreeOSMemory()
			h.log.Debug("closed idle plugin instances", "count", reaped)
		}
	}
}

// desiredSpecs reads the manifests: built-ins, replaced by name by the user's entries.
func (h *Host) desiredSpecs() (map[string]Spec, error) {
	specs := map[string]Spec{}
	if h.opts.Builtin != nil {
		data, err := fs.ReadFile(h.opts.Builtin, h.opts.BuiltinManifest)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read built-in manifest: %w", err)
		}
		if err == nil {
			m, err := ParseManifest("builtin:"+h.opts.BuiltinManifest, data)
			if err != nil {
				return nil, err
			}
			for _, s := range m.Plugins {
				s.Source, s.fsys, s.dir = SourceBuiltin, h.opts.Builtin, path.Dir(h.opts.BuiltinManifest)
				specs[s.Name] = s
			}
		}
	}
	if h.opts.PluginsDir != "" {
		file := filepath.Join(h.opts.PluginsDir, "plugins.toml")
		data, err := os.ReadFile(file)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		if err == nil {
			m, err := ParseManifest(file, data)
			if err != nil {
				return nil, err
			}
			for _, s := range m.Plugins {
				s.Source, s.dir = SourceUser, h.opts.PluginsDir
				specs[s.Name] = s
			}
		}
	}
	for name, s := range specs {
		if s.Disabled {
			delete(specs, name)
		}
	}
	return specs, nil
}

// readWasm returns the bytes of the spec's .wasm file.
func (s *Spec) readWasm() ([]byte, error) {
	if s.fsys != nil {
		return fs.ReadFile(s.fsys, path.Join(s.dir, s.Wasm))
	}
	p := s.Wasm
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.dir, p)
	}
	return os.ReadFile(p)
}

func (s *Spec) wasmPath() string {
	if s.fsys != nil || filepath.IsAbs(s.Wasm) {
		return s.Wasm
	}
	return filepath.Join(s.dir, s.Wasm)
}

// reconcile brings the loaded plugins in line with the manifests and the plugins folder.
// It loads new and changed plugins in the background (force reloads every one), unloads
// removed ones, and returns the names it started loading.
func (h *Host) reconcile(ctx context.Context, force bool) ([]string, error) {
	h.reconcileMu.Lock()
	defer h.reconcileMu.Unlock()
	specs, err := h.desiredSpecs()
	if err != nil {
		return nil, err
	}
	referenced := map[string]bool{}
	for _, s := range specs {
		if s.Source == SourceUser {
			referenced[filepath.Clean(s.wasmPath())] = true
		}
	}
	if err := h.addDropIns(ctx, specs, referenced); err != nil {
		return nil, err
	}

	var started []string
	h.mu.Lock()
	for name, sl := range h.slots {
		if _, ok := specs[name]; !ok {
			delete(h.slots, name)
			h.log.Info("plugin removed", "plugin", name)
			go sl.unload()
		}
	}
	for name, spec := range specs {
		sl, ok := h.slots[name]
		if !ok {
			// The spec is known before the first load finishes, so the plugin is listed
			// with its kind while it compiles and a call can wait for it.
			sl = &slot{name: name, stats: &stats{}, state: StateLoading, loading: make(chan struct{}), spec: spec}
			h.slots[name] = sl
		}
		started = append(started, name)
		h.bg.Add(1)
		go func() {
			defer h.bg.Done()
			h.loadSlot(context.WithoutCancel(ctx), sl, spec, force)
		}()
	}
	h.mu.Unlock()
	sort.Strings(started)
	return started, nil
}

// addDropIns adds a spec for every .wasm in the plugins folder that no manifest entry
// names. A drop-in's name comes from its own describe, so each new or changed file is
// loaded once to learn it; a manifest entry of the same name wins.
func (h *Host) addDropIns(ctx context.Context, specs map[string]Spec, referenced map[string]bool) error {
	if h.opts.PluginsDir == "" {
		return nil
	}
	files, err := filepath.Glob(filepath.Join(h.opts.PluginsDir, "*.wasm"))
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, file := range files {
		file = filepath.Clean(file)
		if referenced[file] {
			continue
		}
		seen[file] = true
		data, err := os.ReadFile(file)
		if err != nil {
			h.log.Warn("read drop-in plugin", "file", file, "err", err)
			continue
		}
		sum := sha256.Sum256(data)
		hash := hex.EncodeToString(sum[:])
		di, known := h.dropIns[file]
		if !known || di.hash != hash {
			spec := Spec{Name: "drop-in", Wasm: file, Source: SourceDropIn, File: file}
			v, err := h.loadVersion(ctx, spec, data, &stats{})
			di = dropIn{hash: hash}
			if err != nil {
				h.log.Warn("drop-in plugin refused", "file", file, "err", err)
				di.err = err
			} else {
				di.name = v.spec.Name
				v.close() // loadSlot loads it again under its name; the compile cache makes that cheap
			}
			h.dropIns[file] = di
		}
		name := di.name
		if di.err != nil {
			// Listed under its file name, so the refusal shows in /api/plugins.
			name = dropInName(file)
		}
		if existing, ok := specs[name]; ok && existing.Source == SourceUser {
			h.log.Warn("drop-in plugin shadowed by a plugins.toml entry of the same name", "file", file, "plugin", name)
			continue
		}
		specs[name] = Spec{Name: name, Wasm: file, Source: SourceDropIn, File: file, loadErr: di.err}
	}
	for file := range h.dropIns {
		if !seen[file] {
			delete(h.dropIns, file)
		}
	}
	return nil
}

// loadSlot loads spec into sl unless the same wasm and spec already serve (or force).
// On failure the old version, if any, keeps serving and the error is recorded.
func (h *Host) loadSlot(ctx context.Context, sl *slot, spec Spec, force bool) {
	sl.loadMu.Lock()
	defer sl.loadMu.Unlock()
	defer sl.loadOnce.Do(func() { close(sl.loading) })

	if spec.loadErr != nil {
		sl.fail(spec, spec.loadErr)
		return
	}
	wasm, err := spec.readWasm()
	if err != nil {
		sl.fail(spec, fmt.Errorf("read %s: %w", spec.wasmPath(), err))
		h.log.Error("plugin failed to load", "plugin", spec.Name, "err", err)
		return
	}
	sum := sha256.Sum256(wasm)
	hash := hex.EncodeToString(sum[:]) + "/" + specKey(spec)
	sl.mu.RLock()
	unchanged := sl.cur != nil && sl.wasmHash == hash
	sl.mu.RUnlock()
	if unchanged && !force {
		return
	}

	select {
	case h.loadSem <- struct{}{}:
	case <-h.closed:
		return
	}
	start := time.Now()
	v, err := h.loadVersion(ctx, spec, wasm, sl.stats)
	<-h.loadSem
	if err != nil {
		sl.fail(spec, err)
		h.log.Error("plugin failed to load", "plugin", spec.Name, "source", spec.Source, "err", err)
		return
	}
	select {
	case <-h.closed:
		v.close()
		return
	default:
	}
	sl.mu.Lock()
	old := sl.cur
	sl.cur, sl.spec, sl.state, sl.lastErr, sl.wasmHash = v, v.spec, StateReady, "", hash
	sl.mu.Unlock()
	h.log.Info("plugin loaded", "plugin", spec.Name, "version", v.spec.Version, "source", spec.Source,
		"hash", v.hash[:12], "took", time.Since(start).Round(time.Millisecond))
	if old != nil {
		go old.retire()
	}
}

// specKey identifies the parts of a spec that change how a version behaves.
func specKey(s Spec) string {
	return fmt.Sprintf("%s|%s|%v|%v|%v|%+v|%+v", s.Kind, s.Version, s.Capabilities, s.AllowedHosts, s.Config, s.Limits, s.Match)
}

func (sl *slot) fail(spec Spec, err error) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	sl.lastErr = err.Error()
	if sl.cur == nil {
		sl.state, sl.spec = StateFailed, spec
	}
}

func (sl *slot) unload() {
	sl.mu.Lock()
	old := sl.cur
	sl.cur = nil
	sl.state = StateFailed
	sl.mu.Unlock()
	if old != nil {
		old.retireWithin(unloadWait)
	}
}

// unloadWait bounds how long unloading a plugin waits for its calls to return.
const unloadWait = 10 * time.Second

// acquire returns the serving version, waiting for the first load to finish, and a
// release func the caller must call when its call has returned.
func (sl *slot) acquire(ctx context.Context) (*version, func(), error) {
	select {
	case <-sl.loading:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("plugin %q is still loading: %w", sl.name, ctx.Err())
	}
	sl.mu.RLock()
	v := sl.cur
	if v != nil {
		v.inflight.Add(1)
	}
	lastErr := sl.lastErr
	sl.mu.RUnlock()
	if v == nil {
		return nil, nil, fmt.Errorf("plugin %q: %w: %s", sl.name, ErrNotReady, lastErr)
	}
	return v, v.inflight.Done, nil
}

func (h *Host) slot(name string) (*slot, error) {
	h.mu.RLock()
	sl := h.slots[name]
	h.mu.RUnlock()
	if sl == nil {
		return nil, fmt.Errorf("plugin %q: %w", name, ErrNotFound)
	}
	return sl, nil
}

// Call runs a plugin export with JSON input and returns its JSON output. It waits for the
// plugin to finish loading, and for a free instance, as long as ctx allows.
func (h *Host) Call(ctx context.Context, plugin, export string, input []byte) ([]byte, error) {
	sl, err := h.slot(plugin)
	if err != nil {
		return nil, err
	}
	v, release, err := sl.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return v.call(ctx, export, input)
}

// Describe returns the description of the plugin's serving version.
func (h *Host) Describe(ctx context.Context, plugin string) (abi.Description, error) {
	sl, err := h.slot(plugin)
	if err != nil {
		return abi.Description{}, err
	}
	v, release, err := sl.acquire(ctx)
	if err != nil {
		return abi.Description{}, err
	}
	defer release()
	return v.desc, nil
}

// WaitReady waits until every plugin's first load attempt has finished.
func (h *Host) WaitReady(ctx context.Context) error {
	h.mu.RLock()
	slots := make([]*slot, 0, len(h.slots))
	for _, sl := range h.slots {
		slots = append(slots, sl)
	}
	h.mu.RUnlock()
	for _, sl := range slots {
		select {
		case <-sl.loading:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Reload loads the named plugin again from its file, even if unchanged, and waits for the
// result. When the new version fails, the old one keeps serving and the error is returned.
func (h *Host) Reload(ctx context.Context, name string) (PluginInfo, error) {
	sl, err := h.slot(name)
	if err != nil {
		return PluginInfo{}, err
	}
	specs, err := h.desiredSpecs()
	if err != nil {
		return PluginInfo{}, err
	}
	spec, ok := specs[name]
	if !ok {
		sl.mu.RLock()
		spec = sl.spec
		sl.mu.RUnlock()
		if spec.Source != SourceDropIn {
			return PluginInfo{}, fmt.Errorf("plugin %q is no longer in any manifest: %w", name, ErrNotFound)
		}
	}
	sl.mu.Lock()
	sl.lastErr = ""
	sl.mu.Unlock()
	h.loadSlot(ctx, sl, spec, true)
	info := sl.info()
	if info.LastError != "" {
		return info, fmt.Errorf("reload %q: %s", name, info.LastError)
	}
	return info, nil
}

// ReloadChanged re-reads the manifests and the plugins folder and reloads what changed
// (the file watcher and SIGHUP call it). It waits for the loads to finish.
func (h *Host) ReloadChanged(ctx context.Context) error {
	if _, err := h.reconcile(ctx, false); err != nil {
		return err
	}
	h.bg.Wait()
	return nil
}

// PluginInfo is what /api/plugins shows of a plugin.
type PluginInfo struct {
	Name         string     `json:"name"`
	Kind         string     `json:"kind"`
	Version      string     `json:"version"`
	Description  string     `json:"description,omitempty"`
	Hash         string     `json:"hash"`
	Source       string     `json:"source"`
	State        string     `json:"state"`
	LastError    string     `json:"last_error,omitempty"`
	Capabilities []string   `json:"capabilities"`
	AllowedHosts []string   `json:"allowed_hosts,omitempty"`
	Exports      []string   `json:"exports"`
	Workflow     string     `json:"workflow,omitempty"`
	Match        *abi.Match `json:"match,omitempty"`
	Limits       Limits     `json:"limits"`
	LoadedAt     time.Time  `json:"loaded_at,omitzero"`
	Stats        Stats      `json:"stats"`
}

func (sl *slot) info() PluginInfo {
	info := sl.describe()
	info.Stats = sl.stats.snapshot()
	if live, ok := sl.liveInstances(); ok {
		info.Stats.LiveInstances = live
	}
	return info
}

func (sl *slot) liveInstances() (int64, bool) {
	sl.mu.RLock()
	defer sl.mu.RUnlock()
	if sl.cur == nil {
		return 0, false
	}
	return sl.cur.pool.live.Load(), true
}

// describe is info without the stats, whose percentiles sort the recent latencies: cheap
// enough to run on every workflow lookup.
func (sl *slot) describe() PluginInfo {
	sl.mu.RLock()
	defer sl.mu.RUnlock()
	spec := sl.spec
	info := PluginInfo{
		Name: sl.name, Kind: spec.Kind, Version: spec.Version, Source: spec.Source, State: sl.state,
		LastError: sl.lastErr, Capabilities: slices.Clone(spec.Capabilities), AllowedHosts: spec.AllowedHosts,
		Match: spec.Match, Limits: spec.Limits.withDefaults(), Exports: []string{},
	}
	if info.Capabilities == nil {
		info.Capabilities = []string{}
	}
	if v := sl.cur; v != nil {
		info.Hash, info.LoadedAt, info.Exports = v.hash, v.loadedAt, v.exportList()
		info.Description, info.Workflow = v.desc.Description, v.desc.Workflow
	}
	return info
}

// Plugins lists every plugin, sorted by name.
func (h *Host) Plugins() []PluginInfo { return h.plugins((*slot).info) }

func (h *Host) plugins(info func(*slot) PluginInfo) []PluginInfo {
	h.mu.RLock()
	out := make([]PluginInfo, 0, len(h.slots))
	for _, sl := range h.slots {
		out = append(out, info(sl))
	}
	h.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Plugin returns one plugin's info.
func (h *Host) Plugin(name string) (PluginInfo, error) {
	sl, err := h.slot(name)
	if err != nil {
		return PluginInfo{}, err
	}
	return sl.info(), nil
}

// Close stops loading, waits for in-flight calls and closes every version.
func (h *Host) Close(ctx context.Context) error {
	select {
	case <-h.closed:
		return nil
	default:
	}
	close(h.closed)
	h.bg.Wait()
	h.reaper.Wait()
	h.mu.Lock()
	slots := h.slots
	h.slots = map[string]*slot{}
	h.mu.Unlock()
	for _, sl := range slots {
		sl.unload()
	}
	return h.cache.Close(ctx)
}

// Names lists plugin names of a kind ("" for all).
func (h *Host) Names(kind string) []string {
	var out []string
	for _, p := range h.Plugins() {
		if kind == "" || p.Kind == kind {
			out = append(out, p.Name)
		}
	}
	return out
}
