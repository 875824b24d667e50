package main

import (
	"strings"
)

const (
	// maxFrontMatterLines bounds the search for the closing fence: a document that opens
	// with a thematic break must not have its first 3 MB taken for front matter.
	maxFrontMatterLines = 500
	maxFrontMatterKeys  = 100
)

// splitFrontMatter separates YAML front matter — "---" on the very first line, closed by
// "---" or "..." — from the body. Every line between the fences must look like YAML;
// otherwise the opening "---" is a thematic break and nothing is split off.
func splitFrontMatter(s string) (raw, body string, ok bool) {
	first, rest, found := strings.Cut(s, "\n")
	if !found || trimRight(first) != "---" {
		return "", s, false
	}
	keys := 0
	for off, n := 0, 0; off < len(rest) && n < maxFrontMatterLines; n++ {
		line, _, more := strings.Cut(rest[off:], "\n")
		next := off + len(line)
		if more {
			next++
		}
		switch t := trimRight(line); {
		case t == "---" || t == "...":
			if keys == 0 {
				return "", s, false
			}
			return rest[:off], rest[next:], true
		case t == "", strings.HasPrefix(t, "#"), t[0] == ' ', t[0] == '\t', strings.HasPrefix(t, "- "), t == "-":
		case yamlKey(t) != "":
			keys++
		default:
			return "", s, false
		}
		off = next
	}
	return "", s, false
}

// yamlKey returns the key of a "key: value" line, or "" if the line is not one. Keys are
// single words, which tells them from a prose line that happens to hold a colon.
func yamlKey(line string) string {
	k, _, ok := strings.Cut(line, ":")
	if !ok || k == "" || len(k) > 64 {
		return ""
	}
	rest := line[len(k)+1:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return ""
	}
	k = strings.Trim(k, `"'`)
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return ""
		}
	}
	return k
}

// frontMatter holds the simple fields of a front matter block: scalars as strings, lists
// (flow "[a, b]" or block "- a") as []string. Nested maps are skipped.
type frontMatter struct {
	fields map[string]any
}

func parseFrontMatter(raw string) frontMatter {
	fm := frontMatter{fields: map[string]any{}}
	lines := strings.Split(raw, "\n")
	for i := 0; i < len(lines) && len(fm.fields) < maxFrontMatterKeys; i++ {
		line := trimRight(lines[i])
		key := yamlKey(line)
		if key == "" {
			continue
		}
		val := strings.TrimSpace(line[strings.IndexByte(line, ':')+1:])
		switch {
		case val == "":
			// A block list may follow: "tags:\n  - a\n  - b".
			var items []string
			for i+1 < len(lines) {
				t := strings.TrimSpace(lines[i+1])
				if !strings.HasPrefix(t, "- ") && t != "-" {
					break
				}
				if item := scalar(strings.TrimPrefix(t, "-")); item != "" {
					items = append(items, item)
				}
				i++
			}
			if len(items) > 0 {
				fm.fields[key] = items
			}
		case val == "|" || val == ">" || val == "|-" || val == ">-":
			// A block scalar: the indented lines below, folded onto one line for ">".
			var parts []string
			for i+1 < len(lines) && (isBlank(lines[i+1]) || indentOf(lines[i+1]) > 0) {
				parts = append(parts, strings.TrimSpace(lines[i+1]))
				i++
			}
			sep := " "
			if val[0] == '|' {
				sep = "\n"
			}
			if v := strings.TrimSpace(strings.Join(parts, sep)); v != "" {
				fm.fields[key] = v
			}
		case strings.HasPrefix(val, "[") && strings.HasSuffix(val, "]"):
			var items []string
			for _, part := range strings.Split(val[1:len(val)-1], ",") {
				if item := scalar(part); item != "" {
					items = append(items, item)
				}
			}
			fm.fields[key] = items
		case strings.HasPrefix(val, "{"):
			// A flow map is more than "simple key: value"; leave it out.
		default:
			if v := scalar(val); v != "" {
				fm.fields[key] = v
			}
		}
	}
	return fm
}

// scalar unquotes a YAML scalar and drops a trailing comment from an unquoted one.
func scalar(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') {
		if end := strings.LastIndexByte(s, s[0]); end > 0 {
			v := s[1:end]
			if s[0] == '"' {
				v = strings.ReplaceAll(v, `\"`, `"`)
			} else {
				v = strings.ReplaceAll(v, "''", "'")
			}
			return v
		}
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// get returns a field as a string, looking the key up case-insensitively.
func (fm frontMatter) get(keys ...string) string {
	for _, want := range keys {
		for k, v := range fm.fields {
			if !strings.EqualFold(k, want) {
				continue
			}
			switch v := v.(type) {
			case string:
				return v
			case []string:
				return strings.Join(v, ", ")
			}
		}
	}
	return ""
}

func (fm frontMatter) byline() string { return oneLine(fm.get("author", "authors", "byline")) }

// published returns the front matter's date when it starts like one (2024-03-05…), since
// "date: last week" or a template placeholder is no publication date.
func (fm frontMatter) published() string {
	d := fm.get("date", "published", "published_at", "publishDate", "pubDate")
	if len(d) < 10 {
		return ""
	}
	for i := 0; i < 10; i++ {
		c := d[i]
		if i == 4 || i == 7 {
			if c != '-' {
				return ""
			}
		} else if c < '0' || c > '9' {
			return ""
		}
	}
	return d
}

// language trusts a front matter language code ("en", "pt-BR") over any guess.
func (fm frontMatter) language() string {
	l := fm.get("lang", "language")
	if len(l) < 2 || len(l) > 12 || strings.ContainsAny(l, " ,") {
		return ""
	}
	return l
}
