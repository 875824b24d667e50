package host

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/cortexhq/cortex/sdk/abi"
)

// Plugin sources, as /api/plugins reports them.
const (
	SourceBuiltin = "builtin"
	SourceUser    = "user"
	// SourceDropIn is a .wasm in the plugins folder with no manifest entry: it is loaded
	// from its own describe and gets no capability.
	SourceDropIn = "drop-in"
)

// Manifest is a plugins.toml file.
type Manifest struct {
	Plugins []Spec `toml:"plugin"`
}

// Spec is one plugin entry of a manifest.
type Spec struct {
	Name         string            `toml:"name" json:"name"`
	Kind         string            `toml:"kind" json:"kind"`
	Wasm         string            `toml:"wasm" json:"wasm"`
	Version      string            `toml:"version" json:"version,omitempty"`
	Description  string            `toml:"description" json:"description,omitempty"`
	Capabilities []string          `toml:"capabilities" json:"capabilities"`
	AllowedHosts []string          `toml:"allowed_hosts" json:"allowed_hosts,omitempty"`
	Config       map[string]string `toml:"config" json:"config,omitempty"`
	Limits       Limits            `toml:"limits" json:"limits"`
	Match        *abi.Match        `toml:"match" json:"match,omitempty"`
	Disabled     bool              `toml:"disabled" json:"disabled,omitempty"`

	// Source and File say where the entry came from; Dir resolves a relative Wasm path.
	Source string `toml:"-" json:"source"`
	File   string `toml:"-" json:"-"`
	dir    string
	fsys   fs.FS
	// loadErr is set for a drop-in that was already refused while learning its name.
	loadErr error
}

// Limits bound one plugin. Zero values take the defaults of DefaultLimits.
type Limits struct {
	MemoryMB            int   `toml:"memory_mb" json:"memory_mb"`
	TimeoutMS           int   `toml:"timeout_ms" json:"timeout_ms"`
	MaxInputBytes       int64 `toml:"max_input_bytes" json:"max_input_bytes"`
	MaxOutputBytes      int64 `toml:"max_output_bytes" json:"max_output_bytes"`
	PoolSize            int   `toml:"pool_size" json:"pool_size"`
	MaxCallsPerInstance int   `toml:"max_calls_per_instance" json:"max_calls_per_instance"`
	HTTPPerMinute       int   `toml:"http_requests_per_minute" json:"http_requests_per_minute"`
	// Uninterruptible compiles the plugin without the checks that let a deadline stop
	// guest code mid-loop. A Go guest jumps through a loop header at nearly every branch,
	// so the checks make it about 6× slower (extract-html: 322 → 55 ms a page). A call
	// that overruns still fails with ErrTimeout on time, but its instance runs on until
	// the guest returns and is then thrown away, and the plugin is reloaded with the
	// checks until restart (a guest that never returns keeps its core until then). Only a
	// plugins.toml entry can set it — for code its author trusts not to spin — never a
	// drop-in.
	Uninterruptible bool `toml:"uninterruptible" json:"uninterruptible,omitempty"`
}

// DefaultLimits are generous enough for a readability extractor on a large page and tight
// enough that a runaway plugin cannot take the machine with it.
func DefaultLimits() Limits {
	return Limits{
		MemoryMB:            256,
		TimeoutMS:           30_000,
		MaxInputBytes:       32 << 20,
		MaxOutputBytes:      32 << 20,
		PoolSize:            runtime.NumCPU(),
		MaxCallsPerInstance: 1000,
		HTTPPerMinute:       60,
	}
}

// withDefaults fills zero limits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MemoryMB <= 0 {
		l.MemoryMB = d.MemoryMB
	}
	if l.TimeoutMS <= 0 {
		l.TimeoutMS = d.TimeoutMS
	}
	if l.MaxInputBytes <= 0 {
		l.MaxInputBytes = d.MaxInputBytes
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = d.MaxOutputBytes
	}
	if l.PoolSize <= 0 {
		l.PoolSize = d.PoolSize
	}
	if l.MaxCallsPerInstance <= 0 {
		l.MaxCallsPerInstance = d.MaxCallsPerInstance
	}
	if l.HTTPPerMinute <= 0 {
		l.HTTPPerMinute = d.HTTPPerMinute
	}
	return l
}

// Timeout is the call timeout.
func (l Limits) Timeout() time.Duration { return time.Duration(l.TimeoutMS) * time.Millisecond }

// memoryPages converts MemoryMB to 64 KiB Wasm pages.
func (l Limits) memoryPages() uint32 { return uint32(l.MemoryMB) * 16 }

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ParseManifest decodes a plugins.toml strictly: an unknown key or an invalid entry is an
// error naming the file, the line and the key.
func ParseManifest(file string, data []byte) (Manifest, error) {
	var m Manifest
	md, err := toml.Decode(string(data), &m)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return Manifest{}, fmt.Errorf("%s:%d: %s", file, perr.Position.Line, perr.Message)
		}
		return Manifest{}, fmt.Errorf("%s: %w", file, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		key := undecoded[0]
		return Manifest{}, fmt.Errorf("%s:%d: unknown key %q", file, keyLine(data, key), key.String())
	}
	seen := map[string]bool{}
	for i := range m.Plugins {
		p := &m.Plugins[i]
		p.File = file
		line := entryLine(data, i)
		if err := p.validate(); err != nil {
			return Manifest{}, fmt.Errorf("%s:%d: plugin %q: %w", file, line, p.Name, err)
		}
		if seen[p.Name] {
			return Manifest{}, fmt.Errorf("%s:%d: plugin %q is listed twice", file, line, p.Name)
		}
		seen[p.Name] = true
	}
	return m, nil
}

func (p *Spec) validate() error {
	if !nameRE.MatchString(p.Name) {
		return errors.New("name must be 1-64 characters of a-z, 0-9, '-', '_' or '.'")
	}
	if p.Kind != abi.KindWorkflow && p.Kind != abi.KindExtractor {
		return fmt.Errorf("kind must be %q or %q (got %q)", abi.KindWorkflow, abi.KindExtractor, p.Kind)
	}
	if p.Wasm == "" {
		return errors.New("wasm (the path of the .wasm file) is required")
	}
	for _, c := range p.Capabilities {
		if !slices.Contains(abi.Capabilities, c) {
			return fmt.Errorf("unknown capability %q (known: %s)", c, strings.Join(abi.Capabilities, ", "))
		}
	}
	if len(p.AllowedHosts) > 0 && !slices.Contains(p.Capabilities, abi.CapHTTP) {
		return errors.New("allowed_hosts given without the http capability")
	}
	if p.Match != nil && p.Kind != abi.KindExtractor {
		return errors.New("match rules are only for extractors")
	}
	if p.Match != nil {
		for _, g := range p.Match.URLGlobs {
			if _, err := path.Match(g, ""); err != nil {
				return fmt.Errorf("match.url_globs: bad pattern %q", g)
			}
		}
	}
	l := p.Limits
	if l.MemoryMB < 0 || l.MemoryMB > 4096 {
		return fmt.Errorf("limits.memory_mb must be between 1 and 4096 (got %d)", l.MemoryMB)
	}
	if l.TimeoutMS < 0 || l.PoolSize < 0 || l.MaxInputBytes < 0 || l.MaxOutputBytes < 0 || l.MaxCallsPerInstance < 0 || l.HTTPPerMinute < 0 {
		return errors.New("limits must not be negative")
	}
	return nil
}

func (p *Spec) granted(capability string) bool {
	return capability == "" || slices.Contains(p.Capabilities, capability)
}

// keyLine finds the line of an undecoded key: the first assignment of its last part, or
// the table header naming it. BurntSushi/toml knows key positions but does not export them.
func keyLine(data []byte, key toml.Key) int {
	last := key[len(key)-1]
	re := regexp.MustCompile(`^\s*("?` + regexp.QuoteMeta(last) + `"?\s*=|\[+\s*"?` + regexp.QuoteMeta(strings.Join(key, ".")) + `"?\s*\]+)`)
	for i, line := range bytes.Split(data, []byte("\n")) {
		if re.Match(line) {
			return i + 1
		}
	}
	return 0
}

// entryLine is the line of the i-th [[plugin]] header.
func entryLine(data []byte, i int) int {
	re := regexp.MustCompile(`^\s*\[\[\s*plugin\s*\]\]`)
	n := 0
	for l, line := range bytes.Split(data, []byte("\n")) {
		if re.Match(line) {
			if n == i {
				return l + 1
			}
			n++
		}
	}
	return 0
}
