package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce gathers the burst of events one save or copy makes (create, several
// writes, chmod, rename) into one reload.
const watchDebounce = 300 * time.Millisecond

// Watch reloads changed plugins when .wasm files or plugins.toml in the plugins folder
// change, until ctx ends. Each reload compiles and validates the new version before
// swapping it in, so a half-written file only logs an error and the old version serves.
func (h *Host) Watch(ctx context.Context) error {
	if h.opts.PluginsDir == "" {
		return nil
	}
	if err := os.MkdirAll(h.opts.PluginsDir, 0o755); err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if err := w.Add(h.opts.PluginsDir); err != nil {
		w.Close()
		return err
	}
	go func() {
		defer w.Close()
		var timer *time.Timer
		var fire <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-h.closed:
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				name := filepath.Base(ev.Name)
				if !strings.HasSuffix(name, ".wasm") && name != "plugins.toml" {
					continue
				}
				if timer == nil {
					timer = time.NewTimer(watchDebounce)
				} else {
					timer.Reset(watchDebounce)
				}
				fire = timer.C
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				h.log.Warn("plugin folder watcher", "err", err)
			case <-fire:
				fire = nil
				h.log.Info("plugins folder changed; reloading what changed")
				if err := h.ReloadChanged(ctx); err != nil {
					h.log.Error("reload plugins", "err", err)
				}
			}
		}
	}()
	return nil
}
