//go:build !wasip1

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The library's own test pages (real pages saved by Readability.js's authors) are read
// from the module cache at test time; fetched pages are never committed here.
const readabilityModule = "codeberg.org/readeck/go-readability/v2"

// testPageURL is the URL the upstream tests give every page.
const testPageURL = "http://fakehost/test/page.html"

var (
	pagesDirOnce sync.Once
	pagesDir     string
	pagesDirErr  error
)

// testPagesDir finds test-pages in the module cache. It fails, not skips: without the
// pages the golden tests would silently test nothing.
func testPagesDir(t testing.TB) string {
	t.Helper()
	pagesDirOnce.Do(func() {
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goBin); err != nil {
			goBin = "go"
		}
		out, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}", readabilityModule).Output()
		if err != nil {
			pagesDirErr = err
			if ee, ok := err.(*exec.ExitError); ok {
				pagesDirErr = &pagesError{err: err, stderr: string(ee.Stderr)}
			}
			return
		}
		dir := strings.TrimSpace(string(out))
		if dir == "" {
			pagesDirErr = os.ErrNotExist
			return
		}
		pagesDir = filepath.Join(dir, "test-pages")
		_, pagesDirErr = os.Stat(pagesDir)
	})
	if pagesDirErr != nil {
		t.Fatalf("cannot find %s's test-pages in the module cache (run `go mod download %s`): %v",
			readabilityModule, readabilityModule, pagesDirErr)
	}
	return pagesDir
}

type pagesError struct {
	err    error
	stderr string
}

func (e *pagesError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.stderr) }

func readPage(t testing.TB, name, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testPagesDir(t), name, file))
	if err != nil {
		t.Fatalf("read test page: %v", err)
	}
	return string(b)
}

// elapsedMS is for reports only; no test asserts on time.
func elapsedMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
