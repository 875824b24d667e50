package host

import (
	"encoding/json"
	"sync"
	"time"
)

// RunEvent is one event of a workflow run: a node starting or finishing, progress or a
// custom event the plugin emitted, a streamed token, the run's end.
type RunEvent struct {
	Type       string          `json:"type"`
	RunID      string          `json:"run_id"`
	Workflow   string          `json:"workflow,omitempty"`
	ItemID     string          `json:"item_id,omitempty"`
	Node       string          `json:"node,omitempty"`
	Attempt    int             `json:"attempt,omitempty"`
	Step       string          `json:"step,omitempty"`
	Progress   float64         `json:"progress,omitempty"`
	Message    string          `json:"message,omitempty"`
	DurationMS int64           `json:"duration_ms,omitempty"`
	Status     string          `json:"status,omitempty"`
	Error      string          `json:"error,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Time       time.Time       `json:"time"`
}

// Event types the engine publishes besides the plugin's own.
const (
	EventRunStarted   = "run_started"
	EventNodeStarted  = "node_started"
	EventNodeFinished = "node_finished"
	EventNodeFailed   = "node_failed"
	EventRunFinished  = "run_finished"
)

// Broker fans run events out to any number of live subscribers by topic ("run:<id>",
// "item:<id>"). A subscriber that falls behind loses events rather than slowing the run.
type Broker struct {
	mu   sync.Mutex
	subs map[string]map[chan RunEvent]struct{}
}

// NewBroker returns an empty broker.
func NewBroker() *Broker { return &Broker{subs: map[string]map[chan RunEvent]struct{}{}} }

// Subscribe returns a channel of the topic's events and a func that ends the subscription.
func (b *Broker) Subscribe(topic string) (<-chan RunEvent, func()) {
	ch := make(chan RunEvent, 256)
	b.mu.Lock()
	if b.subs[topic] == nil {
		b.subs[topic] = map[chan RunEvent]struct{}{}
	}
	b.subs[topic][ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs[topic], ch)
			if len(b.subs[topic]) == 0 {
				delete(b.subs, topic)
			}
			b.mu.Unlock()
		})
	}
}

// Publish sends ev to every subscriber of topic without blocking.
func (b *Broker) Publish(topic string, ev RunEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs[topic] {
		select {
		case ch <- ev:
		default:
		}
	}
}
