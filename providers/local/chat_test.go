package local

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/cortexhq/cortex/providers"
)

func ask(question string, docs ...providers.Document) providers.ChatRequest {
	return providers.ChatRequest{
		Messages:  []providers.Message{{Role: providers.RoleUser, Content: question}},
		Documents: docs,
	}
}

func testDocs() []providers.Document {
	return []providers.Document{
		{Title: "Cortex overview", Text: article},
		{Title: "Pets", Text: "My cat Felix sleeps all day. Cats are independent animals. The dog runs in the park every morning."},
		{Title: "Backups", Text: "Backups run every night at two o'clock.\n\nThe backup copies the SQLite database to an external disk and keeps thirty days of history."},
	}
}

var citation = regexp.MustCompile(`\[(\d+)\]`)

func TestChatAnswersFromDocuments(t *testing.T) {
	tests := []struct {
		question  string
		want      []string // phrases the answer must contain
		citations []string // every citation must be one of these
	}{
		{"What happens when Ollama is down?", []string{"When Ollama is not running, Cortex keeps working with the local provider [1]."}, []string{"1"}},
		{"does the local provider download anything?", []string{"The local provider needs no downloads [1]."}, []string{"1"}},
		{"when do backups run?", []string{"Backups run every night at two o'clock [3]."}, []string{"3"}},
		{"where is the backup copied to", []string{"external disk", "[3]"}, []string{"3"}},
		{"tell me about my cat", []string{"My cat Felix sleeps all day [2]."}, []string{"1", "2"}},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			var streamed strings.Builder
			pieces := 0
			resp, err := c.Chat(context.Background(), ask(tt.question, testDocs()...), func(tok string) error {
				streamed.WriteString(tok)
				pieces++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if streamed.String() != resp.Content {
				t.Fatalf("streamed %q, returned %q", streamed.String(), resp.Content)
			}
			if pieces < 2 || resp.CompletionTokens != pieces {
				t.Fatalf("streamed %d pieces, CompletionTokens %d", pieces, resp.CompletionTokens)
			}
			if resp.Model != ChatModelName {
				t.Fatalf("Model = %q", resp.Model)
			}
			for _, w := range tt.want {
				if !strings.Contains(resp.Content, w) {
					t.Errorf("answer %q lacks %q", resp.Content, w)
				}
			}
			refs := citation.FindAllStringSubmatch(resp.Content, -1)
			if len(refs) == 0 || len(refs) > maxAnswerSentences {
				t.Fatalf("answer %q has %d citations", resp.Content, len(refs))
			}
			for _, r := range refs {
				if !containsString(tt.citations, r[1]) {
					t.Errorf("answer %q cites [%s], want only %v", resp.Content, r[1], tt.citations)
				}
			}
		})
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestChatNoDuplicateSentences(t *testing.T) {
	docs := []providers.Document{
		{Text: "The server listens on port 8080. Nothing else matters here."},
		{Text: "The server listens on port 8080."},
		{Text: "By default the server listens on port 8080 for HTTP."},
	}
	resp, err := New().Chat(context.Background(), ask("which port does the server listen on?", docs...), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(resp.Content, "The server listens on port 8080"); n != 1 {
		t.Fatalf("answer %q repeats the same sentence %d times", resp.Content, n)
	}
}

func TestChatNothingRelevant(t *testing.T) {
	tests := []struct {
		name string
		req  providers.ChatRequest
	}{
		{"unrelated question", ask("what is the capital of France?", testDocs()...)},
		{"no documents, plain question", ask("what is the capital of France?")},
		{"no documents, greeting", ask("hello there")},
		{"no messages", providers.ChatRequest{}},
		{"documents without sentences", ask("cats?", providers.Document{Text: "   "})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := New().Chat(context.Background(), tt.req, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Content != NoAnswer {
				t.Fatalf("answer %q, want %q", resp.Content, NoAnswer)
			}
		})
	}
}

func TestChatSummarizesWithoutDocuments(t *testing.T) {
	tests := []struct {
		name string
		req  providers.ChatRequest
	}{
		{"instruction line", ask("Summarize this:\n" + article)},
		{"system prompt", providers.ChatRequest{Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: "You write short summaries of the user's text."},
			{Role: providers.RoleUser, Content: article},
		}}},
		{"pasted text", ask(article)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := New().Chat(context.Background(), tt.req, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := Summarize(article, summarySentences); resp.Content != want {
				t.Fatalf("answer %q, want the summary %q", resp.Content, want)
			}
		})
	}
}

func TestChatGistOfDocuments(t *testing.T) {
	resp, err := New().Chat(context.Background(), ask("What do these say?", testDocs()...), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"[1]", "[2]", "[3]"} {
		if !strings.Contains(resp.Content, ref) {
			t.Errorf("gist %q does not cite %s", resp.Content, ref)
		}
	}
}

func TestChatStops(t *testing.T) {
	errStop := errors.New("client went away")
	t.Run("onToken error", func(t *testing.T) {
		calls := 0
		_, err := New().Chat(context.Background(), ask("when do backups run?", testDocs()...), func(string) error {
			calls++
			if calls == 2 {
				return errStop
			}
			return nil
		})
		if !errors.Is(err, errStop) || calls != 2 {
			t.Fatalf("err = %v after %d calls, want errStop after 2", err, calls)
		}
	})
	t.Run("context canceled mid-stream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		_, err := New().Chat(ctx, ask("when do backups run?", testDocs()...), func(string) error {
			calls++
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) || calls != 1 {
			t.Fatalf("err = %v after %d calls, want context.Canceled after 1", err, calls)
		}
	})
	t.Run("max tokens", func(t *testing.T) {
		req := ask("when do backups run?", testDocs()...)
		req.MaxTokens = 3
		resp, err := New().Chat(context.Background(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.CompletionTokens != 3 || len(strings.Fields(resp.Content)) != 3 {
			t.Fatalf("answer %q (%d tokens), want 3 words", resp.Content, resp.CompletionTokens)
		}
	})
}

func TestSplitPieces(t *testing.T) {
	for _, s := range []string{"", "one", "one two", "a  b [1]. c", " lead", "trail "} {
		if got := strings.Join(splitPieces(s), ""); got != s {
			t.Errorf("pieces of %q rejoin to %q", s, got)
		}
	}
}

func TestCite(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"It works.", 1, "It works [1]."},
		{"Does it?", 2, "Does it? [2]"},
		{"Wait...", 3, "Wait... [3]"},
		{"No stop", 4, "No stop [4]"},
	}
	for _, tt := range tests {
		if got := cite(tt.in, tt.n); got != tt.want {
			t.Errorf("cite(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
