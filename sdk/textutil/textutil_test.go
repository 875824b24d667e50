package textutil

import "testing"

func TestTextutil(t *testing.T) {
	for w, want := range map[string]Abbreviation{"dr": AbbrevNeverEnds, "e.g": AbbrevNeverEnds, "etc": AbbrevMayEnd, "u.s": AbbrevMayEnd, "end": NotAbbreviation} {
		if got := AbbreviationKind(w); got != want {
			t.Errorf("AbbreviationKind(%q) = %d, want %d", w, got, want)
		}
	}
	if !IsQueryStopWord("notes") || !IsQueryStopWord("the") || IsQueryStopWord("sqlite") {
		t.Error("IsQueryStopWord disagrees with its list")
	}
	if !IsDigits("2024") || IsDigits("") || IsDigits("20a4") {
		t.Error("IsDigits")
	}
	s := " \t héllo\u00a0 \n"
	if a, b := TrimSpan(s, 0, len(s)); s[a:b] != "héllo" {
		t.Errorf("TrimSpan = %q", s[a:b])
	}
	if a, b := TrimSpan("   ", 0, 3); a != b {
		t.Errorf("TrimSpan of blanks = %d..%d, want empty", a, b)
	}
}
