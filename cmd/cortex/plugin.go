package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"text/template"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/internal/config"
	"github.com/cortexhq/cortex/internal/wasmbuild"
)

const pluginUsage = `usage: cortex plugin <command> [flags]

commands:
  new <extractor|workflow> <dir>   scaffold a plugin with a passing harness test
  build <dir> [-o file.wasm]       compile a plugin folder to WebAssembly
  test <dir>                       run the plugin's tests (go test ./...)
  dev <dir>                        rebuild on every save and drop the result into the
                                   running server's plugins folder (hot reload)
`

func pluginCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, pluginUsage)
		return errUsage
	}
	switch args[0] {
	case "new":
		return pluginNew(args[1:], stdout, stderr)
	case "build":
		return pluginBuild(ctx, args[1:], stdout, stderr)
	case "test":
		return pluginTest(ctx, args[1:], stdout, stderr)
	case "dev":
		return pluginDev(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "cortex plugin: unknown command %q\n\n%s", args[0], pluginUsage)
		return errUsage
	}
}

// sourceRoot is the Cortex source tree this binary was built from: scaffolded plugins
// point their go.mod at it, since the module is not published.
func sourceRoot(override string) (string, error) {
	candidates := []string{override, os.Getenv("CORTEX_SDK_DIR")}
	if _, file, _, ok := runtime.Caller(0); ok {
		candidates = append(candidates, filepath.Dir(filepath.Dir(filepath.Dir(file))))
	}
	for _, dir := range candidates {
		if dir == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/cortexhq/cortex\n")) {
			return filepath.Abs(dir)
		}
	}
	return "", errors.New("cannot find the Cortex source tree (its go.mod); pass --sdk <dir> or set CORTEX_SDK_DIR")
}

var pluginNameRE = regexp.MustCompile(`[^a-z0-9-]+`)

func pluginNew(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plugin new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sdk := fs.String("sdk", "", "Cortex source tree (default: the one this binary was built from)")
	name := fs.String("name", "", "plugin name (default: the folder's name)")
	if err := fs.Parse(reorderFlags(args)); err != nil || fs.NArg() != 2 {
		fmt.Fprint(stderr, "usage: cortex plugin new <extractor|workflow> <dir> [--name n] [--sdk dir]\n")
		return errUsage
	}
	kind, dir := fs.Arg(0), fs.Arg(1)
	tmpl, ok := scaffolds[kind]
	if !ok {
		return fmt.Errorf("kind must be extractor or workflow (got %q)", kind)
	}
	root, err := sourceRoot(*sdk)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = strings.Trim(pluginNameRE.ReplaceAllString(strings.ToLower(filepath.Base(dir)), "-"), "-")
		if *name == "" {
			*name = "my-plugin"
		}
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data := map[string]string{"Name": *name, "SDK": root, "Kind": kind}
	for file, text := range tmpl {
		var b bytes.Buffer
		if err := template.Must(template.New(file).Delims("<%", "%>").Parse(text)).Execute(&b, data); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, file), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	// go.sum has to list the harness's dependencies before `go test` will run.
	tidy := exec.Command(goTool(), "mod", "tidy")
	tidy.Dir = dir
	tidy.Stdout, tidy.Stderr = stderr, stderr
	if err := tidy.Run(); err != nil {
		return fmt.Errorf("go mod tidy in %s: %w", dir, err)
	}
	fmt.Fprintf(stdout, "created %s plugin %q in %s\n\n  cd %s\n  go test ./...          # builds it and runs it in a real host\n  cortex plugin build .  # writes %s.wasm\n  cortex plugin dev .    # rebuilds on save into the running server\n",
		kind, *name, dir, dir, *name)
	return nil
}

func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// reorderFlags lets flags follow positional arguments (`new extractor dir --name x`).
func reorderFlags(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && a != "-h" && a != "--help" {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func pluginBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plugin build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output file (default <dir>/<name>.wasm)")
	if err := fs.Parse(reorderFlags(args)); err != nil || fs.NArg() != 1 {
		fmt.Fprint(stderr, "usage: cortex plugin build <dir> [-o file.wasm]\n")
		return errUsage
	}
	path, desc, err := buildPlugin(ctx, fs.Arg(0), *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "built %s: %s %s %s, exports %s\n", path, desc.Kind, desc.Name, desc.Version, strings.Join(desc.Exports, ", "))
	return nil
}

// buildPlugin compiles dir and checks the result describes itself.
func buildPlugin(ctx context.Context, dir, out string) (string, describeSummary, error) {
	var extra []string
	if root, err := sourceRoot(""); err == nil {
		extra = append(extra, filepath.Join(root, "sdk"))
	}
	cached, err := wasmbuild.Build(ctx, dir, wasmbuild.Options{ExtraSources: extra})
	if err != nil {
		return "", describeSummary{}, err
	}
	wasm, err := os.ReadFile(cached)
	if err != nil {
		return "", describeSummary{}, err
	}
	d, err := host.DescribeWasm(ctx, wasm)
	if err != nil {
		return "", describeSummary{}, fmt.Errorf("the module built but is not a valid plugin: %w", err)
	}
	if out == "" {
		out = filepath.Join(dir, d.Name+".wasm")
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, wasm, 0o644); err != nil {
		return "", describeSummary{}, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", describeSummary{}, err
	}
	return out, describeSummary{Name: d.Name, Kind: d.Kind, Version: d.Version, Exports: d.Exports}, nil
}

type describeSummary struct {
	Name, Kind, Version string
	Exports             []string
}

func pluginTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprint(stderr, "usage: cortex plugin test <dir>\n")
		return errUsage
	}
	cmd := exec.CommandContext(ctx, goTool(), "test", "./...")
	cmd.Dir = args[0]
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

// pluginDev rebuilds the plugin on every save and writes it into the plugins folder of
// the running server, whose watcher swaps the new version in. A build error is printed
// and the server keeps the last good version.
func pluginDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("plugin dev", flag.ContinueOnError)
	flags.SetOutput(stderr)
	def := config.Default()
	dataDir := flags.String("data-dir", def.DataDir, "the server's data directory")
	pluginsDir := flags.String("plugins-dir", "", "the server's plugins folder (default <data-dir>/plugins)")
	if err := flags.Parse(reorderFlags(args)); err != nil || flags.NArg() != 1 {
		fmt.Fprint(stderr, "usage: cortex plugin dev <dir> [--plugins-dir dir | --data-dir dir]\n")
		return errUsage
	}
	dir := flags.Arg(0)
	if *pluginsDir == "" {
		if v := os.Getenv("CORTEX_PLUGINS_DIR"); v != "" {
			*pluginsDir = v
		} else {
			*pluginsDir = filepath.Join(*dataDir, "plugins")
		}
	}
	if err := os.MkdirAll(*pluginsDir, 0o755); err != nil {
		return err
	}
	rebuild := func() {
		start := time.Now()
		path, d, err := buildPlugin(ctx, dir, filepath.Join(os.TempDir(), fmt.Sprintf("cortex-dev-%d.wasm", os.Getpid())))
		if err != nil {
			fmt.Fprintf(stderr, "%s build failed: %v\n", time.Now().Format("15:04:05"), err)
			return
		}
		dst := filepath.Join(*pluginsDir, d.Name+".wasm")
		data, err := os.ReadFile(path)
		if err == nil {
			err = os.WriteFile(dst+".tmp", data, 0o644)
		}
		if err == nil {
			err = os.Rename(dst+".tmp", dst)
		}
		if err != nil {
			fmt.Fprintf(stderr, "install %s: %v\n", dst, err)
			return
		}
		fmt.Fprintf(stdout, "%s built %s %s in %s -> %s\n", time.Now().Format("15:04:05"), d.Name, d.Version,
			time.Since(start).Round(time.Millisecond), dst)
	}
	rebuild()

	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && (p == dir || !strings.HasPrefix(d.Name(), ".")) {
			return w.Add(p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "watching %s (Ctrl-C to stop)\n", dir)
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-w.Events:
			if strings.HasSuffix(ev.Name, ".go") || strings.HasSuffix(ev.Name, "go.mod") {
				timer = time.After(300 * time.Millisecond)
			}
		case err := <-w.Errors:
			fmt.Fprintln(stderr, "watch:", err)
		case <-timer:
			timer = nil
			rebuild()
		}
	}
}
