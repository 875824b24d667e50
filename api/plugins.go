package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/cortexhq/cortex/host"
)

// PluginHost is the plugin runtime as the API sees it.
type PluginHost interface {
	Plugins() []host.PluginInfo
	Plugin(name string) (host.PluginInfo, error)
	Reload(ctx context.Context, name string) (host.PluginInfo, error)
}

type pluginsResponse struct {
	Plugins []host.PluginInfo `json:"plugins"`
}

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request) {
	if s.plugins == nil {
		writeJSON(w, http.StatusOK, pluginsResponse{Plugins: []host.PluginInfo{}})
		return
	}
	writeJSON(w, http.StatusOK, pluginsResponse{Plugins: s.plugins.Plugins()})
}

func (s *Server) getPlugin(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	info, err := s.pluginInfo(name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) pluginInfo(name string) (host.PluginInfo, error) {
	if s.plugins == nil {
		return host.PluginInfo{}, errNotFound("plugin_not_found", "plugin %q does not exist", truncate(name, 60))
	}
	info, err := s.plugins.Plugin(name)
	if errors.Is(err, host.ErrNotFound) {
		return info, errNotFound("plugin_not_found", "plugin %q does not exist", truncate(name, 60))
	}
	return info, err
}

// reloadPlugin loads the plugin again and answers with its state. A version that fails
// to load leaves the old one serving: that is a 422 naming the reason.
func (s *Server) reloadPlugin(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if _, err := s.pluginInfo(name); err != nil {
		s.writeError(w, r, err)
		return
	}
	info, err := s.plugins.Reload(r.Context(), name)
	if err != nil {
		if errors.Is(err, host.ErrNotFound) {
			s.writeError(w, r, errNotFound("plugin_not_found", "%s", err.Error()))
			return
		}
		writeJSON(w, http.StatusUnprocessableEntity, &Error{Code: "reload_failed", Message: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, info)
}
