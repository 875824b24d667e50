//go:build !wasip1

// Command compare measures the two candidate main-content libraries for extract-html,
// go-readability and go-trafilatura, on two public page sets, each biased toward one of
// them:
//
//   - go-readability's test-pages: ~135 real pages whose expected.html is Readability.js
//     output. Scored by token-level precision/recall/F1 against expected.html's text.
//   - go-trafilatura's comparison set: ~950 real pages hand-annotated with snippets that
//     must ("with") and must not ("without") appear in the extracted text. Scored the way
//     trafilatura's own scripts/comparison does.
//
// It is a separate module under testdata so that the library we did not choose never
// enters Cortex's go.mod. It reads both sets from the module cache; nothing is copied.
//
//	cd plugins/extract-html/testdata/compare && GOFLAGS=-mod=mod go run . score
//	cd plugins/extract-html/testdata/compare && GOFLAGS=-mod=mod go run . wasm
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	nurl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	readability "codeberg.org/readeck/go-readability/v2"
	"codeberg.org/readeck/go-readability/v2/render"
	trafilatura "github.com/markusmobius/go-trafilatura"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"golang.org/x/net/html"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: compare score [-limit N] [-only NAME] [-v] | compare wasm [-pages N] | compare show EXTRACTOR FILE")
	}
	if len(os.Args) < 2 {
		flag.Usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "score":
		err = score(os.Args[2:])
	case "wasm":
		err = wasm(os.Args[2:])
	case "show":
		err = show(os.Args[2:])
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// extractor returns the article text of page (HTML) at pageURL.
type extractor struct {
	name string
	run  func(page []byte, pageURL *nurl.URL) (string, error)
}

var extractors = []extractor{
	{"go-readability", func(page []byte, u *nurl.URL) (string, error) {
		a, err := readability.FromReader(bytes.NewReader(page), u)
		if err != nil || a.Node == nil {
			return "", err
		}
		return render.InnerText(a.Node), nil
	}},
	{"go-trafilatura", func(page []byte, u *nurl.URL) (string, error) {
		r, err := trafilatura.Extract(bytes.NewReader(page), trafilatura.Options{OriginalURL: u, ExcludeComments: true})
		if err != nil || r == nil {
			return "", err
		}
		return r.ContentText, nil
	}},
	{"go-trafilatura+fallback", func(page []byte, u *nurl.URL) (string, error) {
		r, err := trafilatura.Extract(bytes.NewReader(page), trafilatura.Options{OriginalURL: u, ExcludeComments: true, EnableFallback: true})
		if err != nil || r == nil {
			return "", err
		}
		return r.ContentText, nil
	}},
}

// show prints one extractor's text for one HTML file, for reading by eye.
func show(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("show wants an extractor name and a file")
	}
	page, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	u, _ := nurl.Parse("http://fakehost/test/page.html")
	for _, ex := range extractors {
		if ex.name == args[0] {
			text, err := ex.run(page, u)
			fmt.Println(text)
			return err
		}
	}
	return fmt.Errorf("no extractor %q", args[0])
}

func moduleDir(path string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		return "", fmt.Errorf("locate %s: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func score(args []string) error {
	fs := flag.NewFlagSet("score", flag.ExitOnError)
	limit := fs.Int("limit", 0, "score only the first N pages of each set (0: all)")
	only := fs.String("only", "", "score only this extractor")
	verbose := fs.Bool("v", false, "print per-page F1 on the readability set")
	fs.Parse(args)

	rdir, err := moduleDir("codeberg.org/readeck/go-readability/v2")
	if err != nil {
		return err
	}
	tdir, err := moduleDir("github.com/markusmobius/go-trafilatura")
	if err != nil {
		return err
	}
	rpages, err := readabilityPages(filepath.Join(rdir, "test-pages"), *limit)
	if err != nil {
		return err
	}
	tpages, err := trafilaturaPages(tdir, *limit)
	if err != nil {
		return err
	}
	fmt.Printf("readability test-pages: %d pages; trafilatura comparison: %d pages\n\n", len(rpages), len(tpages))
	fmt.Println("| library | R-set P | R-set R | R-set F1 | R-set F1<0.5 | R-set empty | T-set P | T-set R | T-set F1 | T-set acc | ms/page |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, ex := range extractors {
		if *only != "" && ex.name != *only {
			continue
		}
		var sp, sr, sf float64
		var bad, empty int
		var elapsed time.Duration
		var perPage []string
		for _, p := range rpages {
			start := time.Now()
			text, _ := ex.run(p.source, p.url)
			elapsed += time.Since(start)
			pr, rc, f1 := prf(tokens(text), p.expected)
			if strings.TrimSpace(text) == "" {
				empty++
			}
			if f1 < 0.5 {
				bad++
			}
			sp, sr, sf = sp+pr, sr+rc, sf+f1
			perPage = append(perPage, fmt.Sprintf("%s %.3f %.3f %.3f", p.name, pr, rc, f1))
		}
		n := float64(len(rpages))
		var tp, fn, fp, tn float64
		for _, p := range tpages {
			start := time.Now()
			text, _ := ex.run(p.source, p.url)
			elapsed += time.Since(start)
			var pageTP, pageFP int
			for _, s := range p.with {
				if text != "" && strings.Contains(text, s) {
					pageTP++
				}
			}
			for _, s := range p.without {
				if text != "" && strings.Contains(text, s) {
					pageFP++
				}
			}
			tp, fn = tp+float64(pageTP), fn+float64(len(p.with)-pageTP)
			fp, tn = fp+float64(pageFP), tn+float64(len(p.without)-pageFP)
			perPage = append(perPage, fmt.Sprintf("T %s with %d/%d without %d/%d", p.file, pageTP, len(p.with), pageFP, len(p.without)))
		}
		ms := float64(elapsed.Microseconds()) / 1000 / float64(len(rpages)+len(tpages))
		fmt.Printf("| %s | %.3f | %.3f | %.3f | %d | %d | %.3f | %.3f | %.3f | %.3f | %.1f |\n",
			ex.name, sp/n, sr/n, sf/n, bad, empty,
			tp/(tp+fp), tp/(tp+fn), 2*tp/(2*tp+fp+fn), (tp+tn)/(tp+tn+fp+fn), ms)
		if *verbose {
			for _, l := range perPage {
				fmt.Println("   ", l)
			}
		}
		runtime.GC()
	}
	return nil
}

type rpage struct {
	name     string
	url      *nurl.URL
	source   []byte
	expected []string
}

func readabilityPages(dir string, limit int) ([]rpage, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var pages []rpage
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, e.Name(), "source.html"))
		if err != nil {
			continue
		}
		exp, err := os.ReadFile(filepath.Join(dir, e.Name(), "expected.html"))
		if err != nil {
			continue
		}
		// The upstream tests use this URL for every page.
		u, _ := nurl.Parse("http://fakehost/test/page.html")
		pages = append(pages, rpage{name: e.Name(), url: u, source: src, expected: tokens(htmlText(exp))})
		if limit > 0 && len(pages) == limit {
			break
		}
	}
	return pages, nil
}

func htmlText(page []byte) string {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return ""
	}
	return render.InnerText(doc)
}

type tpage struct {
	file    string
	url     *nurl.URL
	source  []byte
	with    []string
	without []string
}

// trafilaturaPages reads the annotations straight out of trafilatura's
// scripts/comparison/data.go (a Go map literal) rather than copying them.
func trafilaturaPages(dir string, limit int) ([]tpage, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(dir, "scripts", "comparison", "data.go"), nil, 0)
	if err != nil {
		return nil, fmt.Errorf("parse trafilatura comparison data: %w", err)
	}
	var pages []tpage
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		key, ok := kv.Key.(*ast.BasicLit)
		if !ok || key.Kind != token.STRING {
			return true
		}
		val, ok := kv.Value.(*ast.CompositeLit)
		if !ok {
			return true
		}
		rawURL, _ := strconv.Unquote(key.Value)
		var file string
		var with, without []string
		for _, el := range val.Elts {
			field, ok := el.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			name, _ := field.Key.(*ast.Ident)
			if name == nil {
				continue
			}
			switch name.Name {
			case "File":
				if lit, ok := field.Value.(*ast.BasicLit); ok {
					file, _ = strconv.Unquote(lit.Value)
				}
			case "With", "Without":
				list, ok := field.Value.(*ast.CompositeLit)
				if !ok {
					continue
				}
				for _, s := range list.Elts {
					if lit, ok := s.(*ast.BasicLit); ok {
						v, _ := strconv.Unquote(lit.Value)
						if name.Name == "With" {
							with = append(with, v)
						} else {
							without = append(without, v)
						}
					}
				}
			}
		}
		if file == "" {
			return false
		}
		var src []byte
		for _, sub := range []string{"comparison", "mock"} {
			if b, err := os.ReadFile(filepath.Join(dir, "test-files", sub, file)); err == nil {
				src = b
				break
			}
		}
		u, err := nurl.Parse(rawURL)
		if src == nil || err != nil {
			return false
		}
		pages = append(pages, tpage{file: file, url: u, source: src, with: with, without: without})
		return false
	})
	sort.Slice(pages, func(i, j int) bool { return pages[i].url.String() < pages[j].url.String() })
	if limit > 0 && len(pages) > limit {
		pages = pages[:limit]
	}
	return pages, nil
}

// tokens splits text into lowercase words; Han, kana and Hangul count one token per
// character, since those scripts do not separate words with spaces.
func tokens(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
			flush()
			out = append(out, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			cur.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// prf is bag-of-words precision, recall and F1 of got against want.
func prf(got, want []string) (p, r, f1 float64) {
	if len(got) == 0 && len(want) == 0 {
		return 1, 1, 1
	}
	counts := map[string]int{}
	for _, t := range want {
		counts[t]++
	}
	common := 0
	for _, t := range got {
		if counts[t] > 0 {
			counts[t]--
			common++
		}
	}
	if len(got) > 0 {
		p = float64(common) / float64(len(got))
	}
	if len(want) > 0 {
		r = float64(common) / float64(len(want))
	}
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return p, r, f1
}

// wasm builds one wasip1 guest per library and runs it in wazero (the runtime Cortex
// uses), timing compilation and each call on a few pages.
func wasm(args []string) error {
	fs := flag.NewFlagSet("wasm", flag.ExitOnError)
	pages := fs.Int("pages", 20, "pages from readability's test-pages to run through each guest")
	only := fs.String("names", "", "comma-separated test-pages to run instead of the first -pages")
	libs := fs.String("libs", "readability,trafilatura", "comma-separated guests to run")
	fs.Parse(args)

	rdir, err := moduleDir("codeberg.org/readeck/go-readability/v2")
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(rdir, "test-pages"))
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
		if len(names) == *pages {
			break
		}
	}
	if *only != "" {
		names = strings.Split(*only, ",")
	}
	tmp, err := os.MkdirTemp("", "compare-wasm")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Println("| library | wasm size | compile (wazero, cold) | start-up (init) | first call | later calls (median) |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, lib := range strings.Split(*libs, ",") {
		out := filepath.Join(tmp, lib+".wasm")
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./guest/"+lib)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s guest: %w", lib, err)
		}
		bin, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		ctx := context.Background()
		rt := wazero.NewRuntime(ctx)
		wasi_snapshot_preview1.MustInstantiate(ctx, rt)
		start := time.Now()
		mod, err := rt.CompileModule(ctx, bin)
		if err != nil {
			return fmt.Errorf("compile %s guest: %w", lib, err)
		}
		compile := time.Since(start)
		var stdout bytes.Buffer
		cfg := wazero.NewModuleConfig().
			WithStdout(&stdout).WithStderr(os.Stderr).
			WithFSConfig(wazero.NewFSConfig().WithReadOnlyDirMount(filepath.Join(rdir, "test-pages"), "/pages")).
			WithArgs(append([]string{lib}, names...)...).
			WithSysNanotime().WithSysWalltime()
		start = time.Now()
		if _, err := rt.InstantiateModule(ctx, mod, cfg); err != nil {
			return fmt.Errorf("run %s guest: %w", lib, err)
		}
		total := float64(time.Since(start).Microseconds()) / 1000
		rt.Close(ctx)
		fmt.Fprintf(os.Stderr, "%s per-page ms: %s\n", lib, strings.Join(strings.Fields(stdout.String()), " "))
		var times []float64
		for _, l := range strings.Fields(stdout.String()) {
			if v, err := strconv.ParseFloat(l, 64); err == nil {
				times = append(times, v)
			}
		}
		if len(times) < 2 {
			return fmt.Errorf("%s guest printed %q", lib, stdout.String())
		}
		calls := 0.0
		for _, t := range times {
			calls += t
		}
		later := append([]float64(nil), times[1:]...)
		sort.Float64s(later)
		fmt.Printf("| %s | %.1f MB | %.1f s | %.0f ms | %.0f ms | %.0f ms |\n", lib, float64(len(bin))/(1<<20),
			compile.Seconds(), total-calls, times[0], later[len(later)/2])
	}
	return nil
}
