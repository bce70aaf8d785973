package domain

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
)

// Event is a fact that happened. EventType is the stored name: past tense,
// with a version suffix (".v1") so a change of meaning becomes a new type and
// old events stay readable. Names are explicit strings, never derived from Go
// type names, because they are part of the stored state.
type Event interface {
	EventType() string
}

// Upcaster rewrites the JSON of an old event version into the shape of a
// newer one at decode time.
type Upcaster func(data []byte) (newType string, newData []byte, err error)

type eventDecoder func(data []byte) (Event, error)

type eventRegistry struct {
	mu        sync.RWMutex
	decoders  map[string]eventDecoder
	upcasters map[string]Upcaster
}

var registry = eventRegistry{decoders: map[string]eventDecoder{}, upcasters: map[string]Upcaster{}}

// RegisterEvent makes an event type decodable. Every event type of the
// package registers itself in an init function; values (not pointers) are
// what DecodeEvent returns.
func RegisterEvent[T Event]() {
	var zero T
	name := zero.EventType()
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, dup := registry.decoders[name]; dup {
		panic("domain: event type registered twice: " + name)
	}
	registry.decoders[name] = func(data []byte) (Event, error) {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		return v, nil
	}
}

// RegisterUpcaster declares how an old event type is read as a newer one.
func RegisterUpcaster(oldType string, up Upcaster) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	registry.upcasters[oldType] = up
}

// ErrUnknownEventType is returned for a type nobody registered. Callers must
// not skip such events silently: it means this binary is older than the data.
type ErrUnknownEventType struct{ Type string }

func (e ErrUnknownEventType) Error() string { return "unknown event type " + e.Type }

// DecodeEvent turns a stored event back into its Go value, upcasting old
// versions first.
func DecodeEvent(eventType string, data []byte) (Event, error) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	for i := 0; i < 10; i++ {
		up, ok := registry.upcasters[eventType]
		if !ok {
			break
		}
		var err error
		eventType, data, err = up(data)
		if err != nil {
			return nil, fmt.Errorf("upcast %s: %w", eventType, err)
		}
	}
	decode, ok := registry.decoders[eventType]
	if !ok {
		return nil, ErrUnknownEventType{Type: eventType}
	}
	ev, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return ev, nil
}

// EncodeEvent is the JSON payload stored for an event.
func EncodeEvent(e Event) ([]byte, error) { return json.Marshal(e) }

// EventTypes lists every registered type, sorted (used by tests and by
// subscription filters).
func EventTypes() []string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	out := make([]string, 0, len(registry.decoders))
	for name := range registry.decoders {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
