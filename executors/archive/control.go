package archive

import "sync/atomic"

// StopRequest is what the operation's owner asks of a running backup.
type StopRequest int32

const (
	StopNone   StopRequest = iota // keep going
	StopPause                     // stop at the next safe point and keep the state
	StopCancel                    // stop now and remove everything
)

func (r StopRequest) String() string {
	switch r {
	case StopPause:
		return "pause"
	case StopCancel:
		return "cancel"
	default:
		return "none"
	}
}

// Control is polled by the pipeline at every block boundary and while it
// waits, so Requested must be cheap (an atomic load).
type Control interface {
	Requested() StopRequest
}

// StopSignal is a Control the worker sets when a pause or cancel command
// arrives. The zero value requests nothing. A cancel is never downgraded to
// a pause.
type StopSignal struct{ v atomic.Int32 }

// Request asks for a stop; a cancel overrides a pause, never the reverse.
func (s *StopSignal) Request(r StopRequest) {
	for {
		cur := s.v.Load()
		if StopRequest(cur) == StopCancel || StopRequest(cur) == r {
			return
		}
		if s.v.CompareAndSwap(cur, int32(r)) {
			return
		}
	}
}

// Requested implements Control.
func (s *StopSignal) Requested() StopRequest { return StopRequest(s.v.Load()) }

type noControl struct{}

func (noControl) Requested() StopRequest { return StopNone }
