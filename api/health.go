package api

import (
	"context"
	"net/http"
	"time"

	"github.com/cortexhq/cortex/internal/config"
	"github.com/cortexhq/cortex/providers/ollama"
)

type healthResponse struct {
	Status        string         `json:"status"`
	Version       string         `json:"version"`
	UptimeSeconds int64          `json:"uptime_seconds"`
	Database      databaseHealth `json:"database"`
	AIProvider    string         `json:"ai_provider"`
}

type databaseHealth struct {
	Status        string `json:"status"`
	SchemaVersion int    `json:"schema_version"`
	Error         string `json:"error,omitempty"`
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	resp := healthResponse{
		Status:        "healthy",
		Version:       s.version,
		UptimeSeconds: int64(s.now().Sub(s.started) / time.Second),
		AIProvider:    s.settings.Get().Provider,
		Database:      databaseHealth{Status: "ok"},
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		resp.Status, resp.Database = "unhealthy", databaseHealth{Status: "error", Error: err.Error()}
		status = http.StatusServiceUnavailable
	} else if v, err := s.store.SchemaVersion(ctx); err == nil {
		resp.Database.SchemaVersion = v
	}
	writeJSON(w, status, resp)
}

type ollamaHealthResponse struct {
	// Status is "available" when Ollama answers and "unavailable" otherwise.
	Status    string      `json:"status"`
	Reachable bool        `json:"reachable"`
	Host      string      `json:"host"`
	Version   string      `json:"version,omitempty"`
	Models    []string    `json:"models"`
	Embedding modelStatus `json:"embedding_model"`
	Chat      modelStatus `json:"chat_model"`
	// InUse says whether the current AI provider needs Ollama.
	InUse bool   `json:"in_use"`
	Error string `json:"error,omitempty"`
}

type modelStatus struct {
	Name    string `json:"name"`
	Present bool   `json:"present"`
	// Pull is the command that fetches a missing model.
	Pull string `json:"pull,omitempty"`
}

// ollamaHealth always answers 200: whether Ollama is up is the answer, not an error.
func (s *Server) ollamaHealth(w http.ResponseWriter, r *http.Request) {
	cur := s.settings.Get()
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	var st ollama.Status
	if client, err := ollama.New(ollama.Config{Host: cur.OllamaHost, EmbedModel: cur.EmbeddingModel, ChatModel: cur.ChatModel}); err != nil {
		st.Error = err.Error()
	} else {
		st = client.Status(ctx)
	}
	resp := ollamaHealthResponse{
		Status:    "unavailable",
		Reachable: st.Reachable,
		Host:      cur.OllamaHost,
		Version:   st.Version,
		Models:    st.Models,
		Embedding: modelStatus{Name: cur.EmbeddingModel, Present: st.EmbedModelPresent},
		Chat:      modelStatus{Name: cur.ChatModel, Present: st.ChatModelPresent},
		InUse:     cur.Provider == config.ProviderOllama || cur.Provider == config.ProviderHybrid,
		Error:     st.Error,
	}
	if st.Reachable {
		resp.Status = "available"
	}
	if resp.Models == nil {
		resp.Models = []string{}
	}
	for _, m := range []*modelStatus{&resp.Embedding, &resp.Chat} {
		if st.Reachable && !m.Present {
			m.Pull = "ollama pull " + m.Name
		}
	}
	writeJSON(w, http.StatusOK, resp)
}
