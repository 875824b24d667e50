package api

import (
	"encoding/json"
	"net/http"

	"github.com/cortexhq/cortex/internal/config"
)

// maxSettingsBody is far above any real settings document.
const maxSettingsBody = 64 << 10

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.settingsView(s.settings.Get()))
}

func (s *Server) settingsView(cur config.Settings) map[string]any {
	view := cur.View()
	for k, v := range s.serverInfo {
		view[k] = v
	}
	return view
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	next, ok := s.applySettings(w, r)
	if ok {
		writeJSON(w, http.StatusOK, s.settingsView(next))
	}
}

func (s *Server) getAISettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.settings.Get().AIView())
}

func (s *Server) putAISettings(w http.ResponseWriter, r *http.Request) {
	next, ok := s.applySettings(w, r)
	if ok {
		writeJSON(w, http.StatusOK, next.AIView())
	}
}

// applySettings validates and saves a settings patch. Server-level values (host, port,
// paths) are shown by GET but fixed at start, so a PUT naming them is refused rather than
// silently ignored.
func (s *Server) applySettings(w http.ResponseWriter, r *http.Request) (config.Settings, bool) {
	var patch map[string]json.RawMessage
	if err := decodeJSON(r, maxSettingsBody, &patch); err != nil {
		s.writeError(w, r, err)
		return config.Settings{}, false
	}
	for k, v := range patch {
		fixed, isServer := s.serverInfo[k]
		if !isServer {
			continue
		}
		if cur, _ := json.Marshal(fixed); string(cur) == string(v) {
			delete(patch, k) // echoed back unchanged from a GET
			continue
		}
		s.writeError(w, r, errValidation(k, "is read-only while the server runs; set it with a flag, a CORTEX_ environment variable or config.toml"))
		return config.Settings{}, false
	}
	next, err := s.settings.Update(r.Context(), patch, s.store.PutSettings)
	if err != nil {
		s.writeError(w, r, err)
		return config.Settings{}, false
	}
	return next, true
}
