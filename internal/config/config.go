// Package config defines Cortex's configuration: the server-level values fixed at start
// (address, data directory, token) and the runtime Settings that the API can change
// (AI provider, models, chunking, concurrency). It reads them, in rising precedence, from
// defaults, <data_dir>/config.toml, CORTEX_* environment variables and flags; values saved
// through the API (kept in SQLite) are applied last, so a choice made in the app survives
// a restart.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Provider names for Settings.Provider.
const (
	ProviderLocal  = "local"
	ProviderOllama = "ollama"
	ProviderOpenAI = "openai"
	// ProviderHybrid embeds with Ollama on this machine and chats with the OpenAI-compatible
	// endpoint.
	ProviderHybrid = "hybrid"
)

// Settings are the values the desktop app can change at runtime through /api/settings.
// JSON names follow the seed design's settings (ai_provider, ollama_host, …).
type Settings struct {
	Provider                string `json:"ai_provider" toml:"ai_provider" ai:"provider"`
	OllamaHost              string `json:"ollama_host" toml:"ollama_host" ai:"ollama_host"`
	EmbeddingModel          string `json:"embedding_model" toml:"embedding_model" ai:"embedding_model"`
	ChatModel               string `json:"chat_model" toml:"chat_model" ai:"chat_model"`
	OpenAIBaseURL           string `json:"openai_api_base" toml:"openai_api_base" ai:"openai_api_base"`
	OpenAIEmbeddingModel    string `json:"openai_embedding_model" toml:"openai_embedding_model" ai:"openai_embedding_model"`
	OpenAIChatModel         string `json:"openai_chat_model" toml:"openai_chat_model" ai:"openai_chat_model"`
	OpenAIAPIKey            string `json:"openai_api_key" toml:"openai_api_key" ai:"openai_api_key" secret:"true"`
	ChunkSize               int    `json:"chunk_size" toml:"chunk_size" ai:"chunk_size"`
	ChunkOverlap            int    `json:"chunk_overlap" toml:"chunk_overlap" ai:"chunk_overlap"`
	MaxConcurrentProcessing int    `json:"max_concurrent_processing" toml:"max_concurrent_processing" ai:"max_concurrent_processing"`
	FetchURLs               bool   `json:"fetch_urls" toml:"fetch_urls"`
}

// DefaultSettings are the offline defaults: everything works with nothing else installed.
func DefaultSettings() Settings {
	return Settings{
		Provider:                ProviderLocal,
		OllamaHost:              "http://localhost:11434",
		EmbeddingModel:          "nomic-embed-text",
		ChatModel:               "llama3.2:3b",
		OpenAIBaseURL:           "https://api.openai.com/v1",
		OpenAIEmbeddingModel:    "text-embedding-3-small",
		OpenAIChatModel:         "gpt-4o-mini",
		ChunkSize:               500,
		ChunkOverlap:            50,
		MaxConcurrentProcessing: 2,
		FetchURLs:               true,
	}
}

// FieldError names the setting that failed validation.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate checks every setting and returns a *FieldError for the first bad one.
func (s Settings) Validate() error {
	switch s.Provider {
	case ProviderLocal, ProviderOllama, ProviderOpenAI, ProviderHybrid:
	default:
		return &FieldError{"ai_provider", fmt.Sprintf("must be one of local, ollama, openai, hybrid (got %q)", s.Provider)}
	}
	if err := checkHTTPURL(s.OllamaHost); err != nil {
		return &FieldError{"ollama_host", err.Error()}
	}
	if err := checkHTTPURL(s.OpenAIBaseURL); err != nil {
		return &FieldError{"openai_api_base", err.Error()}
	}
	for field, v := range map[string]string{
		"embedding_model":        s.EmbeddingModel,
		"chat_model":             s.ChatModel,
		"openai_embedding_model": s.OpenAIEmbeddingModel,
		"openai_chat_model":      s.OpenAIChatModel,
	} {
		if strings.TrimSpace(v) == "" {
			return &FieldError{field, "must not be empty"}
		}
		if len(v) > 200 {
			return &FieldError{field, "is longer than 200 characters"}
		}
	}
	if s.ChunkSize < 50 || s.ChunkSize > 8000 {
		return &FieldError{"chunk_size", fmt.Sprintf("must be between 50 and 8000 tokens (got %d)", s.ChunkSize)}
	}
	if s.ChunkOverlap < 0 || s.ChunkOverlap >= s.ChunkSize/2 {
		return &FieldError{"chunk_overlap", fmt.Sprintf("must be at least 0 and less than half of chunk_size (got %d)", s.ChunkOverlap)}
	}
	if s.MaxConcurrentProcessing < 1 || s.MaxConcurrentProcessing > 64 {
		return &FieldError{"max_concurrent_processing", fmt.Sprintf("must be between 1 and 64 (got %d)", s.MaxConcurrentProcessing)}
	}
	return nil
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http(s) URL such as http://localhost:11434 (got %q)", raw)
	}
	return nil
}

// Config is everything the process starts with.
type Config struct {
	Host string `toml:"host"`
	Port int    `toml:"port"`
	// DataDir holds the database, config.toml, plugins/ and cache/.
	DataDir    string `toml:"data_dir"`
	DBPath     string `toml:"db_path"`
	PluginsDir string `toml:"plugins_dir"`
	LogLevel   string `toml:"log_level"`
	// Token, when set, is required as a bearer token on every request. Read from the
	// environment only (CORTEX_TOKEN), so it never sits in a file or a process list.
	Token       string `toml:"-"`
	ParentWatch bool   `toml:"-"`
	Settings
}

// Default returns the defaults: 127.0.0.1:8742 and ~/.cortex.
func Default() Config {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return Config{
		Host:     "127.0.0.1",
		Port:     8742,
		DataDir:  filepath.Join(home, ".cortex"),
		LogLevel: "info",
		Settings: DefaultSettings(),
	}
}

// ApplyDerived fills the paths that default to places inside the data directory.
func (c *Config) ApplyDerived() {
	if c.DBPath == "" {
		c.DBPath = filepath.Join(c.DataDir, "cortex.db")
	}
	if c.PluginsDir == "" {
		c.PluginsDir = filepath.Join(c.DataDir, "plugins")
	}
}

// Validate checks the server-level values and the settings.
func (c Config) Validate() error {
	if ip := net.ParseIP(c.Host); ip == nil && c.Host != "localhost" {
		return &FieldError{"host", fmt.Sprintf("must be an IP address or localhost (got %q)", c.Host)}
	}
	if c.Port < 0 || c.Port > 65535 {
		return &FieldError{"port", fmt.Sprintf("must be between 0 and 65535 (got %d)", c.Port)}
	}
	if c.DataDir == "" {
		return &FieldError{"data_dir", "must not be empty"}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return &FieldError{"log_level", fmt.Sprintf("must be debug, info, warn or error (got %q)", c.LogLevel)}
	}
	return c.Settings.Validate()
}

// LoadFile overlays the TOML file at path onto c. A missing file is not an error; an
// unknown key is, naming the file, line and key.
func (c *Config) LoadFile(path string) error {
	body, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read config %s: %w", path, err)
	}
	md, err := toml.Decode(string(body), c)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return fmt.Errorf("config %s: unknown key %q", path, undecoded[0].String())
	}
	return nil
}

// LoadEnv overlays CORTEX_* variables onto c: CORTEX_<NAME> for every TOML key (CORTEX_PORT,
// CORTEX_DB_PATH, CORTEX_OLLAMA_HOST, CORTEX_AI_PROVIDER, …) plus CORTEX_TOKEN.
func (c *Config) LoadEnv(lookup func(string) (string, bool)) error {
	if v, ok := lookup("CORTEX_TOKEN"); ok {
		c.Token = v
	}
	return walkFields(reflect.ValueOf(c).Elem(), func(key string, f reflect.Value) error {
		v, ok := lookup("CORTEX_" + strings.ToUpper(key))
		if !ok {
			return nil
		}
		if err := setFromString(f, v); err != nil {
			return fmt.Errorf("CORTEX_%s: %w", strings.ToUpper(key), err)
		}
		return nil
	})
}

// walkFields calls fn for every field with a toml key, descending into embedded structs.
func walkFields(v reflect.Value, fn func(key string, f reflect.Value) error) error {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if err := walkFields(v.Field(i), fn); err != nil {
				return err
			}
			continue
		}
		key := strings.Split(sf.Tag.Get("toml"), ",")[0]
		if key == "" || key == "-" {
			continue
		}
		if err := fn(key, v.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

func setFromString(f reflect.Value, s string) error {
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("not an integer: %q", s)
		}
		f.SetInt(int64(n))
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("not a boolean: %q", s)
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("unsupported kind %s", f.Kind())
	}
	return nil
}
