package tool

import (
	"os"
	"time"
)

// Test knobs (environment variables) of the stand-ins; the real tools have
// no such thing and ignore them.
const (
	// EnvProgressInterval sets the progress bar period (a Go duration);
	// the real tools draw every 3 s.
	EnvProgressInterval = "MONGOTOOLS_PROGRESS_INTERVAL"
	// EnvDocumentDelay makes the stand-ins pause after each document (a Go
	// duration), so tests can watch progress or cancel mid-collection.
	EnvDocumentDelay = "MONGOTOOLS_DOCUMENT_DELAY"
)

// ProgressInterval is the progress bar period.
func ProgressInterval() time.Duration { return envDuration(EnvProgressInterval, 3*time.Second) }

// DocumentDelay is the pause after each document.
func DocumentDelay() time.Duration { return envDuration(EnvDocumentDelay, 0) }

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d >= 0 {
		return d
	}
	return def
}
