package config

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// settingField describes one Settings field by its JSON name.
type settingField struct {
	index  int
	name   string // JSON name, as in /api/settings
	aiName string // name in /api/settings/ai; "" when not an AI setting
	secret bool
}

var settingFields = func() []settingField {
	t := reflect.TypeOf(Settings{})
	out := make([]settingField, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		out = append(out, settingField{
			index:  i,
			name:   sf.Tag.Get("json"),
			aiName: sf.Tag.Get("ai"),
			secret: sf.Tag.Get("secret") == "true",
		})
	}
	return out
}()

func lookupField(key string) (settingField, bool) {
	for _, f := range settingFields {
		if key == f.name || (f.aiName != "" && key == f.aiName) {
			return f, true
		}
	}
	return settingField{}, false
}

// Names lists every setting's JSON name, sorted.
func Names() []string {
	out := make([]string, 0, len(settingFields))
	for _, f := range settingFields {
		out = append(out, f.name)
	}
	sort.Strings(out)
	return out
}

// View is what GET /api/settings shows: every setting by its JSON name, with the secret
// replaced by "<name>_set": true|false. The secret itself is never shown.
func (s Settings) View() map[string]any { return s.view(false) }

// AIView is what GET /api/settings/ai shows: the AI settings under their AI names.
func (s Settings) AIView() map[string]any { return s.view(true) }

func (s Settings) view(aiOnly bool) map[string]any {
	v := reflect.ValueOf(s)
	out := map[string]any{}
	for _, f := range settingFields {
		name := f.name
		if aiOnly {
			if f.aiName == "" {
				continue
			}
			name = f.aiName
		}
		if f.secret {
			out[name+"_set"] = v.Field(f.index).String() != ""
			continue
		}
		out[name] = v.Field(f.index).Interface()
	}
	return out
}

// Apply returns s with patch applied and validated, plus the changed values by JSON name,
// ready to persist. Keys may be JSON names or AI names. Unknown keys, wrongly typed values
// and invalid results are a *FieldError naming the key. A null or "" secret clears it.
func (s Settings) Apply(patch map[string]json.RawMessage) (Settings, map[string]json.RawMessage, error) {
	out := s
	v := reflect.ValueOf(&out).Elem()
	changed := map[string]json.RawMessage{}
	keys := make([]string, 0, len(patch))
	for k := range patch {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		raw := patch[key]
		f, ok := lookupField(key)
		if !ok {
			if strings.HasSuffix(key, "_set") {
				if base, ok := lookupField(strings.TrimSuffix(key, "_set")); ok && base.secret {
					continue // echoed back from a GET: read-only, ignore
				}
			}
			return s, nil, &FieldError{key, "unknown setting"}
		}
		field := v.Field(f.index)
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			if !f.secret {
				return s, nil, &FieldError{key, "must not be null"}
			}
			raw = json.RawMessage(`""`)
		}
		ptr := reflect.New(field.Type())
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(ptr.Interface()); err != nil {
			return s, nil, &FieldError{key, "must be " + kindName(field.Kind())}
		}
		field.Set(ptr.Elem())
		canon, _ := json.Marshal(ptr.Elem().Interface())
		changed[f.name] = canon
	}
	if err := out.Validate(); err != nil {
		return s, nil, err
	}
	return out, changed, nil
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Int:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	default:
		return "a string"
	}
}

// ApplyStored overlays values saved by an earlier run. Keys a newer or older version no
// longer knows are skipped and reported, so a downgrade never stops the server starting.
func (s Settings) ApplyStored(stored map[string]json.RawMessage) (Settings, []string) {
	var skipped []string
	for k, raw := range stored {
		next, _, err := s.Apply(map[string]json.RawMessage{k: raw})
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s (%v)", k, err))
			continue
		}
		s = next
	}
	sort.Strings(skipped)
	return s, skipped
}

// Live holds the current Settings for a running server. Readers take a snapshot with Get;
// Update applies a patch, persists it and notifies subscribers, one update at a time.
type Live struct {
	update sync.Mutex // serialises Update so concurrent PUTs never lose a write
	mu     sync.RWMutex
	cur    Settings
	subs   []func(prev, next Settings)
}

// NewLive starts with s.
func NewLive(s Settings) *Live { return &Live{cur: s} }

// Get returns the current settings.
func (l *Live) Get() Settings {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cur
}

// Subscribe registers fn to run after every successful update.
func (l *Live) Subscribe(fn func(prev, next Settings)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.subs = append(l.subs, fn)
}

// Update applies patch, persists the changed values with save, then makes them current.
// When save fails nothing changes.
func (l *Live) Update(ctx context.Context, patch map[string]json.RawMessage, save func(context.Context, map[string]json.RawMessage) error) (Settings, error) {
	l.update.Lock()
	defer l.update.Unlock()
	old := l.Get()
	next, changed, err := old.Apply(patch)
	if err != nil {
		return old, err
	}
	if len(changed) > 0 {
		if err := save(ctx, changed); err != nil {
			return old, fmt.Errorf("save settings: %w", err)
		}
	}
	l.mu.Lock()
	l.cur = next
	subs := append([]func(Settings, Settings){}, l.subs...)
	l.mu.Unlock()
	for _, fn := range subs {
		fn(old, next)
	}
	return next, nil
}
