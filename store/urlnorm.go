package store

import (
	"net/url"
	"sort"
	"strings"
)

// trackingParams are query parameters that identify a click, not a page.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gclsrc": true, "msclkid": true,
	"mc_cid": true, "mc_eid": true, "igshid": true, "yclid": true, "_hsenc": true,
	"_hsmi": true, "mkt_tok": true, "ref_src": true, "ref_url": true, "oly_anon_id": true,
	"oly_enc_id": true, "vero_id": true, "wickedid": true, "twclid": true, "si": true,
	"s_cid": true, "_ga": true, "_gl": true, "spm": true,
}

func isTrackingParam(key string) bool {
	k := strings.ToLower(key)
	return trackingParams[k] || strings.HasPrefix(k, "utm_") || strings.HasPrefix(k, "pk_") ||
		strings.HasPrefix(k, "hsa_")
}

// NormalizeURL returns the form of raw used to recognise the same page saved twice: scheme
// and host lower-cased, default port, fragment and tracking parameters dropped, remaining
// query parameters sorted, a trailing slash removed. It is a comparison key, not a URL to
// fetch (the item keeps the URL as given). ok is false when raw is not an absolute URL.
func NormalizeURL(raw string) (norm string, ok bool) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return "", false
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	host = strings.TrimSuffix(host, ".")
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.User = nil
	u.Fragment, u.RawFragment = "", ""

	q := u.Query()
	for k := range q {
		if isTrackingParam(k) {
			delete(q, k)
		}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	u.RawQuery = b.String()
	u.ForceQuery = false

	path := u.EscapedPath()
	path = strings.TrimRight(path, "/")
	out := u.Scheme + "://" + u.Host + path
	if u.Opaque != "" {
		out = u.Scheme + ":" + u.Opaque
	}
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out, true
}
