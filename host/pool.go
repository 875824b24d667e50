package host

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	extism "github.com/extism/go-sdk"
)

// instance is one extism plugin instance: it serves one call at a time.
type instance struct {
	plugin    *extism.Plugin
	stderr    *headBuffer
	calls     int
	idleSince time.Time
}

// headBuffer keeps the first max bytes written to a guest's stderr since the last Reset:
// a dying Go guest prints why first and a long goroutine dump after.
type headBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *headBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *headBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func (b *headBuffer) Reset() {
	b.mu.Lock()
	b.buf = b.buf[:0]
	b.mu.Unlock()
}

// pool keeps warm instances of one plugin version. Instances are made lazily up to max;
// acquire waits for a free one but gives up when ctx ends (the stock extism pool busy-waits
// and ignores cancellation). An instance is retired after maxCalls calls, and one that
// failed in a way that may have left it broken is closed instead of reused.
type pool struct {
	newInstance func() (*instance, error)
	maxCalls    int
	slots       chan struct{}  // one token per live instance
	idle        chan *instance // capacity == max, so release never blocks
	live        atomic.Int64
	closed      atomic.Bool
}

func newPool(max, maxCalls int, newInstance func() (*instance, error)) *pool {
	return &pool{
		newInstance: newInstance,
		maxCalls:    maxCalls,
		slots:       make(chan struct{}, max),
		idle:        make(chan *instance, max),
	}
}

func (p *pool) acquire(ctx context.Context) (*instance, error) {
	select {
	case in := <-p.idle:
		return in, nil
	default:
	}
	select {
	case in := <-p.idle:
		return in, nil
	case p.slots <- struct{}{}:
		in, err := p.newInstance()
		if err != nil {
			<-p.slots
			return nil, err
		}
		p.live.Add(1)
		return in, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release returns in to the pool, or closes it when it is unhealthy, worn out, or the pool
// is closing.
func (p *pool) release(in *instance, healthy bool) {
	in.calls++
	if !healthy || in.calls >= p.maxCalls || p.closed.Load() {
		p.discard(in)
		return
	}
	in.idleSince = time.Now()
	p.idle <- in
	// close may have drained idle between our check and the send.
	if p.closed.Load() {
		p.drain()
	}
}

// reapIdle closes the idle instances released before cutoff and returns how many.
func (p *pool) reapIdle(cutoff time.Time) int {
	reaped := 0
	for range len(p.idle) {
		select {
		case in := <-p.idle:
			if in.idleSince.Before(cutoff) {
				p.discard(in)
				reaped++
				continue
			}
			// Taking it out made room: this send cannot block.
			p.idle <- in
		default:
			return reaped
		}
	}
	return reaped
}

func (p *pool) discard(in *instance) {
	_ = in.plugin.Close(context.Background())
	p.live.Add(-1)
	<-p.slots
}

func (p *pool) drain() {
	for {
		select {
		case in := <-p.idle:
			p.discard(in)
		default:
			return
		}
	}
}

// close stops reuse and closes idle instances; instances in use close on release.
func (p *pool) close() {
	p.closed.Store(true)
	p.drain()
}
