package host

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/cortexhq/cortex/sdk/abi"
)

// DetectContentType returns the media type to dispatch content on: the declared one when
// given, else one guessed from the URL's extension or the bytes (HTML is sniffed).
func DetectContentType(declared, rawURL, content string) string {
	if declared != "" {
		if mt, _, err := mime.ParseMediaType(declared); err == nil {
			return strings.ToLower(mt)
		}
	}
	ext := strings.ToLower(path.Ext(strings.SplitN(strings.SplitN(rawURL, "?", 2)[0], "#", 2)[0]))
	switch ext {
	case ".md", ".markdown":
		return "text/markdown"
	case ".txt":
		return "text/plain"
	}
	head := content
	if len(head) > 1024 {
		head = head[:1024]
	}
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType([]byte(head)))
	if sniffed == "text/plain" && looksLikeHTML(head) {
		return "text/html"
	}
	if sniffed == "application/octet-stream" && utf8.ValidString(head) {
		return "text/plain"
	}
	return sniffed
}

var htmlTagRE = regexp.MustCompile(`(?i)<(html|head|body|article|div|p|h[1-6]|main|section|span|a\s)[\s>]`)

// looksLikeHTML catches fragments http.DetectContentType misses (it only looks at the
// first tag).
func looksLikeHTML(s string) bool { return len(htmlTagRE.FindAllStringIndex(s, 3)) >= 2 }

// globRE turns a URL glob into a regexp: * matches any run of characters (slashes
// included), ? one character.
func globRE(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("(?i)^")
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// candidate is an extractor that matches an item, with what decides between matches.
type candidate struct {
	name     string
	priority int
	byURL    bool
	user     bool
}

// PickExtractor chooses the extractor for an item: among extractors whose URL globs or
// content types match, the highest priority wins; on a tie a URL match beats a
// content-type match, and a user plugin beats a built-in one. Extractors still loading
// count (by their manifest's rules): calling one waits for it, which is what an item saved
// right after start-up needs. One that failed to load does not.
func (h *Host) PickExtractor(rawURL, contentType string) (string, error) {
	var cands []candidate
	for _, p := range h.Plugins() {
		if p.Kind != abi.KindExtractor || p.State == StateFailed || p.Match == nil {
			continue
		}
		c := candidate{name: p.Name, priority: p.Match.Priority, user: p.Source != SourceBuiltin}
		for _, g := range p.Match.URLGlobs {
			if re, err := globRE(g); err == nil && rawURL != "" && re.MatchString(rawURL) {
				c.byURL = true
				break
			}
		}
		typeMatch := false
		for _, t := range p.Match.ContentTypes {
			if mediaTypeMatches(t, contentType) {
				typeMatch = true
				break
			}
		}
		if c.byURL || typeMatch {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return "", fmt.Errorf("%w: no extractor matches content type %q", ErrNotFound, contentType)
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.priority != b.priority {
			return a.priority > b.priority
		}
		if a.byURL != b.byURL {
			return a.byURL
		}
		if a.user != b.user {
			return a.user
		}
		return a.name < b.name
	})
	return cands[0].name, nil
}

func mediaTypeMatches(pattern, mt string) bool {
	pattern = strings.ToLower(strings.TrimSpace(pattern))
	if pattern == "*/*" || pattern == mt {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/*"); ok {
		return strings.HasPrefix(mt, prefix+"/")
	}
	return false
}

// Extract picks the extractor for in and runs it.
func (h *Host) Extract(ctx context.Context, in abi.ExtractInput) (abi.ExtractResult, error) {
	in.ContentType = DetectContentType(in.ContentType, in.URL, in.Content)
	name, err := h.PickExtractor(in.URL, in.ContentType)
	if err != nil {
		return abi.ExtractResult{}, err
	}
	raw, err := marshal(in)
	if err != nil {
		return abi.ExtractResult{}, err
	}
	out, err := h.Call(ctx, name, abi.ExportExtract, raw)
	if err != nil {
		return abi.ExtractResult{}, err
	}
	res := abi.ExtractResult{Extractor: name}
	if err := json.Unmarshal(out, &res.Output); err != nil {
		return abi.ExtractResult{}, fmt.Errorf("extractor %q: %w: %v", name, ErrBadOutput, err)
	}
	return res, nil
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// splitTags parses a model's comma- or line-separated tag list.
func splitTags(s string, k int) []string {
	if k <= 0 {
		k = 5
	}
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		t := strings.ToLower(strings.Trim(strings.TrimSpace(part), "#-*•.\"'"))
		if t == "" || len(t) > 40 || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
		if len(out) == k {
			break
		}
	}
	return out
}
