package api

import (
	"fmt"
	"html/template"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/invopop/jsonschema"
)

// OpenAPI builds the OpenAPI 3.1 document from the same endpoint table that registers
// the routes, so the two cannot drift apart.
func (s *Server) OpenAPI() map[string]any {
	reflector := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true, AllowAdditionalProperties: true}
	schemaOf := func(v any) any {
		if v == nil {
			return nil
		}
		if reflect.TypeOf(v).Kind() == reflect.Map {
			return map[string]any{"type": "object"}
		}
		sc := reflector.Reflect(v)
		sc.Version = ""
		return sc
	}
	errorSchema := schemaOf(Error{})
	paths := map[string]map[string]any{}
	for _, e := range s.endpoints {
		op := map[string]any{
			"summary":     e.Summary,
			"tags":        []string{e.Tag},
			"operationId": operationID(e.Method, e.Path),
		}
		var params []map[string]any
		for _, name := range pathParams(e.Path) {
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range e.Query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": q.Type}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if e.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(e.Request)}}}
		}
		ok := map[string]any{"description": "OK"}
		if e.Response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(e.Response)}}
		} else if e.Path == "/api/docs" {
			ok["content"] = map[string]any{"text/html": map[string]any{}}
		} else if strings.HasPrefix(e.Path, "/api/ws/") {
			ok["description"] = "Switching Protocols (WebSocket); messages are JSON objects"
		}
		op["responses"] = map[string]any{
			"200": ok,
			"default": map[string]any{"description": "Error", "content": map[string]any{
				"application/json": map[string]any{"schema": errorSchema}}},
		}
		if paths[e.Path] == nil {
			paths[e.Path] = map[string]any{}
		}
		paths[e.Path][strings.ToLower(e.Method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Cortex API",
			"version":     s.version,
			"description": "Local-first knowledge backend. Every route also answers with a trailing slash. Errors are {\"error\": code, \"message\": text}.",
		},
		"servers": []map[string]any{{"url": "http://127.0.0.1:8742"}},
		"paths":   paths,
	}
	if s.token != "" {
		doc["components"] = map[string]any{"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}}
		doc["security"] = []map[string]any{{"bearer": []string{}}}
	}
	return doc
}

var pathParamRE = regexp.MustCompile(`\{([^}/]+)\}`)

func pathParams(path string) []string {
	var out []string
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

func operationID(method, path string) string {
	parts := []string{strings.ToLower(method)}
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/api/"), "/") {
		seg = strings.Trim(seg, "{}")
		seg = strings.NewReplacer(".", "_", "-", "_").Replace(seg)
		if seg != "" {
			parts = append(parts, seg)
		}
	}
	return strings.Join(parts, "_")
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.OpenAPI())
}

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cortex API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{margin-top:2rem;border-bottom:1px solid #ddd}
.route{margin:.6rem 0}.m{display:inline-block;width:4.5rem;font-weight:600;font-family:monospace}
code{background:#f4f4f4;padding:.1rem .3rem;border-radius:3px}
</style></head><body>
<h1>Cortex API <small>{{.Version}}</small></h1>
<p>Local-first knowledge backend. The machine-readable description is at <a href="/api/openapi.json"><code>/api/openapi.json</code></a>.
Errors are <code>{"error": code, "message": text}</code>. Every route also answers with a trailing slash.</p>
{{range .Groups}}<h2>{{.Tag}}</h2>
{{range .Routes}}<div class="route"><span class="m">{{.Method}}</span><code>{{.Path}}</code> — {{.Summary}}
{{if .Query}}<br><small>query: {{range $i, $q := .Query}}{{if $i}}, {{end}}<code>{{$q.Name}}</code> ({{$q.Description}}){{end}}</small>{{end}}</div>
{{end}}{{end}}
</body></html>`))

func (s *Server) docs(w http.ResponseWriter, r *http.Request) {
	type group struct {
		Tag    string
		Routes []endpoint
	}
	byTag := map[string]*group{}
	var order []string
	for _, e := range s.endpoints {
		if byTag[e.Tag] == nil {
			byTag[e.Tag] = &group{Tag: e.Tag}
			order = append(order, e.Tag)
		}
		byTag[e.Tag].Routes = append(byTag[e.Tag].Routes, e)
	}
	groups := make([]group, 0, len(order))
	for _, t := range order {
		g := *byTag[t]
		sort.SliceStable(g.Routes, func(i, j int) bool { return g.Routes[i].Path < g.Routes[j].Path })
		groups = append(groups, g)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := docsPage.Execute(w, map[string]any{"Version": s.version, "Groups": groups}); err != nil {
		s.log.Error("render docs", "err", fmt.Sprint(err))
	}
}
