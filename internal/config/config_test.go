package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultsAreValid(t *testing.T) {
	c := Default()
	c.ApplyDerived()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Provider != ProviderLocal || c.Port != 8742 || c.Host != "127.0.0.1" {
		t.Errorf("defaults changed: %+v", c)
	}
}

func TestPrecedenceFileThenEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte("port = 9000\nollama_host = \"http://file:11434\"\nchunk_size = 300\n"), 0o600)
	c := Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CORTEX_OLLAMA_HOST": "http://env:11434", "CORTEX_TOKEN": "s3cret", "CORTEX_FETCH_URLS": "false"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.Port != 9000 || c.ChunkSize != 300 || c.OllamaHost != "http://env:11434" || c.Token != "s3cret" || c.FetchURLs {
		t.Errorf("got %+v", c)
	}
}

func TestLoadFileRejectsUnknownKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("port = 1\nchunk_szie = 3\n"), 0o600)
	c := Default()
	err := c.LoadFile(path)
	if err == nil || !strings.Contains(err.Error(), "chunk_szie") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v; want it to name the file and the key", err)
	}
}

func TestLoadEnvBadValue(t *testing.T) {
	c := Default()
	err := c.LoadEnv(func(k string) (string, bool) {
		if k == "CORTEX_PORT" {
			return "eighty", true
		}
		return "", false
	})
	if err == nil || !strings.Contains(err.Error(), "CORTEX_PORT") {
		t.Fatalf("err = %v", err)
	}
}

func TestApply(t *testing.T) {
	base := DefaultSettings()
	tests := []struct {
		name      string
		patch     string
		wantField string // "" means success
		check     func(Settings) bool
	}{
		{"ai alias", `{"provider":"ollama"}`, "", func(s Settings) bool { return s.Provider == ProviderOllama }},
		{"seed name", `{"ai_provider":"openai","openai_api_key":"sk-1"}`, "", func(s Settings) bool { return s.OpenAIAPIKey == "sk-1" }},
		{"unknown", `{"chunk_szie":1}`, "chunk_szie", nil},
		{"wrong type", `{"chunk_size":"big"}`, "chunk_size", nil},
		{"out of range", `{"chunk_size":10}`, "chunk_size", nil},
		{"bad provider", `{"provider":"gpt"}`, "ai_provider", nil},
		{"bad host", `{"ollama_host":"localhost:11434"}`, "ollama_host", nil},
		{"overlap too big", `{"chunk_size":100,"chunk_overlap":60}`, "chunk_overlap", nil},
		{"null not allowed", `{"chat_model":null}`, "chat_model", nil},
		{"echoed _set ignored", `{"openai_api_key_set":true,"chunk_size":400}`, "", func(s Settings) bool { return s.ChunkSize == 400 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var patch map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tc.patch), &patch); err != nil {
				t.Fatal(err)
			}
			got, _, err := base.Apply(patch)
			var fe *FieldError
			if tc.wantField != "" {
				if !errors.As(err, &fe) || fe.Field != tc.wantField {
					t.Fatalf("err = %v; want FieldError on %q", err, tc.wantField)
				}
				return
			}
			if err != nil || !tc.check(got) {
				t.Fatalf("got %+v, err %v", got, err)
			}
		})
	}
}

func TestViewNeverShowsSecret(t *testing.T) {
	s := DefaultSettings()
	s.OpenAIAPIKey = "sk-very-secret"
	for _, v := range []map[string]any{s.View(), s.AIView()} {
		b, _ := json.Marshal(v)
		if strings.Contains(string(b), "sk-very-secret") {
			t.Fatalf("secret leaked: %s", b)
		}
		if !strings.Contains(string(b), `"openai_api_key_set":true`) {
			t.Fatalf("no _set flag: %s", b)
		}
	}
	if _, ok := s.AIView()["provider"]; !ok {
		t.Error("AI view lacks provider")
	}
}
