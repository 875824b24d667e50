package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/go-chi/chi/v5"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/store"
)

// Processing is the background pipeline as the API sees it.
type Processing interface {
	// Wake tells the queue new work is waiting.
	Wake()
	Active() []host.ActiveRun
	Reembed() *host.ReembedStatus
	Run(ctx context.Context, id string) (store.Run, error)
	Subscribe(topic string) (<-chan host.RunEvent, func())
}

func (s *Server) wake() {
	if s.processing != nil {
		s.processing.Wake()
	}
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if s.processing == nil {
		s.writeError(w, r, errNotFound("run_not_found", "run %q does not exist", truncate(id, 60)))
		return
	}
	run, err := s.processing.Run(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		err = errNotFound("run_not_found", "run %q does not exist", truncate(id, 60))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

type chunksResponse struct {
	ItemID string        `json:"item_id"`
	Chunks []store.Chunk `json:"chunks"`
}

func (s *Server) itemChunks(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if _, err := s.store.GetItem(r.Context(), id); err != nil {
		s.writeError(w, r, itemError(err, id))
		return
	}
	chunks, err := s.store.Chunks(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, chunksResponse{ItemID: id, Chunks: chunks})
}

type queueResponse struct {
	// Counts of items by status.
	Counts         map[string]int      `json:"counts"`
	Jobs           map[string]int      `json:"jobs"`
	Running        []host.ActiveRun    `json:"running"`
	RecentFailures []store.ItemError   `json:"recent_failures"`
	Waiting        []store.ItemError   `json:"waiting"`
	Reembed        *host.ReembedStatus `json:"reembed,omitempty"`
}

func (s *Server) processingQueue(w http.ResponseWriter, r *http.Request) {
	st, err := s.store.Queue(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := queueResponse{Counts: st.Items, Jobs: st.Jobs, Running: []host.ActiveRun{}, RecentFailures: st.RecentErrors, Waiting: st.Waiting}
	if s.processing != nil {
		for _, a := range s.processing.Active() {
			if a.Workflow == "processing" {
				resp.Running = append(resp.Running, a)
			}
		}
		resp.Reembed = s.processing.Reembed()
	}
	writeJSON(w, http.StatusOK, resp)
}

type retryRequest struct {
	// ItemIDs to retry; empty retries every failed item.
	ItemIDs []string `json:"item_ids,omitempty"`
}

type retryResponse struct {
	Queued []string `json:"queued"`
	Count  int      `json:"count"`
}

func (s *Server) retryProcessing(w http.ResponseWriter, r *http.Request) {
	var req retryRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, maxSettingsBody, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if len(req.ItemIDs) > 10000 {
		s.writeError(w, r, errValidation("item_ids", "at most 10000 per request"))
		return
	}
	queued, err := s.store.RetryItems(r.Context(), req.ItemIDs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.wake()
	writeJSON(w, http.StatusOK, retryResponse{Queued: queued, Count: len(queued)})
}

// processingEvent is one message of WS /api/ws/processing/{item_id}.
type processingEvent struct {
	Type     string  `json:"type"`
	ItemID   string  `json:"item_id"`
	RunID    string  `json:"run_id,omitempty"`
	Step     string  `json:"step,omitempty"`
	Progress float64 `json:"progress"`
	Message  string  `json:"message,omitempty"`
	Status   string  `json:"status,omitempty"`
	Error    string  `json:"error,omitempty"`
}

// wsAccept upgrades a WebSocket after our own Origin check (the Tauri origins and local
// development servers, like CORS); a client that sends no Origin is not a browser.
func (s *Server) wsAccept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, bool) {
	if origin := r.Header.Get("Origin"); origin != "" && !allowedOrigin(r, origin) {
		if u, err := url.Parse(origin); err != nil || !strings.EqualFold(u.Host, r.Host) {
			writeJSON(w, http.StatusForbidden, &Error{Code: "forbidden_origin", Message: "origin " + origin + " may not open this WebSocket"})
			return nil, false
		}
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return nil, false
	}
	return c, true
}

// processingWS streams an item's processing: progress events, then one carrying its final
// status, then the socket closes. For an item already done the final event comes at once.
func (s *Server) processingWS(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "item_id")
	if _, err := s.store.GetItem(r.Context(), id); err != nil {
		s.writeError(w, r, itemError(err, id))
		return
	}
	c, ok := s.wsAccept(w, r)
	if !ok {
		return
	}
	defer c.CloseNow()
	ctx := c.CloseRead(r.Context())

	var events <-chan host.RunEvent
	if s.processing != nil {
		ch, unsubscribe := s.processing.Subscribe("item:" + id)
		defer unsubscribe()
		events = ch
	}
	// Subscribed first, then read the status: an end that happens in between is not missed.
	it, err := s.store.GetItem(ctx, id)
	if err != nil {
		wsjson.Write(ctx, c, processingEvent{Type: "error", ItemID: id, Error: "item no longer exists"})
		c.Close(websocket.StatusNormalClosure, "")
		return
	}
	if final(it.Status) {
		s.sendFinal(ctx, c, it)
		return
	}
	wsjson.Write(ctx, c, processingEvent{Type: "status", ItemID: id, Status: it.Status, Message: it.Error})
	keepalive := time.NewTicker(30 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keepalive.C:
			// A status poll doubles as keepalive and catches an end whose event was dropped.
			if it, err := s.store.GetItem(ctx, id); err == nil && final(it.Status) {
				s.sendFinal(ctx, c, it)
				return
			}
		case ev := <-events:
			if ev.Type == host.EventItemStatus {
				if final(ev.Status) {
					if it, err := s.store.GetItem(ctx, id); err == nil {
						s.sendFinal(ctx, c, it)
					}
					return
				}
				wsjson.Write(ctx, c, processingEvent{Type: "status", ItemID: id, Status: ev.Status, Message: ev.Error})
				continue
			}
			if msg, ok := toProcessingEvent(ev); ok {
				if err := wsjson.Write(ctx, c, msg); err != nil {
					return
				}
			}
		}
	}
}

func final(status string) bool { return status == store.StatusReady || status == store.StatusFailed }

func (s *Server) sendFinal(ctx context.Context, c *websocket.Conn, it store.Item) {
	wsjson.Write(ctx, c, processingEvent{Type: "complete", ItemID: it.ID, RunID: it.LatestRunID, Status: it.Status,
		Progress: 1, Error: it.Error, Step: "done"})
	c.Close(websocket.StatusNormalClosure, "")
}

// toProcessingEvent maps engine events onto the seed's progress messages.
func toProcessingEvent(ev host.RunEvent) (processingEvent, bool) {
	out := processingEvent{ItemID: ev.ItemID, RunID: ev.RunID, Step: ev.Step, Progress: ev.Progress, Message: ev.Message}
	switch ev.Type {
	case host.EventRunStarted:
		out.Type, out.Message = "started", "processing started"
	case host.EventNodeStarted:
		out.Type = "progress"
		if out.Message == "" {
			out.Message = ev.Node + " started"
		}
	case host.EventNodeFinished:
		out.Type = "progress"
		if out.Message == "" {
			out.Message = ev.Node + " finished"
		}
	case host.EventNodeFailed:
		out.Type, out.Error = "retry", ev.Error
	case host.EventRunFinished, "token":
		return out, false
	default:
		out.Type = ev.Type
	}
	return out, true
}
