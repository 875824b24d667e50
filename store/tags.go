package store

import (
	"context"
	"database/sql"
	"strings"
	"unicode"
)

// MaxAITags caps the tags enrichment may add to one item; the user's own are not capped.
const MaxAITags = 5

// TagKey is the form two tags are compared in: normalised, hyphens and underscores read as
// spaces, punctuation at the ends dropped, and the last word made singular ("Neural
// Networks", "neural-network" and "neural network" are one tag).
func TagKey(tag string) string {
	t := strings.NewReplacer("-", " ", "_", " ").Replace(NormalizeTag(tag))
	t = strings.TrimFunc(NormalizeTag(t), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '+' && r != '#'
	})
	words := strings.Fields(t)
	if len(words) == 0 {
		return ""
	}
	words[len(words)-1] = singular(words[len(words)-1])
	return strings.Join(words, " ")
}

// singular undoes regular English plurals; irregular and ambiguous words stay as they are.
func singular(w string) string {
	switch {
	case len(w) <= 3:
		return w
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "shes"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "xes"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"), strings.HasSuffix(w, "os"):
		return w
	case strings.HasSuffix(w, "s"):
		return w[:len(w)-1]
	}
	return w
}

// reconcileAITags turns tags proposed by enrichment into the ones to store: normalised,
// spelled like a tag already in use when one has the same key (so "LLMs" joins the
// existing "llm"), without near-duplicates or the user's own tags, at most MaxAITags.
func reconcileAITags(ctx context.Context, tx *sql.Tx, itemID string, proposed []string) ([]string, error) {
	keys := map[string]string{} // key -> spelling in use, most used first
	rows, err := tx.QueryContext(ctx, "SELECT tag FROM item_tags GROUP BY tag ORDER BY count(*) DESC, tag")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		if k := TagKey(t); k != "" {
			if _, seen := keys[k]; !seen {
				keys[k] = t
			}
		}
	}
	rows.Close()
	taken := map[string]bool{}
	rows, err = tx.QueryContext(ctx, "SELECT tag FROM item_tags WHERE item_id = ? AND origin = 'user'", itemID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		taken[TagKey(t)] = true
	}
	rows.Close()
	var out []string
	for _, p := range proposed {
		k := TagKey(p)
		if k == "" || taken[k] || len(k) > 60 {
			continue
		}
		taken[k] = true
		spelling, ok := keys[k]
		if !ok {
			spelling = k
		}
		out = append(out, spelling)
		if len(out) == MaxAITags {
			break
		}
	}
	return out, rows.Err()
}
