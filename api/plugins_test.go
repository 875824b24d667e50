package api_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cortexhq/cortex/api"
	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/internal/wasmbuild"
	"github.com/cortexhq/cortex/providers/local"
)

// withPlugins runs the server over a real host whose plugins folder holds the test
// extractor from host/testdata.
func withPlugins(t testing.TB) (option, string) {
	t.Helper()
	sdk, _ := filepath.Abs("../sdk")
	wasm, err := wasmbuild.Build(context.Background(), "../host/testdata/plugins/plain", wasmbuild.Options{ExtraSources: []string{sdk}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data, _ := os.ReadFile(wasm)
	os.WriteFile(filepath.Join(dir, "plain.wasm"), data, 0o644)
	h, err := host.New(context.Background(), host.Options{
		PluginsDir: dir,
		Services:   host.Services{Models: host.NewModelsWith(local.New(), local.New())},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h.WaitReady(ctx)
	return func(d *api.Deps) { d.Plugins = h }, dir
}

func TestPluginRoutes(t *testing.T) {
	opt, dir := withPlugins(t)
	ts := newTestServer(t, opt)
	list := ts.run(t, scenario{method: "GET", path: "/api/plugins", wantStatus: 200})
	plugins := list["plugins"].([]any)
	if len(plugins) != 1 {
		t.Fatalf("plugins: %v", list)
	}
	p := plugins[0].(map[string]any)
	if p["name"] != "plain-upper" || p["state"] != "ready" || p["kind"] != "extractor" || p["source"] != "drop-in" || p["hash"] == "" {
		t.Errorf("plugin: %v", p)
	}
	ts.run(t, scenario{method: "GET", path: "/api/plugins/plain-upper/", wantStatus: 200, wantContain: []string{`"version":"0.1.0"`, `"stats"`}})
	ts.run(t, scenario{method: "GET", path: "/api/plugins/nope", wantStatus: 404, wantCode: "plugin_not_found"})
	ts.run(t, scenario{method: "POST", path: "/api/plugins/nope/reload", wantStatus: 404, wantCode: "plugin_not_found"})
	ts.run(t, scenario{method: "POST", path: "/api/plugins/plain-upper/reload", wantStatus: 200, wantContain: []string{`"state":"ready"`}})

	// A broken build: the reload is refused and the old version keeps serving.
	os.WriteFile(filepath.Join(dir, "plain.wasm"), []byte("not wasm"), 0o644)
	ts.run(t, scenario{method: "POST", path: "/api/plugins/plain-upper/reload", wantStatus: 422, wantCode: "reload_failed"})
	after := ts.run(t, scenario{method: "GET", path: "/api/plugins/plain-upper", wantStatus: 200})
	if after["state"] != "ready" || after["last_error"] == nil {
		t.Errorf("after a failed reload: %v", after)
	}
}
