// Package api is Cortex's HTTP and WebSocket edge: the chi router, request decoding and
// validation, the mapping of errors to {"error","message"} responses with fitting status
// codes, the loopback Host check, CORS for the Tauri origins, the optional bearer token,
// and the OpenAPI document that describes every route.
//
// Handlers reach storage and the rest of the backend through small interfaces declared
// here, so tests can run the real router over a real store.
package api
