// Package wasmbuild compiles a Go plugin folder to a WebAssembly module
// (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared) and caches the result by a hash of its
// sources, so tests and `cortex plugin dev` rebuild only what changed.
package wasmbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Options tune Build.
type Options struct {
	// Out is where the .wasm goes; "" means the cache file itself.
	Out string
	// CacheDir holds built modules by source hash; "" means <user cache dir>/cortex/wasm.
	CacheDir string
	// LDFlags are passed to go build (for example "-X main.answer=v2").
	LDFlags string
	// ExtraSources are more folders whose .go files are part of the hash (the SDK, when the
	// plugin builds against a local copy of it).
	ExtraSources []string
}

// Build compiles the plugin in dir and returns the path of the .wasm.
func Build(ctx context.Context, dir string, opts Options) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	key, err := sourceHash(dir, opts)
	if err != nil {
		return "", fmt.Errorf("hash plugin sources in %s: %w", dir, err)
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		cacheDir = filepath.Join(base, "cortex", "wasm")
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	cached := filepath.Join(cacheDir, filepath.Base(dir)+"-"+key[:16]+".wasm")
	if _, err := os.Stat(cached); err != nil {
		tmp := cached + fmt.Sprintf(".%d.tmp", os.Getpid())
		args := []string{"build", "-buildmode=c-shared", "-trimpath", "-o", tmp}
		if opts.LDFlags != "" {
			args = append(args, "-ldflags", opts.LDFlags)
		}
		cmd := exec.CommandContext(ctx, goBinary(), append(args, ".")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			os.Remove(tmp)
			return "", fmt.Errorf("go build %s: %w\n%s", dir, err, strings.TrimSpace(out.String()))
		}
		if err := os.Rename(tmp, cached); err != nil {
			return "", err
		}
	}
	if opts.Out == "" {
		return cached, nil
	}
	data, err := os.ReadFile(cached)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(opts.Out), 0o755); err != nil {
		return "", err
	}
	// Write then rename, so a watcher never sees half a module.
	tmp := opts.Out + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return "", err
	}
	return opts.Out, os.Rename(tmp, opts.Out)
}

func goBinary() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// sourceHash covers every .go, go.mod and go.sum file under dir and the extra folders,
// plus the Go version and flags.
func sourceHash(dir string, opts Options) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", runtime.Version(), opts.LDFlags)
	for _, root := range append([]string{dir}, opts.ExtraSources...) {
		var files []string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			name := d.Name()
			if !d.IsDir() && (strings.HasSuffix(name, ".go") || name == "go.mod" || name == "go.sum") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return "", err
			}
			rel, _ := filepath.Rel(root, f)
			fmt.Fprintf(h, "%s\x00%d\x00", rel, len(data))
			h.Write(data)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
