package gdrive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// simpleUploadLimit is the most a multipart upload may carry (5 MB).
const simpleUploadLimit = 5 << 20

// archiveMime is the type archives are stored with.
const archiveMime = "application/gzip"

// fileFields is what upload answers return: enough to verify the content.
const fileFields = "id,name,size,sha256Checksum,md5Checksum"

// fileInfo is the part of a Drive file resource an upload answer carries.
type fileInfo struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Size   int64  `json:"size,string"`
	SHA256 string `json:"sha256Checksum"`
	MD5    string `json:"md5Checksum"`
}

// session is one resumable upload session. Its URI is a credential (anyone
// holding it and a token of the client may write the file), so only a
// short hash of it is ever logged.
type session struct {
	uri    string
	client *http.Client
}

func (s *session) tag() string {
	sum := sha256.Sum256([]byte(s.uri))
	return hex.EncodeToString(sum[:4])
}

// errNoProgress: Drive acknowledged a chunk but kept none of it.
var errNoProgress = errors.New("Google Drive acknowledged the chunk but kept none of it")

// transportError is a request that got no answer (connection refused, cut,
// timed out); the upload protocol makes it safe to retry.
type transportError struct{ err error }

func (e *transportError) Error() string {
	return "the connection to Google Drive failed: " + describeNetErr(e.err)
}
func (e *transportError) Unwrap() error { return e.err }

// do sends req and returns a 2xx or 308 answer; any other answer becomes
// an *APIError, and a missing answer a *transportError without the URL.
func do(client *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := client.Do(req)
	if err != nil {
		err = stripURL(err)
		if req.Context().Err() != nil {
			return nil, req.Context().Err()
		}
		if errors.Is(err, ErrReconnectRequired) || isTokenFailure(err) {
			return nil, err
		}
		return nil, &transportError{err: err}
	}
	if resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusPermanentRedirect {
		return resp, nil
	}
	return nil, readAPIError(resp)
}

// initiate opens a resumable upload session for a new file in folder.
func (d *Destination) initiate(ctx context.Context, name, folder string) (*session, error) {
	meta, _ := json.Marshal(map[string]any{"name": name, "parents": []string{folder}, "mimeType": archiveMime})
	u := d.ep.uploadBase() + "/files?uploadType=resumable&fields=" + url.QueryEscape(fileFields)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(meta))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("X-Upload-Content-Type", archiveMime)
	resp, err := do(d.client, req)
	if err != nil {
		return nil, err
	}
	drain(resp)
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, fmt.Errorf("Google Drive opened no upload session (answer %d without Location)", resp.StatusCode)
	}
	return &session{uri: loc, client: d.client}, nil
}

// put sends data as the file's bytes from start on (an empty data is a
// status query). total is the file's size when this request ends it, -1
// otherwise. It returns how many bytes the session holds, or the finished
// file.
func (s *session) put(ctx context.Context, data []byte, start, total int64) (int64, *fileInfo, error) {
	tot := "*"
	if total >= 0 {
		tot = strconv.FormatInt(total, 10)
	}
	rng := "bytes */" + tot
	if len(data) > 0 {
		rng = fmt.Sprintf("bytes %d-%d/%s", start, start+int64(len(data))-1, tot)
	}
	// A connection that stalls while the body is written has no other
	// timeout: allow two minutes plus 64 KiB/s, then retry.
	limit := 2*time.Minute + time.Duration(len(data))*time.Second/(64<<10)
	reqCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPut, s.uri, bytes.NewReader(data))
	if err != nil {
		return 0, nil, errors.New("invalid upload session URI")
	}
	req.ContentLength = int64(len(data))
	if len(data) == 0 {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	}
	req.Header.Set("Content-Range", rng)
	resp, err := do(s.client, req)
	if err != nil && ctx.Err() == nil && reqCtx.Err() != nil {
		err = &transportError{err: fmt.Errorf("no answer within %s", limit.Round(time.Second))}
	}
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusGone) {
			return 0, nil, fmt.Errorf("%w (%s)", ErrSessionExpired, ae.Message)
		}
		return 0, nil, err
	}
	if resp.StatusCode == http.StatusPermanentRedirect {
		drain(resp)
		n, err := parseRange(resp.Header.Get("Range"))
		return n, nil, err
	}
	defer drain(resp)
	var f fileInfo
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil || f.ID == "" {
		return 0, nil, &transportError{err: fmt.Errorf("unreadable answer to the final chunk: %v", err)}
	}
	return f.Size, &f, nil
}

// status asks the session how many bytes it holds.
func (s *session) status(ctx context.Context) (int64, *fileInfo, error) {
	return s.put(ctx, nil, 0, -1)
}

// cancel ends the session; a session already gone is fine.
func (s *session) cancel(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.uri, http.NoBody)
	if err != nil {
		return errors.New("invalid upload session URI")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return &transportError{err: stripURL(err)}
	}
	if resp.StatusCode == 499 || resp.StatusCode == http.StatusNotFound || resp.StatusCode/100 == 2 {
		drain(resp)
		return nil
	}
	return readAPIError(resp)
}

// parseRange reads "bytes=0-N" into N+1; no header means nothing persisted.
func parseRange(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	r, ok := strings.CutPrefix(v, "bytes=0-")
	if !ok {
		return 0, fmt.Errorf("unexpected Range header %q from Google Drive", v)
	}
	n, err := strconv.ParseInt(r, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("unexpected Range header %q from Google Drive", v)
	}
	return n + 1, nil
}

// multipart uploads a small file with its metadata in one request.
func (d *Destination) multipart(ctx context.Context, name, folder, contentType string, content []byte) (*fileInfo, error) {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	meta, _ := json.Marshal(map[string]any{"name": name, "parents": []string{folder}, "mimeType": contentType})
	pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json; charset=UTF-8"}})
	_, _ = pw.Write(meta)
	pw, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {contentType}})
	_, _ = pw.Write(content)
	_ = mw.Close()
	u := d.ep.uploadBase() + "/files?uploadType=multipart&fields=" + url.QueryEscape(fileFields)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body.Bytes()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "multipart/related; boundary="+mw.Boundary())
	resp, err := do(d.client, req)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	var f fileInfo
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil || f.ID == "" {
		return nil, fmt.Errorf("unreadable answer from Google Drive to the upload of %s: %v", name, err)
	}
	return &f, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
