package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RecordQuery remembers a search for suggestions.
func (db *DB) RecordQuery(ctx context.Context, query string) error {
	query = strings.Join(strings.Fields(query), " ")
	if query == "" || utf8.RuneCountInString(query) > 200 {
		return nil
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO search_history (query, count, last_used) VALUES (?, 1, ?)
		ON CONFLICT (query) DO UPDATE SET count = count + 1, last_used = excluded.last_used`, query, formatTime(db.now()))
	if err != nil {
		return fmt.Errorf("record query: %w", err)
	}
	return nil
}

// escapeLike escapes LIKE wildcards in s (with '\' as the escape character).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Suggest completes what the user is typing: recent queries that start with it, the
// last word completed from the words of their own items (most common first), titles
// whose words start with what was typed, and tags. At most limit, without repeats.
func (db *DB) Suggest(ctx context.Context, typed string, limit int) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	add := func(s string) bool {
		key := strings.ToLower(strings.TrimSpace(s))
		if key == "" || seen[key] || len(out) >= limit {
			return len(out) < limit
		}
		seen[key] = true
		out = append(out, strings.TrimSpace(s))
		return len(out) < limit
	}
	typed = strings.TrimLeft(typed, " \t")
	if strings.TrimSpace(typed) == "" || limit <= 0 {
		return out, nil
	}
	lower := strings.ToLower(typed)

	queries := []struct {
		sql  string
		args []any
		wrap func(string) string
	}{
		{`SELECT query FROM search_history WHERE lower(query) LIKE ? ESCAPE '\' AND lower(query) != ?
			ORDER BY last_used DESC, count DESC LIMIT ?`, []any{escapeLike(lower) + "%", strings.TrimSpace(lower), limit}, nil},
	}
	words := splitWords(typed)
	endsInWord := len(words) > 0 && !strings.ContainsAny(typed[len(typed)-1:], " \t")
	if db.hasFTS && endsInWord {
		last := words[len(words)-1]
		// What precedes the word being typed, as the user typed it.
		head := strings.TrimSpace(strings.TrimRightFunc(typed, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) }))
		// Every term that starts with last sorts below last followed by the highest rune.
		upper := last + string(utf8.MaxRune)
		queries = append(queries, struct {
			sql  string
			args []any
			wrap func(string) string
		}{`SELECT term FROM words_vocab WHERE term >= ? AND term < ? AND term != ? ORDER BY doc DESC LIMIT ?`,
			[]any{last, upper, last, limit}, func(term string) string { return strings.TrimSpace(head + " " + term) }})
	}
	if db.hasFTS && len(words) > 0 {
		match := make([]string, len(words))
		for i, w := range words {
			match[i] = quote(w)
		}
		if endsInWord {
			match[len(match)-1] += "*"
		}
		queries = append(queries, struct {
			sql  string
			args []any
			wrap func(string) string
		}{`SELECT i.title FROM titles_fts f JOIN items i ON i.rowid = f.rowid WHERE titles_fts MATCH ? AND i.title != ''
			ORDER BY f.rank LIMIT ?`, []any{strings.Join(match, " "), limit}, nil})
	}
	queries = append(queries, struct {
		sql  string
		args []any
		wrap func(string) string
	}{`SELECT tag FROM item_tags WHERE tag LIKE ? ESCAPE '\' GROUP BY tag ORDER BY count(*) DESC LIMIT ?`,
		[]any{escapeLike(strings.TrimSpace(lower)) + "%", limit}, nil})

	for _, q := range queries {
		rows, err := db.read.QueryContext(ctx, q.sql, q.args...)
		if err != nil {
			return nil, fmt.Errorf("suggest: %w", err)
		}
		more := true
		for rows.Next() && more {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, err
			}
			if q.wrap != nil {
				s = q.wrap(s)
			}
			more = add(s)
		}
		rows.Close()
		if !more {
			break
		}
	}
	return out, nil
}
