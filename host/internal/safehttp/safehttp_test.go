package safehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cortexhq/cortex/sdk/abi"
)

// fakeNet stands in for DNS and for dialling so that no test ever leaves the machine:
// names resolve only from hosts, and only loopback addresses or the routes (a made-up
// public address → a local test server) are ever dialled. Anything else fails the test.
type fakeNet struct {
	t      testing.TB
	mu     sync.Mutex
	hosts  map[string][]netip.Addr
	routes map[string]string
	dialed []string
}

func (f *fakeNet) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ips, ok := f.hosts[strings.TrimSuffix(strings.ToLower(host), ".")]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (f *fakeNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	f.mu.Lock()
	f.dialed = append(f.dialed, addr)
	to, routed := f.routes[addr]
	f.mu.Unlock()
	if !routed {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || !ap.Addr().IsLoopback() {
			f.t.Errorf("dial to %s: tests may only dial loopback or routed addresses", addr)
			return nil, fmt.Errorf("fake dial refused %s", addr)
		}
		to = addr
	}
	var d net.Dialer
	return d.DialContext(ctx, network, to)
}

func (f *fakeNet) dials() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.dialed...)
}

func newTestClient(t testing.TB, p Policy) (*Client, *fakeNet) {
	t.Helper()
	fn := &fakeNet{t: t, hosts: map[string][]netip.Addr{}, routes: map[string]string{}}
	c := New(p)
	c.resolver = fn
	c.dial = fn.dial
	t.Cleanup(c.CloseIdleConnections)
	return c, fn
}

// server is an httptest server on 127.0.0.1 counting the requests it answers.
type server struct {
	*httptest.Server
	hits atomic.Int32
}

func newServer(t testing.TB, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) hostPort() string { return strings.TrimPrefix(s.URL, "http://") }

func (s *server) port() string {
	_, p, _ := net.SplitHostPort(s.hostPort())
	return p
}

func ok(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }

func loopback() Policy { return Policy{AllowedHosts: []string{"127.0.0.1"}} }

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func TestHostMatching(t *testing.T) {
	cases := []struct {
		entry string
		url   string
		want  bool
	}{
		{"api.example.com", "https://api.example.com/x", true},
		{"api.example.com", "https://API.Example.COM/x", true},
		{"API.EXAMPLE.COM", "https://api.example.com/x", true},
		{"api.example.com", "https://api.example.com./x", true},
		{"api.example.com", "https://api.example.com:8443/x", true},
		{"api.example.com", "https://example.com/", false},
		{"api.example.com", "https://xapi.example.com/", false},
		{"api.example.com", "https://a.api.example.com/", false},
		{"api.example.com", "https://api.example.com.evil.org/", false},

		{"*.example.org", "https://a.example.org/", true},
		{"*.example.org", "https://b.a.example.org/", true},
		{"*.Example.ORG", "https://A.example.org/", true},
		{"*.example.org", "https://example.org/", false},
		{"*.example.org", "https://evilexample.org/", false},
		{"*.example.org", "https://a.example.org.evil.net/", false},
		{"*.example.org", "https://a..example.org/", false},
		{"a.*.example.com", "https://a.b.example.com/", true},
		{"a.*.example.com", "https://a.b.c.example.com/", false},
		{"a.*.example.com", "https://a.example.com/", false},

		{"127.0.0.1:8080", "http://127.0.0.1:8080/", true},
		{"127.0.0.1:8080", "http://127.0.0.1:8081/", false},
		{"127.0.0.1:8080", "http://127.0.0.1/", false},
		{"127.0.0.1", "http://127.0.0.1:9999/", true},
		{"127.0.0.1", "http://127.0.0.2/", false},
		{"example.com:443", "https://example.com/", true},
		{"example.com:443", "http://example.com/", false},
		{"localhost:8080", "http://LOCALHOST:8080/", true},
		{"localhost:8080", "http://localhost:8081/", false},
		{"[::1]", "http://[::1]:9/", true},
		{"::1", "http://[::1]/", true},
		{"[::1]:8080", "http://[::1]:8080/", true},
		{"[::1]:8080", "http://[::1]:8081/", false},
		{"[::1]", "http://[::2]/", false},

		// A glob never stands for an IP literal, but a lone "*" stands for everything.
		{"*.0.0.1", "http://127.0.0.1/", false},
		{"*", "http://127.0.0.1/", true},
		{"*", "https://anything.example/", true},
		{"*:8443", "https://anything.example:8443/", true},
		{"*:8443", "https://anything.example/", false},

		// Malformed entries match nothing, rather than something surprising.
		{"https://example.com", "https://example.com/", false},
		{"api-*.example.com", "https://api-1.example.com/", false},
		{"*example.org", "https://evilexample.org/", false},
		{"example.com:0", "https://example.com:0/", false},
		{"", "https://example.com/", false},
	}
	for _, tc := range cases {
		c := New(Policy{AllowedHosts: []string{tc.entry}})
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		err = c.checkURL(u)
		if got := err == nil; got != tc.want {
			t.Errorf("entry %q, url %s: allowed = %v (%v), want %v", tc.entry, tc.url, got, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrHostNotAllowed) {
			t.Errorf("entry %q, url %s: err = %v, want ErrHostNotAllowed", tc.entry, tc.url, err)
		}
	}

	if err := New(Policy{}).checkURL(&url.URL{Scheme: "https", Host: "example.com"}); !errors.Is(err, ErrHostNotAllowed) {
		t.Errorf("empty AllowedHosts allowed a host: %v", err)
	}
}

func TestValidate(t *testing.T) {
	good := Policy{AllowedHosts: []string{"a.example", "*.b.example", "c.example:8080", "127.0.0.1:1", "[::1]:2", "::1", "localhost", "*"}}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
	for _, entry := range []string{"", "https://a.example", "a.example/path", "user@a.example", "api-*.example", "a..example", "a.example:99999", "a.example:x", "[127.0.0.1]", "::1:80:x:y:z:w:v", "ex ample.com"} {
		if err := (Policy{AllowedHosts: []string{entry}}).Validate(); err == nil {
			t.Errorf("Validate(%q) = nil, want an error", entry)
		}
	}
}

func TestFetchResponse(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/go" {
			http.Redirect(w, r, "/missing?q=1", http.StatusFound)
			return
		}
		w.Header().Add("x-multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "not here: "+r.Method)
	})
	c, _ := newTestClient(t, loopback())
	resp, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL + "/go"})
	if err != nil {
		t.Fatalf("a 404 must be a response, not an error: %v", err)
	}
	if resp.Status != http.StatusNotFound {
		t.Errorf("status = %d", resp.Status)
	}
	if got := resp.Headers["X-Multi"]; got != "a, b" {
		t.Errorf("X-Multi = %q, want %q (headers %v)", got, "a, b", resp.Headers)
	}
	if string(resp.Body) != "not here: GET" {
		t.Errorf("body = %q; an empty method must default to GET", resp.Body)
	}
	if want := s.URL + "/missing?q=1"; resp.FinalURL != want {
		t.Errorf("final url = %q, want %q", resp.FinalURL, want)
	}
}

func TestMethods(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	})
	c, _ := newTestClient(t, loopback())
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "post"} {
		resp, err := c.Fetch(t.Context(), abi.HTTPRequest{Method: m, URL: s.URL, Body: []byte("payload")})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if got := resp.Headers["X-Method"]; got != strings.ToUpper(m) {
			t.Errorf("%s: server saw %q", m, got)
		}
		if m == "POST" && string(resp.Body) != "payload" {
			t.Errorf("POST body echoed as %q", resp.Body)
		}
	}
	before := s.hits.Load()
	for _, m := range []string{"TRACE", "CONNECT", "OPTIONS", "PROPFIND", "GET\r\nX: y"} {
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{Method: m, URL: s.URL})
		wantErr(t, err, ErrBadRequest)
	}
	if s.hits.Load() != before {
		t.Error("a refused method reached the server")
	}
}

func TestBadURLs(t *testing.T) {
	c, _ := newTestClient(t, Policy{AllowedHosts: []string{"*"}})
	for _, u := range []string{
		"ftp://example.com/x",
		"file:///etc/passwd",
		"gopher://example.com/",
		"ws://example.com/",
		"//example.com/",
		"example.com/x",
		"http:example.com",
		"http:///path",
		"https://user:pass@example.com/",
		"https://exämple.com/",
		"http://exa mple.com/",
		"",
	} {
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: u})
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("%q: err = %v, want ErrBadRequest", u, err)
		}
	}
}

func TestErrorsHideQuery(t *testing.T) {
	c, _ := newTestClient(t, Policy{AllowedHosts: []string{"a.example"}})
	_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: "https://b.example/p?api_key=SECRET"})
	wantErr(t, err, ErrHostNotAllowed)
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error leaks the query: %v", err)
	}
	if !strings.Contains(err.Error(), "b.example") {
		t.Errorf("error does not name the host: %v", err)
	}
}

func TestRequestHeaders(t *testing.T) {
	type seen struct {
		host   string
		header http.Header
	}
	got := make(chan seen, 1)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Host, r.Header.Clone()}
	})
	c, _ := newTestClient(t, Policy{AllowedHosts: []string{"127.0.0.1"}, UserAgent: "policy-agent"})

	_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL, Headers: map[string]string{
		"x-custom":            "yes",
		"Authorization":       "Bearer plugin-token",
		"Host":                "evil.example",
		"Connection":          "x-custom",
		"Keep-Alive":          "timeout=5",
		"Proxy-Authorization": "Basic c2VjcmV0",
		"Upgrade":             "websocket",
		"TE":                  "trailers",
		"Trailer":             "X-T",
		"Proxy-Connection":    "keep-alive",
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.host != s.hostPort() {
		t.Errorf("server saw Host %q, want %q", r.host, s.hostPort())
	}
	if r.header.Get("X-Custom") != "yes" || r.header.Get("Authorization") != "Bearer plugin-token" {
		t.Errorf("plugin headers not forwarded: %v", r.header)
	}
	for _, h := range []string{"Keep-Alive", "Proxy-Authorization", "Upgrade", "Te", "Trailer", "Proxy-Connection"} {
		if v := r.header.Values(h); len(v) > 0 {
			t.Errorf("hop-by-hop %s forwarded: %q", h, v)
		}
	}
	if v := r.header.Get("Connection"); strings.Contains(strings.ToLower(v), "x-custom") {
		t.Errorf("plugin's Connection header forwarded: %q", v)
	}
	if ua := r.header.Get("User-Agent"); ua != "policy-agent" {
		t.Errorf("User-Agent = %q, want the policy's", ua)
	}

	if _, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL, Headers: map[string]string{"user-agent": "mine/2"}}); err != nil {
		t.Fatal(err)
	}
	if ua := (<-got).header.Get("User-Agent"); ua != "mine/2" {
		t.Errorf("User-Agent = %q, want the plugin's own", ua)
	}

	d, _ := newTestClient(t, loopback())
	if _, err := d.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL}); err != nil {
		t.Fatal(err)
	}
	if ua := (<-got).header.Get("User-Agent"); ua != DefaultUserAgent {
		t.Errorf("User-Agent = %q, want %q", ua, DefaultUserAgent)
	}

	hits := s.hits.Load()
	for _, h := range []map[string]string{
		{"X-Evil": "a\r\nX-Injected: b"},
		{"X-Evil": "a\nb"},
		{"X-Evil": "nul\x00"},
		{"Bad Name": "v"},
		{"Bad:Name": "v"},
		{"": "v"},
	} {
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL, Headers: h})
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("headers %q: err = %v, want ErrBadRequest", h, err)
		}
	}
	if s.hits.Load() != hits {
		t.Error("a request with invalid headers reached the server")
	}
}

func TestNoCookiesNoProxy(t *testing.T) {
	var cookies []string
	var mu sync.Mutex
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cookies = append(cookies, r.Header.Get("Cookie"))
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cret", Path: "/"})
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/next", http.StatusFound)
		}
	})
	c, _ := newTestClient(t, loopback())
	for range 2 {
		if _, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(cookies) != 4 {
		t.Fatalf("server saw %d requests, want 4", len(cookies))
	}
	for i, ck := range cookies {
		if ck != "" {
			t.Errorf("request %d carried Cookie %q; the client must keep no jar", i, ck)
		}
	}
	if c.client.Jar != nil {
		t.Error("client has a cookie jar")
	}
	if c.transport.Proxy != nil {
		t.Error("transport takes a proxy; it must dial itself so the address check holds")
	}
	if New(loopback()).transport == c.transport {
		t.Error("clients share a transport")
	}
}

func TestRedirects(t *testing.T) {
	// /n redirects to /n-1 until /0.
	chain := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if n > 0 {
			http.Redirect(w, r, "/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		io.WriteString(w, "end")
	})
	c, _ := newTestClient(t, loopback())

	t.Run("five are followed", func(t *testing.T) {
		resp, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: chain.URL + "/5"})
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Body) != "end" || resp.FinalURL != chain.URL+"/0" {
			t.Errorf("body %q, final url %q", resp.Body, resp.FinalURL)
		}
	})
	t.Run("six are not", func(t *testing.T) {
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: chain.URL + "/6"})
		wantErr(t, err, ErrTooManyRedirects)
	})

	target := newServer(t, ok)
	redirector := func(to string) *server {
		return newServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, to, http.StatusFound)
		})
	}

	t.Run("to another allowed host", func(t *testing.T) {
		from := redirector(target.URL + "/landed")
		resp, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: from.URL})
		if err != nil {
			t.Fatal(err)
		}
		if resp.FinalURL != target.URL+"/landed" || string(resp.Body) != "ok" {
			t.Errorf("final url %q body %q", resp.FinalURL, resp.Body)
		}
	})

	t.Run("to a host not allowed", func(t *testing.T) {
		from := redirector(target.URL + "/x")
		pinned, _ := newTestClient(t, Policy{AllowedHosts: []string{from.hostPort()}})
		hits := target.hits.Load()
		_, err := pinned.Fetch(t.Context(), abi.HTTPRequest{URL: from.URL})
		wantErr(t, err, ErrHostNotAllowed)
		if !strings.Contains(err.Error(), target.hostPort()) {
			t.Errorf("error does not name the refused host %s: %v", target.hostPort(), err)
		}
		if target.hits.Load() != hits {
			t.Error("the disallowed host was reached")
		}
	})

	t.Run("to a name not allowed", func(t *testing.T) {
		from := redirector("http://evil.example/steal")
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: from.URL})
		wantErr(t, err, ErrHostNotAllowed)
		if !strings.Contains(err.Error(), "evil.example") {
			t.Errorf("error does not name evil.example: %v", err)
		}
	})

	t.Run("to another scheme", func(t *testing.T) {
		from := redirector("file:///etc/passwd")
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: from.URL})
		wantErr(t, err, ErrBadRequest)
	})

	t.Run("to an allowed name that resolves privately", func(t *testing.T) {
		c, fn := newTestClient(t, Policy{AllowedHosts: []string{"127.0.0.1", "*.example"}})
		fn.hosts["rebind.example"] = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		from := redirector("http://rebind.example:" + target.port() + "/x")
		hits := target.hits.Load()
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: from.URL})
		wantErr(t, err, ErrPrivateAddress)
		if target.hits.Load() != hits {
			t.Error("the private address was reached")
		}
	})
}

func TestPrivateAddresses(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Host) })
	port := s.port()

	t.Run("explicit 127.0.0.1 is allowed", func(t *testing.T) {
		c, _ := newTestClient(t, loopback())
		if _, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("explicit localhost is allowed", func(t *testing.T) {
		c, fn := newTestClient(t, Policy{AllowedHosts: []string{"localhost:" + port}})
		fn.hosts["localhost"] = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		if _, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: "http://localhost:" + port + "/"}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("localhost grants loopback only", func(t *testing.T) {
		c, fn := newTestClient(t, Policy{AllowedHosts: []string{"localhost"}})
		fn.hosts["localhost"] = []netip.Addr{netip.MustParseAddr("10.1.2.3")}
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: "http://localhost:" + port + "/"})
		wantErr(t, err, ErrPrivateAddress)
	})

	t.Run("a public name resolving to loopback is refused", func(t *testing.T) {
		c, fn := newTestClient(t, Policy{AllowedHosts: []string{"public.example"}})
		fn.hosts["public.example"] = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		hits := s.hits.Load()
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: "http://public.example:" + port + "/"})
		wantErr(t, err, ErrPrivateAddress)
		if !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("error does not name the address: %v", err)
		}
		if s.hits.Load() != hits || len(fn.dials()) != 0 {
			t.Errorf("dialled %v", fn.dials())
		}
	})

	t.Run("one private answer among public ones refuses the name", func(t *testing.T) {
		c, fn := newTestClient(t, Policy{AllowedHosts: []string{"*.example"}})
		fn.hosts["mixed.example"] = []netip.Addr{netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("127.0.0.1")}
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: "http://mixed.example:" + port + "/"})
		wantErr(t, err, ErrPrivateAddress)
		if d := fn.dials(); len(d) != 0 {
			t.Errorf("dialled %v", d)
		}
	})

	t.Run("IPv4-mapped loopback is refused", func(t *testing.T) {
		c, fn := newTestClient(t, Policy{AllowedHosts: []string{"public.example"}})
		fn.hosts["public.example"] = []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: "http://public.example:" + port + "/"})
		wantErr(t, err, ErrPrivateAddress)
	})

	t.Run("a wildcard does not grant a literal private address", func(t *testing.T) {
		c, fn := newTestClient(t, Policy{AllowedHosts: []string{"*"}})
		_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL})
		wantErr(t, err, ErrPrivateAddress)
		if d := fn.dials(); len(d) != 0 {
			t.Errorf("dialled %v", d)
		}
	})

	t.Run("an explicit literal beside a wildcard still grants", func(t *testing.T) {
		c, _ := newTestClient(t, Policy{AllowedHosts: []string{"*", "127.0.0.1:" + port}})
		if _, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a public name is dialled at its checked address", func(t *testing.T) {
		c, fn := newTestClient(t, Policy{AllowedHosts: []string{"public.example"}})
		// The first address is dead; the dialer must move on to the second.
		fn.hosts["public.example"] = []netip.Addr{netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("203.0.113.10")}
		dead := newServer(t, ok)
		deadAddr := dead.hostPort()
		dead.Close()
		fn.routes["203.0.113.9:"+port] = deadAddr
		fn.routes["203.0.113.10:"+port] = s.hostPort()
		resp, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: "http://public.example:" + port + "/"})
		if err != nil {
			t.Fatal(err)
		}
		if want := "public.example:" + port; string(resp.Body) != want {
			t.Errorf("server saw Host %q, want %q", resp.Body, want)
		}
		if d := fn.dials(); len(d) != 2 || d[0] != "203.0.113.9:"+port || d[1] != "203.0.113.10:"+port {
			t.Errorf("dialled %v", d)
		}
	})
}

func TestIsPublic(t *testing.T) {
	private := []string{
		"127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "0.0.0.0", "0.1.2.3", "100.64.0.1", "100.127.255.254",
		"224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
		"::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0", "fd00::1%eth0",
		"ff02::1", "ff05::2", "fec0::1", "fec0::1%eth0", "64:ff9b::7f00:1%eth0",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
		"64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::1", "2002:7f00:1::", "2002:a00:1::1", "2001:0:4136:e378::1",
	}
	public := []string{
		"1.1.1.1", "8.8.8.8", "93.184.215.14", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0",
		"192.169.0.1", "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808",
		"2002:808:808::1",
	}
	for _, s := range private {
		if isPublic(netip.MustParseAddr(s)) {
			t.Errorf("isPublic(%s) = true", s)
		}
	}
	for _, s := range public {
		if !isPublic(netip.MustParseAddr(s)) {
			t.Errorf("isPublic(%s) = false", s)
		}
	}
}

func TestMaxBytes(t *testing.T) {
	const limit = 1000
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Has("chunked") {
			// Flushing before writing hides the length, so only counting can catch it.
			w.(http.Flusher).Flush()
		} else {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		if r.Method != http.MethodHead {
			w.Write([]byte(strings.Repeat("x", n)))
		}
	})
	c, _ := newTestClient(t, Policy{AllowedHosts: []string{"127.0.0.1"}, MaxBytes: limit, RequestsPerMinute: 1 << 30})
	fetch := func(method, query string, maxBytes int64) (abi.HTTPResponse, error) {
		return c.Fetch(t.Context(), abi.HTTPRequest{Method: method, URL: s.URL + "/?" + query, MaxBytes: maxBytes})
	}
	for _, mode := range []string{"", "&chunked"} {
		resp, err := fetch("GET", "n=1000"+mode, 0)
		if err != nil || len(resp.Body) != limit {
			t.Errorf("%s exactly the limit: %d bytes, %v", mode, len(resp.Body), err)
		}
		_, err = fetch("GET", "n=1001"+mode, 0)
		wantErr(t, err, ErrTooLarge)
		_, err = fetch("GET", "n=600"+mode, 500)
		wantErr(t, err, ErrTooLarge)
		resp, err = fetch("GET", "n=500"+mode, 500)
		if err != nil || len(resp.Body) != 500 {
			t.Errorf("%s request's own limit: %d bytes, %v", mode, len(resp.Body), err)
		}
		_, err = fetch("GET", "n=1001"+mode, 1<<30)
		wantErr(t, err, ErrTooLarge) // the request may not raise the policy's cap
	}
	resp, err := fetch("HEAD", "n=5000", 0)
	if err != nil || resp.Status != 200 || len(resp.Body) != 0 {
		t.Errorf("HEAD of a large resource: %d, %d bytes, %v", resp.Status, len(resp.Body), err)
	}
	resp, err = fetch("GET", "n=0", 0)
	if err != nil || resp.Body == nil || resp.Headers == nil {
		t.Errorf("empty body: %#v, %v; want a non-nil empty body and headers", resp, err)
	}
}

// hang answers after a deliberate stall, writing part of a body first when asked, and
// gives up when the client does so that server shutdown never waits.
func hang(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("partial") {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "part")
		w.(http.Flusher).Flush()
	}
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

func TestTimeouts(t *testing.T) {
	s := newServer(t, hang)
	cases := []struct {
		name      string
		policy    time.Duration
		requestMS int
		query     string
	}{
		{"policy timeout", 50 * time.Millisecond, 0, ""},
		{"policy timeout covers the body", 50 * time.Millisecond, 0, "?partial"},
		{"request may lower it", 10 * time.Second, 50, ""},
		{"request may not raise it", 50 * time.Millisecond, 60_000, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestClient(t, Policy{AllowedHosts: []string{"127.0.0.1"}, Timeout: tc.policy})
			start := time.Now()
			_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL + tc.query, TimeoutMS: tc.requestMS})
			wantErr(t, err, context.DeadlineExceeded)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if ErrorCode(err) != abi.ErrLimit {
				t.Errorf("ErrorCode = %q", ErrorCode(err))
			}
		})
	}
}

func TestContextCancel(t *testing.T) {
	arrived := make(chan struct{}, 1)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		hang(w, r)
	})
	c, _ := newTestClient(t, loopback())
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, err := c.Fetch(ctx, abi.HTTPRequest{URL: s.URL})
	wantErr(t, err, context.Canceled)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancellation took %v", d)
	}

	_, err = c.Fetch(ctx, abi.HTTPRequest{URL: s.URL})
	wantErr(t, err, context.Canceled)
}

func TestRateLimit(t *testing.T) {
	s := newServer(t, ok)
	c, _ := newTestClient(t, loopback())
	for i := range Burst {
		if _, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	start := time.Now()
	_, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL})
	wantErr(t, err, ErrRateLimited)
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("a rate-limited fetch took %v; it must fail fast", d)
	}
	if n := s.hits.Load(); n != Burst {
		t.Errorf("server saw %d requests, want %d", n, Burst)
	}

	// Refused requests are not charged.
	other, _ := newTestClient(t, Policy{AllowedHosts: []string{"127.0.0.1"}, RequestsPerMinute: 3})
	for range 5 {
		_, err := other.Fetch(t.Context(), abi.HTTPRequest{URL: "http://elsewhere.example/"})
		wantErr(t, err, ErrHostNotAllowed)
	}
	// A policy below the burst allows only its own count at once.
	for i := range 3 {
		if _, err := other.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err = other.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL})
	wantErr(t, err, ErrRateLimited)

	// Tokens come back at the policy's rate: 60000 a minute is one a millisecond.
	fast, _ := newTestClient(t, Policy{AllowedHosts: []string{"127.0.0.1"}, RequestsPerMinute: 60_000})
	for fast.limiter.Allow() {
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := fast.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL}); err != nil {
		t.Errorf("no token after 20ms at 1000/s: %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	s := newServer(t, ok)
	c, _ := newTestClient(t, Policy{AllowedHosts: []string{"127.0.0.1"}, RequestsPerMinute: 60_000})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Fetch(t.Context(), abi.HTTPRequest{URL: s.URL}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestErrorCode(t *testing.T) {
	for err, want := range map[error]string{
		nil:                                      "",
		fmt.Errorf("x: %w", ErrHostNotAllowed):   abi.ErrDenied,
		fmt.Errorf("x: %w", ErrPrivateAddress):   abi.ErrDenied,
		fmt.Errorf("x: %w", ErrBadRequest):       abi.ErrInvalid,
		fmt.Errorf("x: %w", ErrTooLarge):         abi.ErrLimit,
		fmt.Errorf("x: %w", ErrRateLimited):      abi.ErrLimit,
		context.DeadlineExceeded:                 abi.ErrLimit,
		fmt.Errorf("x: %w", ErrTooManyRedirects): abi.ErrUnavailable,
		errors.New("connection refused"):         abi.ErrUnavailable,
	} {
		if got := ErrorCode(err); got != want {
			t.Errorf("ErrorCode(%v) = %q, want %q", err, got, want)
		}
	}
}

func BenchmarkFetch(b *testing.B) {
	s := newServer(b, func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 4096))
	})
	c, _ := newTestClient(b, Policy{AllowedHosts: []string{"127.0.0.1"}, RequestsPerMinute: 1 << 30})
	req := abi.HTTPRequest{URL: s.URL + "/doc", Headers: map[string]string{"Accept": "text/html"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Fetch(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
