package domain

// Root is embedded by every aggregate. It tracks the stream revision the
// aggregate was loaded at (the expected revision of the next append) and the
// events recorded since.
type Root struct {
	version     int64 // revision of the last applied stored event; -1 for a new stream
	uncommitted []Event
}

// NewRoot is the root of an aggregate whose stream does not exist yet.
func NewRoot() Root { return Root{version: -1} }

// Version is the revision of the last stored event applied, -1 when none.
func (r *Root) Version() int64 { return r.version }

// Uncommitted returns the events recorded since the aggregate was loaded.
func (r *Root) Uncommitted() []Event { return r.uncommitted }

// MarkCommitted is called by the repository after a successful append.
func (r *Root) MarkCommitted(newVersion int64) {
	r.version = newVersion
	r.uncommitted = nil
}

// SetVersion is called by the repository for each event replayed from the store.
func (r *Root) SetVersion(v int64) { r.version = v }

func (r *Root) record(e Event) { r.uncommitted = append(r.uncommitted, e) }

// Aggregate is what the repository loads and saves.
type Aggregate interface {
	// Apply mutates state from one event (stored or newly recorded).
	Apply(Event)
	Version() int64
	SetVersion(int64)
	Uncommitted() []Event
	MarkCommitted(newVersion int64)
}
