package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/cortexhq/cortex/internal/config"
	"github.com/cortexhq/cortex/providers"
	"github.com/cortexhq/cortex/store"
)

// Error is an API error: the HTTP status and the body {"error": Code, "message": Message}.
// Field names the request field at fault, for validation errors.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errBadRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

func errValidation(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_error", Field: field,
		Message: field + ": " + fmt.Sprintf(format, args...)}
}

func errNotFound(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// toAPIError maps errors from the layers below onto API errors. Anything unrecognised is
// an internal error whose detail is logged, not shown.
func toAPIError(err error) *Error {
	var apiErr *Error
	var fieldErr *config.FieldError
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &fieldErr):
		return errValidation(fieldErr.Field, "%s", fieldErr.Message)
	case errors.As(err, &maxBytes):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large",
			Message: fmt.Sprintf("request body is larger than %d bytes", maxBytes.Limit)}
	case errors.Is(err, store.ErrNotFound):
		return errNotFound("not_found", "%s", err.Error())
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
	case errors.Is(err, store.ErrInvalid):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_error", Message: err.Error()}
	case errors.Is(err, providers.ErrUnavailable), errors.Is(err, providers.ErrModelNotFound),
		errors.Is(err, providers.ErrUnauthorized):
		return &Error{Status: http.StatusServiceUnavailable, Code: "provider_unavailable", Message: err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Code: "timeout", Message: "the request was cancelled or timed out"}
	default:
		return &Error{Status: http.StatusInternalServerError, Code: "internal_error", Message: "internal error; see the server log"}
	}
}

// writeError sends err as a JSON error response, logging internal errors with their cause.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	apiErr := toAPIError(err)
	if apiErr.Status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", apiErr.Status, "err", err)
	}
	writeJSON(w, apiErr.Status, apiErr)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		slog.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		body = []byte(`{"error":"internal_error","message":"could not encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
