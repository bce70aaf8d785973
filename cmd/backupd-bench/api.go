package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// apiClient drives backupd's HTTP API as the web UI does (httpapi/API.md):
// a session cookie, and the CSRF cookie echoed in X-CSRF-Token.
type apiClient struct {
	base *url.URL
	http *http.Client
}

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

func newAPIClient(base string) (*apiClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &apiClient{base: u, http: &http.Client{
		Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func (c *apiClient) cookie(name string) string {
	for _, ck := range c.http.Jar.Cookies(c.base) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func (c *apiClient) do(ctx context.Context, method, path string, body any) (apiResponse, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return apiResponse{}, err
		}
		rd = bytes.NewReader(data)
	}
	if method != http.MethodGet && c.cookie("backupd_csrf") == "" {
		// The CSRF cookie is set on any answer that lacks it.
		if _, err := c.do(ctx, http.MethodGet, "/api/session", nil); err != nil {
			return apiResponse{}, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return apiResponse{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", c.cookie("backupd_csrf"))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return apiResponse{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return apiResponse{}, err
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// call does a request and decodes a JSON answer with the wanted status.
func (c *apiClient) call(ctx context.Context, method, path string, body any, want int, out any) error {
	r, err := c.do(ctx, method, path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if r.status != want {
		return fmt.Errorf("%s %s: %d %s", method, path, r.status, strings.TrimSpace(string(r.body)))
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			return fmt.Errorf("%s %s: answer is not JSON: %w", method, path, err)
		}
	}
	return nil
}

func (c *apiClient) login(ctx context.Context, email, password string) error {
	return c.call(ctx, http.MethodPost, "/api/login", map[string]string{"email": email, "password": password}, http.StatusOK, nil)
}

func (c *apiClient) createConnection(ctx context.Context, kind, name string, settings, secrets map[string]string) (string, error) {
	var conn struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	err := c.call(ctx, http.MethodPost, "/api/connections",
		map[string]any{"kind": kind, "name": name, "settings": settings, "secrets": secrets}, http.StatusCreated, &conn)
	if err != nil {
		return "", err
	}
	if conn.Status != "valid" {
		return "", fmt.Errorf("connection %s is %s", name, conn.Status)
	}
	return conn.ID, nil
}

func (c *apiClient) s3Connection(ctx context.Context, kind, name string, s s3Peer, bucket string) (string, error) {
	return c.createConnection(ctx, kind, name,
		map[string]string{"access_key_id": s.AccessKey, "region": s.Region, "bucket": bucket, "endpoint": s.Endpoint, "path_style": "true"},
		map[string]string{"secret_access_key": s.SecretKey})
}

// driveConnection connects a Drive folder as a user does: the consent URL
// from the API, the emulator's automatic consent, the callback.
func (c *apiClient) driveConnection(ctx context.Context, name, folder string) (string, error) {
	var a struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/connections/gdrive/authorize",
		map[string]any{"name": name, "folder_name": folder}, http.StatusOK, &a); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.AuthorizeURL, nil)
	if err != nil {
		return "", err
	}
	noRedirect := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("consent did not redirect with a code: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	cb, err := c.do(ctx, http.MethodGet, loc.Path+"?"+loc.RawQuery, nil)
	if err != nil {
		return "", err
	}
	back, err := url.Parse(cb.header.Get("Location"))
	if cb.status != http.StatusFound || err != nil || back.Query().Get("connected") != "1" {
		return "", fmt.Errorf("oauth callback: %d %s %s", cb.status, cb.header.Get("Location"), cb.body)
	}
	return strings.TrimPrefix(back.Path, "/connections/"), nil
}

// operation is the part of API.md's Operation the bench reads.
type operation struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Error    string `json:"error"`
	Progress *struct {
		Phase           string `json:"phase"`
		ObjectsDone     int64  `json:"objects_done"`
		BytesDone       int64  `json:"bytes_done"`
		BytesTotal      int64  `json:"bytes_total"`
		CompressedBytes int64  `json:"compressed_bytes"`
		UploadedBytes   int64  `json:"uploaded_bytes"`
	} `json:"progress"`
	PausedPosition string `json:"paused_position"`
	Attempt        int    `json:"attempt"`
	Result         *struct {
		ArchiveLocation  string    `json:"archive_location"`
		ManifestLocation string    `json:"manifest_location"`
		ArchiveSize      int64     `json:"archive_size"`
		ObjectCount      int64     `json:"object_count"`
		TotalBytes       int64     `json:"total_bytes"`
		StartedAt        time.Time `json:"started_at"`
		FinishedAt       time.Time `json:"finished_at"`
	} `json:"result"`
}

func (c *apiClient) backup(ctx context.Context, source, destination string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.call(ctx, http.MethodPost, "/api/backups", map[string]string{"source_id": source, "destination_id": destination}, http.StatusAccepted, &out)
	return out.ID, err
}

func (c *apiClient) operation(ctx context.Context, id string) (operation, error) {
	var op operation
	err := c.call(ctx, http.MethodGet, "/api/operations/"+id, nil, http.StatusOK, &op)
	return op, err
}

// action posts pause, resume or cancel.
func (c *apiClient) action(ctx context.Context, id, action string) error {
	return c.call(ctx, http.MethodPost, "/api/operations/"+id+"/"+action, nil, http.StatusAccepted, nil)
}

// logTail is the last n lines of an operation's terminal log.
func (c *apiClient) logTail(ctx context.Context, id string, n int) string {
	var lines []string
	after := int64(0)
	for {
		var out struct {
			Lines []struct {
				At      time.Time `json:"at"`
				Level   string    `json:"level"`
				Message string    `json:"message"`
			} `json:"lines"`
			LastSeq int64 `json:"last_seq"`
		}
		if err := c.call(ctx, http.MethodGet, fmt.Sprintf("/api/operations/%s/logs?after=%d&limit=1000", id, after), nil, http.StatusOK, &out); err != nil {
			return err.Error()
		}
		for _, l := range out.Lines {
			lines = append(lines, fmt.Sprintf("%s %s %s", l.At.Format("15:04:05.000"), l.Level, l.Message))
		}
		if len(out.Lines) < 1000 {
			break
		}
		after = out.LastSeq
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
