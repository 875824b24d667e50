//go:build !wasip1

package main

import (
	"slices"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		// names and a few keywords
		{"Ada Lovelace", typeSimple},
		{"Gabriel García Márquez", typeSimple},
		{"The Lord of the Rings", typeSimple},
		{"J. R. R. Tolkien", typeSimple},
		{"rust borrow checker", typeSimple},
		{"sourdough", typeSimple},
		{"Ünïcödé Straße", typeSimple},
		// quoted phrases, even when they read as questions
		{`"exact phrase here"`, typeSimple},
		{`"what is love"`, typeSimple},
		// identifiers
		{"RFC 9110", typeSimple},
		{"ERR_CONN_RESET", typeSimple},
		{"v1.2.3", typeSimple},
		{"io.ReadAll", typeSimple},
		{"getUserById", typeSimple},
		{"is_valid", typeSimple}, // a stop word inside an identifier is not a stop word
		{"ERR_CONN_RESET v1.2.3 io.ReadAll x86_64", typeSimple},
		// questions
		{"what is a vector database", typeQuestion},
		{"How to install Go", typeQuestion},
		{"does sqlite support fts5", typeQuestion},
		{"vector databases?", typeQuestion},
		{"Why", typeQuestion},
		{"what does ERR_CONN_RESET mean", typeQuestion},
		{"?", typeQuestion},
		// descriptions
		{"rust borrow checker lifetimes", typeSemantic},
		{"notes about the history of rome", typeSemantic},
		{"the best way", typeSemantic},
		{"machine learning for beginners", typeSemantic},
		{"ERR_CONN_RESET when loading big pages", typeSemantic},
		// hostile input
		{`"unbalanced`, typeSimple},
		{`""`, typeSimple}, // no word at all, like emoji: nothing to describe
		{`"a" "b"`, typeSemantic},
		{"AND OR NOT", typeSemantic}, // operators are words here, and stop words
		{"'; DROP TABLE users; --", typeSimple},
		{"🔥🔥🔥", typeSimple},
		{"🔥 recipes for a spicy dinner party", typeSemantic},
		{"<script>alert(1)</script>", typeSimple},
	} {
		if got := classify(tc.q); got != tc.want {
			t.Errorf("classify(%q) = %s, want %s", tc.q, got, tc.want)
		}
	}
}

func TestQueryWords(t *testing.T) {
	got := queryWords("How do the Runners RUN, run and run?")
	if want := []string{"runners", "run"}; !slices.Equal(got, want) {
		t.Errorf("queryWords = %q, want %q", got, want)
	}
}
