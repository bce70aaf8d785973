package gdrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// download reads a Drive file from an offset with ranged GETs, reopening
// at the current offset when the connection breaks.
type download struct {
	d     *Destination
	ctx   context.Context
	id    string
	off   int64 // next byte to return
	size  int64 // file size, -1 until known
	body  io.ReadCloser
	pacer *pacer
	err   error

	cancel   context.CancelFunc // of the current request
	watchdog *time.Timer        // cancels it when no byte came for downloadIdle
}

// downloadIdle is how long a download may go without receiving a byte.
var downloadIdle = 2 * time.Minute

func (r *download) stop() {
	if r.watchdog != nil {
		r.watchdog.Stop()
		r.cancel()
		r.watchdog, r.cancel = nil, nil
	}
}

// open starts a GET at d.off.
func (r *download) open() error {
	if r.size >= 0 && r.off >= r.size {
		r.body = http.NoBody
		return nil
	}
	u := r.d.ep.driveBase() + "/files/" + url.PathEscape(r.id) + "?alt=media"
	// The watchdog cancels a request whose body stops flowing, so Read
	// reopens instead of waiting for ever.
	reqCtx, cancel := context.WithCancel(r.ctx)
	r.stop()
	r.cancel, r.watchdog = cancel, time.AfterFunc(downloadIdle, cancel)
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u, http.NoBody)
	if err != nil {
		return err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-", r.off))
	// Ranges count stored bytes: no transparent decompression.
	req.Header.Set("Accept-Encoding", "identity")
	var resp *http.Response
	err = r.pacer.do(r.ctx, "downloading gdrive://"+r.id, func() error {
		var err error
		resp, err = do(r.d.client, req)
		return err
	})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusRequestedRangeNotSatisfiable {
			return r.pastEnd()
		}
		return notFound(location(r.id), err)
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != r.off {
			drain(resp)
			return fmt.Errorf("Google Drive answered range %q to a request from byte %d", resp.Header.Get("Content-Range"), r.off)
		}
		r.size = size
	case http.StatusOK:
		// The whole file: skip to the offset.
		if resp.ContentLength >= 0 {
			r.size = resp.ContentLength
		}
		if _, err := io.CopyN(io.Discard, resp.Body, r.off); err != nil {
			drain(resp)
			return &transportError{err: err}
		}
	default:
		drain(resp)
		return fmt.Errorf("unexpected answer %d to a download from Google Drive", resp.StatusCode)
	}
	r.body = resp.Body
	return nil
}

// pastEnd handles 416: an offset at the end is an empty read.
func (r *download) pastEnd() error {
	var size int64 = -1
	if r.size >= 0 {
		size = r.size
	}
	if size < 0 {
		s, err := r.d.Stat(r.ctx, location(r.id))
		if err != nil {
			return err
		}
		size = s
	}
	if r.off == size {
		r.size = size
		r.body = http.NoBody
		return nil
	}
	return fmt.Errorf("offset %d is past the end of gdrive://%s (%d bytes)", r.off, r.id, size)
}

func (r *download) Read(p []byte) (int, error) {
	for {
		if r.err != nil {
			return 0, r.err
		}
		if r.body == nil {
			if err := r.open(); err != nil {
				r.err = err
				return 0, err
			}
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		if n > 0 {
			r.pacer.succeeded()
			if r.watchdog != nil {
				r.watchdog.Reset(downloadIdle)
			}
		}
		if err == nil {
			return n, nil
		}
		if err == io.EOF {
			if r.size < 0 || r.off >= r.size {
				return n, io.EOF
			}
			err = io.ErrUnexpectedEOF
		}
		if r.ctx.Err() != nil {
			r.err = r.ctx.Err()
			return n, r.err
		}
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("no data received for %s", downloadIdle) // the watchdog cut it
		}
		// The body ended early or broke: reopen where it stopped.
		_ = r.body.Close()
		r.body = nil
		if ferr := r.pacer.failed(r.ctx, fmt.Sprintf("downloading gdrive://%s at byte %d", r.id, r.off), &transportError{err: stripURL(err)}); ferr != nil {
			r.err = ferr
			return n, ferr
		}
		r.d.log.Info(fmt.Sprintf("resuming the download of gdrive://%s at byte %d", r.id, r.off))
		if n > 0 {
			return n, nil
		}
	}
}

func (r *download) Close() error {
	r.err = errors.New("download closed")
	var err error
	if r.body != nil {
		err = r.body.Close()
	}
	r.stop()
	return err
}

// parseContentRange reads "bytes START-END/SIZE".
func parseContentRange(v string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	size, err2 := strconv.ParseInt(tot, 10, 64)
	return start, size, err1 == nil && err2 == nil
}
