package store

import (
	"strings"
	"testing"
)

func TestNormalizeURL(t *testing.T) {
	same := []struct {
		name string
		a, b string
	}{
		{"scheme and host case", "HTTPS://Example.COM/Path", "https://example.com/Path"},
		{"trailing slash", "https://example.com/a/b/", "https://example.com/a/b"},
		{"root slash", "https://example.com/", "https://example.com"},
		{"fragment", "https://example.com/a#section-2", "https://example.com/a"},
		{"utm parameters", "https://example.com/a?utm_source=x&utm_medium=y&id=3", "https://example.com/a?id=3"},
		{"click ids", "https://example.com/a?fbclid=abc&gclid=def", "https://example.com/a"},
		{"query order", "https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"},
		{"default port", "https://example.com:443/a", "https://example.com/a"},
		{"http default port", "http://example.com:80/a", "http://example.com/a"},
		{"surrounding space", "  https://example.com/a ", "https://example.com/a"},
		{"userinfo", "https://user:pw@example.com/a", "https://example.com/a"},
	}
	for _, tc := range same {
		t.Run(tc.name, func(t *testing.T) {
			na, okA := NormalizeURL(tc.a)
			nb, okB := NormalizeURL(tc.b)
			if !okA || !okB {
				t.Fatalf("not ok: %q=%v %q=%v", tc.a, okA, tc.b, okB)
			}
			if na != nb {
				t.Errorf("NormalizeURL(%q) = %q, NormalizeURL(%q) = %q; want equal", tc.a, na, tc.b, nb)
			}
		})
	}

	different := []struct{ a, b string }{
		{"https://example.com/a", "https://example.com/b"},
		{"https://example.com/a?id=1", "https://example.com/a?id=2"},
		{"https://example.com/Path", "https://example.com/path"},
		{"http://example.com/a", "https://example.com/a"},
		{"https://example.com:8443/a", "https://example.com/a"},
	}
	for _, tc := range different {
		na, _ := NormalizeURL(tc.a)
		nb, _ := NormalizeURL(tc.b)
		if na == nb {
			t.Errorf("%q and %q both normalise to %q; want different", tc.a, tc.b, na)
		}
	}

	for _, bad := range []string{"", "not a url", "/relative/path", "example.com/a", "://x"} {
		if n, ok := NormalizeURL(bad); ok {
			t.Errorf("NormalizeURL(%q) = %q, ok; want not ok", bad, n)
		}
	}
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{"https://example.com/a?utm_source=x#f", "HTTP://[::1]:80/", "mailto:a@b", "https://a.b/%zz", "http://x/?a=1&a=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n, ok := NormalizeURL(raw)
		if !ok {
			return
		}
		// Normalising is idempotent: the key of a key is itself.
		n2, ok2 := NormalizeURL(n)
		if !ok2 || n2 != n {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", raw, n, n2, ok2)
		}
		if strings.Contains(n, "#") {
			t.Fatalf("fragment kept: %q -> %q", raw, n)
		}
	})
}
