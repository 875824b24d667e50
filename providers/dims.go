package providers

import (
	"fmt"
	"sync"
)

// Dimensions remembers how long the first vector of an embedding model was and refuses
// any other length afterwards: vectors of different lengths would silently corrupt an
// index. Remote providers know their dimensions only once they have answered.
type Dimensions struct {
	mu sync.Mutex
	n  int
}

// Check records n on first use and returns an error when a later n differs (or is 0).
func (d *Dimensions) Check(n int) error {
	if n == 0 {
		return fmt.Errorf("empty embedding: %w", ErrBadRequest)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == 0 {
		d.n = n
		return nil
	}
	if d.n != n {
		return fmt.Errorf("got %d dimensions, earlier responses had %d: %w", n, d.n, ErrBadRequest)
	}
	return nil
}

// Get returns the dimensions seen so far, 0 before the first vector.
func (d *Dimensions) Get() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}
