package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// WalkRoutes calls fn for every route the router serves.
func WalkRoutes(s *Server, fn func(method, route string)) error {
	r, ok := s.handler.(chi.Routes)
	if !ok {
		return http.ErrNotSupported
	}
	return chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		fn(method, route)
		return nil
	})
}
