package providers

import (
	"math"
	"strings"
	"testing"
)

func TestRenderDocuments(t *testing.T) {
	if got := RenderDocuments(nil); got != "" {
		t.Fatalf("RenderDocuments(nil) = %q, want empty", got)
	}
	got := RenderDocuments([]Document{
		{Title: "Backups", Text: "Backups run nightly.\n"},
		{Text: "  Untitled text.  "},
		{Title: "Multi\nline   title", Text: "Body."},
	})
	for _, want := range []string{
		"[1] Backups\nBackups run nightly.\n",
		"[2]\nUntitled text.\n",
		"[3] Multi line title\nBody.\n",
		"[1]", "square brackets", "only the numbered sources",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rendered documents lack %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "[1] Backups") > strings.Index(got, "[2]\n") {
		t.Error("documents are not in the order given")
	}
}

func TestNormalizeL2(t *testing.T) {
	tests := []struct {
		name string
		in   []float32
		ok   bool
		want []float32
	}{
		{"3-4-5", []float32{3, 4}, true, []float32{0.6, 0.8}},
		{"already unit", []float32{0, 1, 0}, true, []float32{0, 1, 0}},
		{"zero", []float32{0, 0}, false, []float32{0, 0}},
		{"empty", nil, false, nil},
		{"nan", []float32{float32(math.NaN()), 1}, false, nil},
		{"inf", []float32{float32(math.Inf(1)), 1}, false, nil},
		{"tiny", []float32{1e-30, 1e-30}, true, []float32{float32(1 / math.Sqrt2), float32(1 / math.Sqrt2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := append([]float32(nil), tt.in...)
			if ok := NormalizeL2(v); ok != tt.ok {
				t.Fatalf("NormalizeL2(%v) = %v, want %v", tt.in, ok, tt.ok)
			}
			if tt.want == nil {
				return
			}
			for i := range v {
				if math.Abs(float64(v[i]-tt.want[i])) > 1e-6 {
					t.Fatalf("NormalizeL2(%v) = %v, want %v", tt.in, v, tt.want)
				}
			}
		})
	}
}
