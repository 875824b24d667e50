package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// userEnv is the environment of a plugin author's shell: none of the Makefile's build
// tags or cgo flags.
func userEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GOFLAGS=") || strings.HasPrefix(kv, "CGO_CFLAGS=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOFLAGS=-buildvcs=false")
}

// TestPluginNewPassesItsOwnTests is the plugin author's first five minutes:
// `cortex plugin new extractor <dir> && cd <dir> && go test ./...`.
func TestPluginNewPassesItsOwnTests(t *testing.T) {
	for _, kind := range []string{"extractor", "workflow"} {
		t.Run(kind, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my-"+kind)
			out, err := exec.Command(cortexBin, "plugin", "new", kind, dir).CombinedOutput()
			if err != nil {
				t.Fatalf("plugin new: %v\n%s", err, out)
			}
			test := exec.Command("go", "test", "./...")
			test.Dir, test.Env = dir, userEnv()
			if out, err := test.CombinedOutput(); err != nil {
				t.Fatalf("go test in the scaffold: %v\n%s", err, out)
			}
			build := exec.Command(cortexBin, "plugin", "build", dir)
			if out, err := build.CombinedOutput(); err != nil || !strings.Contains(string(out), "my-"+kind+".wasm") {
				t.Fatalf("plugin build: %v\n%s", err, out)
			}
		})
	}
}

// TestDevDropsRebuildsIntoARunningServer edits a plugin while `cortex plugin dev` runs
// against a live server: the server lists the first build, then the edited version,
// without a restart.
func TestDevDropsRebuildsIntoARunningServer(t *testing.T) {
	dataDir := t.TempDir()
	srv := startSidecar(t, dataDir, nil)
	dir := filepath.Join(t.TempDir(), "hot")
	if out, err := exec.Command(cortexBin, "plugin", "new", "extractor", dir).CombinedOutput(); err != nil {
		t.Fatalf("plugin new: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dev := exec.CommandContext(ctx, cortexBin, "plugin", "dev", dir, "--data-dir", dataDir)
	dev.Stdout, dev.Stderr = os.Stderr, os.Stderr
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); dev.Wait() }()

	waitForPlugin(t, srv.url, "hot", "0.1.0")
	src := filepath.Join(dir, "main.go")
	data, _ := os.ReadFile(src)
	os.WriteFile(src, []byte(strings.Replace(string(data), `Version:     "0.1.0"`, `Version:     "0.2.0"`, 1)), 0o644)
	waitForPlugin(t, srv.url, "hot", "0.2.0")

	// Removing the module unloads the plugin.
	os.Remove(filepath.Join(dataDir, "plugins", "hot.wasm"))
	cancel()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(srv.url + "/api/plugins/hot")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("removed plugin still listed")
}

func waitForPlugin(t *testing.T, base, name, version string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last map[string]any
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/plugins/" + name)
		if err == nil {
			last = nil
			json.NewDecoder(resp.Body).Decode(&last)
			resp.Body.Close()
			if last["version"] == version && last["state"] == "ready" {
				if last["source"] != "drop-in" {
					t.Errorf("source = %v; want drop-in", last["source"])
				}
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("plugin %s %s never became ready; last seen %v", name, version, last)
}
