package gdrive

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"backupd/executors/archive"
)

// uploadState is what a checkpoint keeps of an unfinished upload. The
// session URI is a credential: the state goes to the checkpoint stream
// only, never to a log.
type uploadState struct {
	SessionURI string `json:"session_uri"`
	FileName   string `json:"file_name"`
	// Confirmed is how many bytes the session held when the state was made.
	Confirmed int64 `json:"confirmed"`
	// TotalWritten is where the resumed writer continues: the bytes after
	// it are produced again by the caller.
	TotalWritten int64 `json:"total_written"`
	// Tail is bytes [TotalWritten-len(Tail), TotalWritten): written, but
	// perhaps not held by the session (less than 256 KiB).
	Tail []byte `json:"tail,omitempty"`
	// SHA256 is the marshaled SHA-256 state of bytes [0, TotalWritten).
	SHA256 []byte `json:"sha256"`
}

func (s uploadState) marshal() json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// String hides the session URI from %v.
func (s uploadState) String() string {
	return fmt.Sprintf("gdrive upload of %s at %d (session %s)", s.FileName, s.TotalWritten, (&session{uri: s.SessionURI}).tag())
}

func parseState(raw json.RawMessage) (uploadState, error) {
	var s uploadState
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("unreadable Google Drive upload state: %w", err)
	}
	u, err := url.Parse(s.SessionURI)
	switch {
	case err != nil || s.SessionURI == "" || (u.Scheme != "https" && u.Scheme != "http") || !strings.Contains(u.RawQuery, "upload_id="):
		return s, errors.New("the Google Drive upload state has no valid session URI")
	case s.TotalWritten < int64(len(s.Tail)) || s.Confirmed < 0:
		return s, errors.New("the Google Drive upload state is inconsistent (tail longer than the data written)")
	}
	return s, nil
}

// ResumeUpload continues an upload in a new process. It asks the session
// how much it holds: the pending bytes start there, from the state's tail;
// when the session holds more than the state knew (a chunk landed after the
// checkpoint), that many of the bytes the caller writes again are skipped,
// since they are identical. A session that is gone is ErrSessionExpired.
func (d *Destination) ResumeUpload(ctx context.Context, raw json.RawMessage, onDurable archive.DurableFunc) (archive.Upload, error) {
	st, err := parseState(raw)
	if err != nil {
		return nil, err
	}
	sess := &session{uri: st.SessionURI, client: d.client}
	u := d.newUpload(ctx, sess, st.FileName, onDurable)
	var (
		held int64
		file *fileInfo
	)
	err = u.pacer.do(ctx, "asking Google Drive how much of "+st.FileName+" arrived", func() error {
		var err error
		held, file, err = sess.status(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.SHA256); err != nil {
		return nil, fmt.Errorf("the Google Drive upload state has an unreadable SHA-256 state: %w", err)
	}
	base := st.TotalWritten - int64(len(st.Tail))
	if held < base {
		return nil, fmt.Errorf("Google Drive holds %d bytes of %s, but the checkpoint needs %d: %w", held, st.FileName, base, ErrSessionExpired)
	}
	u.hash, u.written = h, st.TotalWritten
	u.confirmed.Store(held)
	u.lastDurable = held
	u.completed = file
	u.start(ctx)
	u.mu.Lock()
	if held > st.TotalWritten {
		u.curOff, u.skip = held, held-st.TotalWritten
	} else {
		u.curOff = held
		err = u.appendLocked(st.Tail[held-base:])
	}
	u.mu.Unlock()
	if err != nil {
		return nil, err
	}
	u.log.Info(fmt.Sprintf("resumed the Google Drive upload of %s: the session holds %s, the checkpoint is at %s",
		st.FileName, formatBytes(held), formatBytes(st.TotalWritten)))
	return u, nil
}

// DiscardUpload cancels the session of a state and deletes the file if
// the session had completed. Idempotent.
func (d *Destination) DiscardUpload(ctx context.Context, raw json.RawMessage) error {
	st, err := parseState(raw)
	if err != nil {
		return err
	}
	return d.discard(ctx, &session{uri: st.SessionURI, client: d.client}, nil)
}
