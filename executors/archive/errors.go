package archive

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCancelled is matched (errors.Is) by the *CancelledError a cancelled
// backup returns.
var ErrCancelled = errors.New("backup cancelled")

// CancelledError reports a cancelled backup and the clean-up done, in words,
// one step per line of CleanedUp.
type CancelledError struct {
	CleanedUp []string
}

func (e *CancelledError) Error() string {
	if len(e.CleanedUp) == 0 {
		return "backup cancelled"
	}
	return "backup cancelled; cleaned up: " + strings.Join(e.CleanedUp, "; ")
}

func (e *CancelledError) Is(target error) bool { return target == ErrCancelled }

// ErrPaused is matched (errors.Is) by *PausedError.
var ErrPaused = errors.New("backup paused")

// PausedError reports a backup that stopped at a safe point. Checkpoint has
// been recorded in the Journal; Where says in words where it stopped.
type PausedError struct {
	Checkpoint Checkpoint
	Where      string
}

func (e *PausedError) Error() string { return "backup paused " + e.Where }

func (e *PausedError) Is(target error) bool { return target == ErrPaused }

// Problem names what is wrong with an archive being read.
type Problem string

const (
	ProblemGzip        Problem = "gzip"         // the compressed stream is damaged
	ProblemTar         Problem = "tar"          // the tar structure is damaged
	ProblemTruncated   Problem = "truncated"    // the archive ends too early
	ProblemSHA256      Problem = "sha256"       // the archive's SHA-256 differs from the manifest
	ProblemSize        Problem = "size"         // the archive's size differs from the manifest
	ProblemEntrySHA256 Problem = "entry-sha256" // an entry's content differs from the manifest
	ProblemEntry       Problem = "entry"        // an entry's name or size differs from the manifest
	ProblemMissing     Problem = "missing"      // entries of the manifest are not in the archive
	ProblemExtra       Problem = "extra"        // the archive holds entries the manifest does not list
	ProblemManifest    Problem = "manifest"     // the manifest inside the archive is absent or wrong
)

// ArchiveError is returned by Extract when the archive is damaged or does
// not match its manifest. Extract never reports success on such an archive.
type ArchiveError struct {
	Problem Problem
	Entry   string // the key concerned, if any
	Detail  string // plain words
	Err     error  // the underlying error, if any
}

func (e *ArchiveError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "archive check failed (%s): %s", e.Problem, e.Detail)
	if e.Entry != "" {
		fmt.Fprintf(&b, " (entry %q)", e.Entry)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *ArchiveError) Unwrap() error { return e.Err }
