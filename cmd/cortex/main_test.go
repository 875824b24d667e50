package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cortexhq/cortex/internal/wasmbuild"
)

// cortexBin is the real binary, built once for the whole package.
var cortexBin string

func TestMain(m *testing.M) {
	// The binary embeds the built-in plugins: build them first, as `make plugins` does,
	// so `go test ./cmd/cortex` needs no make step.
	if err := buildBuiltinPlugins(); err != nil {
		fmt.Fprintln(os.Stderr, "build plugins:", err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "cortex-bin-")
	if err != nil {
		panic(err)
	}
	cortexBin = filepath.Join(dir, "cortex")
	build := exec.Command("go", "build", "-o", cortexBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build cortex:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildBuiltinPlugins() error {
	mains, err := filepath.Glob("../../plugins/*/main.go")
	if err != nil {
		return err
	}
	sdk, _ := filepath.Abs("../../sdk")
	for _, m := range mains {
		dir := filepath.Dir(m)
		out, _ := filepath.Abs(filepath.Join("../../plugins/dist", filepath.Base(dir)+".wasm"))
		if _, err := wasmbuild.Build(context.Background(), dir, wasmbuild.Options{Out: out, ExtraSources: []string{sdk}}); err != nil {
			return err
		}
	}
	return nil
}

type sidecar struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	stderr    *bytes.Buffer
	ready     map[string]any
	readyLine string
	url       string
	lines     *bufio.Scanner
}

// startSidecar starts `cortex serve` the way the desktop app does and waits for the ready
// line on stdout.
func startSidecar(t *testing.T, dataDir string, env []string, args ...string) *sidecar {
	t.Helper()
	cmd := exec.Command(cortexBin, append([]string{"serve", "--port", "0", "--data-dir", dataDir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	sc := &sidecar{cmd: cmd, stdin: stdin, stderr: &bytes.Buffer{}}
	cmd.Stderr = sc.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	sc.lines = bufio.NewScanner(stdout)
	got := make(chan string, 1)
	go func() {
		if sc.lines.Scan() {
			got <- sc.lines.Text()
		}
		close(got)
	}()
	select {
	case line, ok := <-got:
		if !ok {
			cmd.Wait()
			t.Fatalf("no ready line; stderr:\n%s", sc.stderr)
		}
		sc.readyLine = line
		if err := json.Unmarshal([]byte(line), &sc.ready); err != nil {
			t.Fatalf("ready line is not JSON: %q", line)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for the ready line; stderr:\n%s", sc.stderr)
	}
	if !strings.HasPrefix(sc.readyLine, `{"event":"ready","addr":"`) {
		t.Errorf("ready line does not start with the event: %s", sc.readyLine)
	}
	sc.url = "http://" + sc.ready["addr"].(string)
	return sc
}

func (sc *sidecar) waitExit(t *testing.T) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- sc.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		sc.cmd.Process.Kill()
		t.Fatalf("process did not exit; stderr:\n%s", sc.stderr)
		return nil
	}
}

func TestServeReadyLineAndGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	sc := startSidecar(t, dir, nil)
	if sc.ready["event"] != "ready" || !strings.HasPrefix(sc.ready["addr"].(string), "127.0.0.1:") {
		t.Fatalf("ready line: %v", sc.ready)
	}
	resp, err := http.Post(sc.url+"/api/items", "application/json", strings.NewReader(`{"title":"kept","content":"survives a restart"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("create: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(sc.url + "/api/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()

	sc.cmd.Process.Signal(syscall.SIGTERM)
	if err := sc.waitExit(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, sc.stderr)
	}
	if !strings.Contains(sc.stderr.String(), "shutting down") {
		t.Errorf("no shutdown log on stderr:\n%s", sc.stderr)
	}

	// The data is still there for the next start, and the lock was released.
	sc2 := startSidecar(t, dir, nil)
	resp, err = http.Get(sc2.url + "/api/items")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"kept"`) {
		t.Errorf("item lost across restart: %s", body)
	}
	sc2.cmd.Process.Signal(os.Interrupt)
	if err := sc2.waitExit(t); err != nil {
		t.Fatalf("exit after SIGINT: %v", err)
	}
}

func TestParentWatchExitsWhenStdinCloses(t *testing.T) {
	sc := startSidecar(t, t.TempDir(), nil, "--parent-watch")
	sc.stdin.Close()
	if err := sc.waitExit(t); err != nil {
		t.Fatalf("exit: %v; stderr:\n%s", err, sc.stderr)
	}
}

func TestSecondInstanceRefused(t *testing.T) {
	dir := t.TempDir()
	first := startSidecar(t, dir, nil)
	_ = first
	out, err := exec.Command(cortexBin, "serve", "--port", "0", "--data-dir", dir).CombinedOutput()
	if err == nil {
		t.Fatalf("second instance started: %s", out)
	}
	if !strings.Contains(string(out), "another cortex serve") {
		t.Errorf("unclear message: %s", out)
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	sc := startSidecar(t, t.TempDir(), []string{"CORTEX_TOKEN=side-secret"})
	resp, err := http.Get(sc.url + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: status %d; want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", sc.url+"/api/health", nil)
	req.Header.Set("Authorization", "Bearer side-secret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("with token: status %d", resp.StatusCode)
	}
}

func TestBadConfigIsAClearError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.toml"), []byte("chunk_size = 400\nai_provder = \"ollama\"\n"), 0o600)
	out, err := exec.Command(cortexBin, "serve", "--port", "0", "--data-dir", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ai_provder") {
		t.Fatalf("err=%v out=%s; want an error naming the unknown key", err, out)
	}
	out, err = exec.Command(cortexBin, "serve", "--port", "70000", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "port") {
		t.Fatalf("err=%v out=%s; want an error naming port", err, out)
	}
}

func TestSettingsSavedThroughAPISurviveRestart(t *testing.T) {
	dir := t.TempDir()
	sc := startSidecar(t, dir, nil)
	req, _ := http.NewRequest("PUT", sc.url+"/api/settings", strings.NewReader(`{"chunk_size":320}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("put: %v %v", resp, err)
	}
	resp.Body.Close()
	sc.cmd.Process.Signal(syscall.SIGTERM)
	sc.waitExit(t)

	sc2 := startSidecar(t, dir, nil)
	resp, err = http.Get(sc2.url + "/api/settings")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got["chunk_size"] != float64(320) {
		t.Errorf("chunk_size after restart = %v; want 320", got["chunk_size"])
	}
}
