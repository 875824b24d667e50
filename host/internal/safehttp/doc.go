// Package safehttp is the only way a plugin reaches the network. It answers the
// cortex_http_fetch host function (abi.FnHTTPFetch) for plugins granted the http
// capability, and it owns every rule that makes that safe:
//
//   - only http and https, and only the methods GET, HEAD, POST, PUT, PATCH and DELETE;
//   - only the hosts of the plugin's allow-list, matched by exact name or by a wildcard
//     that stands for whole DNS labels, optionally pinned to a port;
//   - every redirect (at most MaxRedirects) is checked again exactly like the first URL;
//   - no private, loopback, link-local, unspecified, multicast or CGNAT address is ever
//     dialled, judged on the address actually dialled after resolution, so a public name
//     that resolves (or is rebound) to 127.0.0.1 is refused. An allow-list entry that is
//     itself a literal IP address or "localhost" is an explicit grant of that address and
//     lifts the rule for it alone;
//   - response bodies and the wall-clock time of a whole fetch, redirects included, are
//     capped, and the plugin's own request may only lower those caps;
//   - requests are rate-limited per Client, failing fast rather than blocking a plugin;
//   - nothing of the host process leaks out: each Client has its own transport, no cookie
//     jar, no proxy taken from the environment, and hop-by-hop headers and Host are not
//     forwarded from the plugin.
//
// The host creates one Client per plugin from the plugin's Policy and keeps it for the
// plugin's lifetime, so the rate limit and connection pool are per plugin.
//
// # Why not Extism's http_request
//
// Extism's built-in http_request (github.com/extism/go-sdk) checks only the first URL's
// host, with github.com/gobwas/glob patterns in which "*" also matches dots (so
// "*example.org" admits "evilexample.org"), then sends the request through
// http.DefaultClient, which follows up to ten redirects to any host, uses the proxy from
// the environment, shares its connection pool with the whole process and has no notion of
// private addresses. A plugin allowed "api.example.com" could therefore reach the user's
// router or a local admin port by a redirect or a DNS answer. The host refuses plugins
// that import Extism's http functions and offers this package instead.
package safehttp
