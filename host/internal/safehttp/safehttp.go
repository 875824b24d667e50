package safehttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/cortexhq/cortex/sdk/abi"
)

// Defaults applied to a zero or negative Policy field.
const (
	DefaultMaxBytes          int64 = 10 << 20
	DefaultTimeout                 = 30 * time.Second
	DefaultRequestsPerMinute       = 60
	DefaultUserAgent               = "Cortex/1 (+plugin)"
)

// Burst is how many requests a plugin may make back to back before RequestsPerMinute
// applies; a Policy allowing fewer than Burst per minute gets that many instead, so a
// minute never holds more than the policy says.
const Burst = 10

// MaxRedirects is how many redirects one Fetch follows.
const MaxRedirects = 5

// maxHeaderBytes bounds response headers, which MaxBytes does not cover; without it a
// server could make the host buffer megabytes of headers per request.
const maxHeaderBytes = 1 << 20

// Sentinel errors. Fetch wraps them with the method, URL and the reason; test with
// errors.Is.
var (
	ErrHostNotAllowed   = errors.New("host not allowed")
	ErrPrivateAddress   = errors.New("private or local address not allowed")
	ErrTooLarge         = errors.New("response body too large")
	ErrRateLimited      = errors.New("rate limit exceeded")
	ErrBadRequest       = errors.New("bad request")
	ErrTooManyRedirects = errors.New("too many redirects")
)

// Policy says what one plugin may reach.
type Policy struct {
	// AllowedHosts are host names or globs ("api.example.com", "*.example.org"). Empty
	// means nothing is allowed. Matching ignores case and a trailing dot. A "*" label
	// stands for exactly one whole label, except as the leftmost label, where it stands for
	// one or more: "*.example.org" matches "a.example.org" and "b.a.example.org" but not
	// "example.org". A lone "*" matches every host, IP literals included; globs never match
	// IP literals otherwise. An entry may carry a port ("127.0.0.1:8080", "[::1]:8080",
	// "*.example.org:443"), which the URL's port, or its scheme's default, must equal;
	// without one any port matches. An entry that is a literal IP address or "localhost"
	// also grants that (private) address; see the package doc. Malformed entries match
	// nothing; Validate reports them.
	AllowedHosts []string
	// MaxBytes caps a response body (default 10 MiB); Timeout caps a whole request incl.
	// redirects and reading the body (default 30 s).
	MaxBytes int64
	Timeout  time.Duration
	// RequestsPerMinute rate-limits the plugin (default 60, burst 10).
	RequestsPerMinute int
	// UserAgent sent when the request sets none (default "Cortex/1 (+plugin)").
	UserAgent string
}

// Validate reports the AllowedHosts entries that are malformed and so match nothing.
func (p Policy) Validate() error {
	var errs []error
	for _, s := range p.AllowedHosts {
		if _, err := parseRule(s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p Policy) withDefaults() Policy {
	if p.MaxBytes <= 0 {
		p.MaxBytes = DefaultMaxBytes
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.RequestsPerMinute <= 0 {
		p.RequestsPerMinute = DefaultRequestsPerMinute
	}
	if p.UserAgent == "" {
		p.UserAgent = DefaultUserAgent
	}
	return p
}

// resolver is the part of *net.Resolver the dialer needs; tests swap in a map so that
// rebinding can be shown without DNS.
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Client fetches URLs for one plugin under one Policy. It is safe for concurrent use. Make
// it with New; the zero value is not usable.
type Client struct {
	policy    Policy
	rules     []rule
	limiter   *rate.Limiter
	transport *http.Transport
	client    *http.Client

	// resolver and dial are read on every new connection; tests replace them before the
	// first Fetch so no test ever touches DNS or a non-local address.
	resolver resolver
	dial     func(ctx context.Context, network, address string) (net.Conn, error)
}

// New returns a Client enforcing p, with its own connection pool.
func New(p Policy) *Client {
	p = p.withDefaults()
	p.AllowedHosts = slices.Clone(p.AllowedHosts)
	c := &Client{
		policy:   p,
		limiter:  rate.NewLimiter(rate.Limit(float64(p.RequestsPerMinute)/60), min(Burst, p.RequestsPerMinute)),
		resolver: net.DefaultResolver,
		dial:     (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
	}
	for _, s := range p.AllowedHosts {
		if r, err := parseRule(s); err == nil {
			c.rules = append(c.rules, r)
		}
	}
	c.transport = &http.Transport{
		// Explicitly nil: a proxy would dial on our behalf and make the address check
		// meaningless, and the host's environment is none of the plugin's business.
		Proxy:       nil,
		DialContext: c.dialContext,
		// A custom DialContext turns HTTP/2 off unless asked for.
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           16,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
	c.client = &http.Client{
		Transport:     c.transport,
		CheckRedirect: c.checkRedirect,
		// No Jar: cookies set for one request must not ride along on the next, and the
		// host's own cookies must never be reachable.
	}
	return c
}

// CloseIdleConnections closes the Client's pooled connections; call it when the plugin is
// unloaded.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

var allowedMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost,
	http.MethodPut, http.MethodPatch, http.MethodDelete,
}

// Fetch performs req under the Client's Policy. Any HTTP status is a response, not an
// error. Errors wrap the package's sentinels, context.Canceled or
// context.DeadlineExceeded where one applies.
func (c *Client) Fetch(ctx context.Context, req abi.HTTPRequest) (abi.HTTPResponse, error) {
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodGet
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		// url.Parse's message repeats the whole URL, which may carry a secret.
		return abi.HTTPResponse{}, fmt.Errorf("safehttp: %w: unparsable url", ErrBadRequest)
	}
	fail := func(err error) (abi.HTTPResponse, error) {
		return abi.HTTPResponse{}, fmt.Errorf("safehttp: %s %s: %w", method, describe(u), err)
	}
	if !slices.Contains(allowedMethods, method) {
		return fail(fmt.Errorf("%w: method %q not allowed", ErrBadRequest, req.Method))
	}
	if err := c.checkURL(u); err != nil {
		return fail(err)
	}
	header, err := c.requestHeader(req.Headers)
	if err != nil {
		return fail(err)
	}
	// Charged only for requests that would go out, so that rejected ones cannot starve the
	// plugin's legitimate traffic, yet before any network work.
	if !c.limiter.Allow() {
		return fail(fmt.Errorf("%w: %d requests per minute", ErrRateLimited, c.policy.RequestsPerMinute))
	}

	limit := c.policy.MaxBytes
	if req.MaxBytes > 0 && req.MaxBytes < limit {
		limit = req.MaxBytes
	}
	timeout := c.policy.Timeout
	if t := time.Duration(req.TimeoutMS) * time.Millisecond; req.TimeoutMS > 0 && t < timeout {
		timeout = t
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var body io.Reader
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrBadRequest, err))
	}
	hreq.Header = header

	resp, err := c.client.Do(hreq)
	if err != nil {
		return fail(cause(ctx, err))
	}
	defer resp.Body.Close()

	data, err := readBody(resp, method, limit)
	if err != nil {
		return fail(cause(ctx, err))
	}
	return abi.HTTPResponse{
		Status:   resp.StatusCode,
		Headers:  flattenHeader(resp.Header),
		Body:     data,
		FinalURL: resp.Request.URL.String(),
	}, nil
}

// cause strips net/http's *url.Error, whose message repeats the full URL (query and all)
// that Fetch already names, and makes sure a timeout or cancellation is visible to
// errors.Is even when the transport reported it in its own words.
func cause(ctx context.Context, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	return err
}

// describe names a URL in errors without its query or credentials, which often hold API
// keys and end up in logs.
func describe(u *url.URL) string {
	if u.Scheme == "" && u.Host == "" {
		return strconv.Quote(u.Path)
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// checkURL applies the scheme and host rules; it runs for the first URL and again for
// every redirect.
func (c *Client) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: scheme %q not allowed, only http and https", ErrBadRequest, u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return fmt.Errorf("%w: url has no host", ErrBadRequest)
	}
	if u.User != nil {
		// Credentials in a URL leak into FinalURL, logs and redirects; headers do not.
		return fmt.Errorf("%w: credentials in the url; send an Authorization header instead", ErrBadRequest)
	}
	host := u.Hostname()
	if !isASCII(host) {
		// net/http converts such names to punycode before dialling; refusing them keeps
		// the name matched here identical to the one the dialer sees.
		return fmt.Errorf("%w: host %q is not ASCII; use its punycode form", ErrBadRequest, host)
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	if _, ok := c.match(host, port); !ok {
		return fmt.Errorf("%w: %s", ErrHostNotAllowed, u.Host)
	}
	return nil
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, MaxRedirects)
	}
	if err := c.checkURL(req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", describe(req.URL), err)
	}
	return nil
}

// hopByHop are request headers the plugin may not set: they describe one connection (which
// the host owns), or would let the plugin misdirect the request (Host) or desynchronise
// the framing (Content-Length, Transfer-Encoding).
var hopByHop = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Connection":    true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
	"Host":                true,
	"Content-Length":      true,
}

func (c *Client) requestHeader(in map[string]string) (http.Header, error) {
	h := make(http.Header, len(in)+1)
	// Sorted so that two spellings of one name ("accept", "Accept") resolve the same way
	// every time rather than by map order.
	for _, name := range slices.Sorted(maps.Keys(in)) {
		value := in[name]
		if !validHeaderName(name) {
			return nil, fmt.Errorf("%w: invalid header name %q", ErrBadRequest, name)
		}
		if !validHeaderValue(value) {
			return nil, fmt.Errorf("%w: invalid value for header %q", ErrBadRequest, name)
		}
		key := http.CanonicalHeaderKey(name)
		if hopByHop[key] {
			continue
		}
		h.Set(key, value)
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", c.policy.UserAgent)
	}
	return h, nil
}

// validHeaderName accepts an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue refuses control characters, CR and LF above all, which would let a
// plugin inject headers or a second request.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// readBody reads at most limit bytes and fails rather than truncates: a plugin handed a
// silently cut JSON or HTML document would mis-parse it without knowing.
func readBody(resp *http.Response, method string, limit int64) ([]byte, error) {
	// A HEAD response's Content-Length describes a body that is not sent.
	if method != http.MethodHead && resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: content-length %d exceeds %d bytes", ErrTooLarge, resp.ContentLength, limit)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", ErrTooLarge, limit)
	}
	if n == 0 {
		// Non-nil so the ABI's JSON says "" rather than null.
		return []byte{}, nil
	}
	return buf.Bytes(), nil
}

// flattenHeader joins repeated headers with ", " because the ABI carries one string per
// name.
func flattenHeader(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		ck := http.CanonicalHeaderKey(k)
		v := strings.Join(h[k], ", ")
		if prev, ok := out[ck]; ok {
			v = prev + ", " + v
		}
		out[ck] = v
	}
	return out
}

// grant is what a matching allow-list entry permits beyond public addresses.
type grant int

const (
	grantPublic   grant = iota // public addresses only
	grantLiteral               // the entry is the IP literal being dialled
	grantLoopback              // the entry is "localhost": loopback addresses
)

// rule is one parsed AllowedHosts entry.
type rule struct {
	port   string     // "" matches any port
	any    bool       // a lone "*"
	ip     netip.Addr // valid for an IP literal entry
	labels []string   // for a name entry, lower case; "*" for a wildcard label
	grant  grant
}

func parseRule(entry string) (rule, error) {
	bad := func(why string) (rule, error) {
		return rule{}, fmt.Errorf("allowed host %q: %s", entry, why)
	}
	s := strings.ToLower(strings.TrimSpace(entry))
	if s == "" {
		return bad("empty")
	}
	if strings.ContainsAny(s, "/@?#") {
		return bad("want a host name, not a url")
	}
	// A bare IPv6 address ("::1") is all colons; try it whole before looking for a port.
	if ip, err := netip.ParseAddr(s); err == nil {
		return rule{ip: ip, grant: grantLiteral}, nil
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		if strings.HasSuffix(s, "]") {
			host = s[1 : len(s)-1]
		} else {
			h, p, err := net.SplitHostPort(s)
			if err != nil {
				return bad(err.Error())
			}
			host, port = h, p
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return bad("brackets must hold an IPv6 address")
		}
		if port != "" && !validPort(port) {
			return bad("invalid port")
		}
		return rule{ip: ip, port: port, grant: grantLiteral}, nil
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if !validPort(port) {
			return bad("invalid port")
		}
	}
	host = strings.TrimSuffix(host, ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Is6() {
			return bad("an IPv6 address with a port needs brackets")
		}
		return rule{ip: ip, port: port, grant: grantLiteral}, nil
	}
	if host == "*" {
		return rule{any: true, port: port}, nil
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		switch {
		case l == "*":
		case l == "":
			return bad("empty label")
		case strings.ContainsAny(l, "*?[]\\"):
			return bad("a wildcard must be a whole label, like *.example.org")
		case !validLabel(l):
			return bad("invalid character in host name")
		}
	}
	r := rule{labels: labels, port: port}
	if host == "localhost" {
		r.grant = grantLoopback
	}
	return r, nil
}

func validPort(p string) bool {
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n > 0
}

func validLabel(l string) bool {
	for i := 0; i < len(l); i++ {
		b := l[i]
		if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

// match reports whether host:port is allowed and the widest grant among the entries that
// allow it, so that an explicit "127.0.0.1" still works beside a "*".
func (c *Client) match(host, port string) (grant, bool) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	ip, err := netip.ParseAddr(host)
	isIP := err == nil
	var labels []string
	if !isIP {
		labels = strings.Split(host, ".")
	}
	best, ok := grantPublic, false
	for _, r := range c.rules {
		if r.matches(labels, ip, isIP, port) {
			ok = true
			best = max(best, r.grant)
		}
	}
	return best, ok
}

func (r rule) matches(labels []string, ip netip.Addr, isIP bool, port string) bool {
	if r.port != "" && r.port != port {
		return false
	}
	switch {
	case r.any:
		return true
	case isIP:
		return r.ip.IsValid() && r.ip == ip
	case r.ip.IsValid():
		return false
	}
	return matchLabels(r.labels, labels)
}

// matchLabels compares whole labels only, so no wildcard can reach across a dot or into a
// label ("*.example.org" never matches "evilexample.org").
func matchLabels(pattern, host []string) bool {
	if slices.Contains(host, "") {
		return false
	}
	if pattern[0] == "*" {
		// The leading wildcard eats one or more labels; the rest must line up exactly.
		if len(host) < len(pattern) {
			return false
		}
		host = host[len(host)-len(pattern)+1:]
		pattern = pattern[1:]
	} else if len(host) != len(pattern) {
		return false
	}
	for i, p := range pattern {
		if p != "*" && p != host[i] {
			return false
		}
	}
	return true
}

// dialContext is the only way the transport opens a connection. It re-checks the host
// against the allow-list, resolves it itself and dials the checked IP literal, so the
// address judged is the address connected to: a name rebound to 127.0.0.1 between a check
// and a dial cannot slip through.
func (c *Client) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	g, ok := c.match(host, portStr)
	if !ok {
		return nil, fmt.Errorf("dial %s: %w: %s", addr, ErrHostNotAllowed, addr)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port: %w", addr, err)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, err = c.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("dial %s: no addresses for %s", addr, host)
		}
	}
	// One forbidden answer refuses the whole name: a public service has no business
	// returning a private address, and it is exactly what a rebinding attack looks like.
	for _, ip := range ips {
		if !permitted(ip, g) {
			return nil, fmt.Errorf("dial %s: %w: %s resolves to %s", addr, ErrPrivateAddress, host, ip)
		}
	}
	var first error
	for i, ip := range ips {
		dctx, cancel := ctx, context.CancelFunc(func() {})
		if deadline, ok := ctx.Deadline(); ok && len(ips)-i > 1 {
			dctx, cancel = context.WithDeadline(ctx, partialDeadline(time.Now(), deadline, len(ips)-i))
		}
		conn, err := c.dial(dctx, network, netip.AddrPortFrom(ip.Unmap(), uint16(port)).String())
		cancel()
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// partialDeadline shares the time left among the addresses still to try, as net.Dialer
// does, so one black-holed address cannot use up the whole fetch.
func partialDeadline(now, deadline time.Time, left int) time.Time {
	const saneMinimum = 2 * time.Second
	remaining := deadline.Sub(now)
	each := remaining / time.Duration(left)
	if each < saneMinimum {
		each = min(remaining, saneMinimum)
	}
	return now.Add(each)
}

func permitted(ip netip.Addr, g grant) bool {
	switch {
	case isPublic(ip):
		return true
	case g == grantLiteral:
		// The only address dialled for a literal entry is the literal itself.
		return true
	case g == grantLoopback:
		return ip.Unmap().IsLoopback()
	}
	return false
}

var (
	// Not covered by netip's predicates.
	blockedPrefixes = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),     // "this network"; Linux dials 0.x as local
		netip.MustParsePrefix("100.64.0.0/10"), // CGNAT shared space: the ISP's or a VPN's side
		netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and 255.255.255.255 broadcast
		netip.MustParsePrefix("::/96"),         // IPv4-compatible, deprecated, holds ::1 and ::
		netip.MustParsePrefix("64:ff9b:1::/48"),
		netip.MustParsePrefix("2001::/32"), // Teredo, whose peer address is obfuscated
		netip.MustParsePrefix("fec0::/10"), // site-local, deprecated but still routed by some
	}
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// isPublic reports whether ip may be dialled without an explicit grant. IPv6 forms that
// carry an IPv4 address (mapped, NAT64, 6to4) are judged by that address, since that is
// where the packets end up.
func isPublic(ip netip.Addr) bool {
	// Prefix.Contains is false for any zoned address, which would let fe80::1%eth0 pass.
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return isPublic(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return isPublic(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	return true
}

// ErrorCode maps a Fetch error to the abi.Err* code a host function answers with.
func ErrorCode(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrHostNotAllowed), errors.Is(err, ErrPrivateAddress):
		return abi.ErrDenied
	case errors.Is(err, ErrBadRequest):
		return abi.ErrInvalid
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrRateLimited),
		errors.Is(err, context.DeadlineExceeded):
		return abi.ErrLimit
	}
	return abi.ErrUnavailable
}
