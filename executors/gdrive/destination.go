package gdrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	drive "google.golang.org/api/drive/v3"
	"google.golang.org/api/option"

	"backupd/executors/archive"
)

const (
	folderMime = "application/vnd.google-apps.folder"
	// chunkAlign is Drive's rule: every chunk but the last is a multiple.
	chunkAlign = 256 << 10
	// DefaultChunkSize is the size of each resumable upload request.
	DefaultChunkSize = 16 << 20
	// DefaultDurableEvery spaces out durable callbacks (each one becomes a
	// checkpoint event carrying up to 256 KiB inline).
	DefaultDurableEvery = 64 << 20
)

// Options tune a Destination; the zero value is fine for production.
type Options struct {
	Logger *slog.Logger
	// OnRefresh receives every new access token, with its expiry and, only
	// when Google rotated it, the new refresh token (to run
	// commands.RefreshConnectionTokens). Called in order; must not block
	// long nor call back into the destination.
	OnRefresh func(*oauth2.Token)
	// ChunkSize of upload requests, rounded up to a multiple of 256 KiB
	// (default 16 MiB). At most two chunks are held in memory per upload.
	ChunkSize int
	// DurableEvery is the least number of confirmed bytes between two
	// durable callbacks (default 64 MiB).
	DurableEvery int64
	Retry        RetryPolicy
	// Transport carries every request (default: timeouts suited to
	// backups); tests wrap it to count bytes.
	Transport http.RoundTripper
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	o.ChunkSize = (o.ChunkSize + chunkAlign - 1) / chunkAlign * chunkAlign
	if o.DurableEvery <= 0 {
		o.DurableEvery = DefaultDurableEvery
	}
	o.Retry = o.Retry.withDefaults()
	if o.Transport == nil {
		o.Transport = newTransport()
	}
	return o
}

// Destination stores archives in one Drive folder. It implements
// archive.Destination.
type Destination struct {
	ep     Endpoints
	cfg    Config
	opts   Options
	log    *slog.Logger
	ts     *TokenSource
	client *http.Client // adds the bearer token, refreshes on 401
	svc    *drive.Service

	folderMu sync.Mutex
	folderID string
}

var _ archive.Destination = (*Destination)(nil)

// New builds a destination for a connection. It does no I/O; the folder is
// looked up (or created) on first use when cfg has no folder id yet.
func New(ctx context.Context, app App, cfg Config, opts Options) (*Destination, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	ep := app.Endpoints.withDefaults()
	ts := NewTokenSource(app.OAuthConfig(), &cfg.Token, opts.OnRefresh)
	ts.client = &http.Client{Transport: opts.Transport}
	client := &http.Client{Transport: &authTransport{base: opts.Transport, ts: ts, log: opts.Logger}}
	svc, err := drive.NewService(ctx, option.WithHTTPClient(client), option.WithEndpoint(ep.driveBase()+"/"))
	if err != nil {
		return nil, fmt.Errorf("Google Drive client: %w", err)
	}
	return &Destination{ep: ep, cfg: cfg, opts: opts, log: opts.Logger, ts: ts, client: client, svc: svc, folderID: cfg.FolderID}, nil
}

// Token returns the access token in use (refreshing it if it has expired).
func (d *Destination) Token(ctx context.Context) (*oauth2.Token, error) {
	return d.ts.TokenContext(ctx)
}

// FolderID returns the target folder's id, finding or creating the folder
// by name when the connection does not know it yet.
func (d *Destination) FolderID(ctx context.Context) (string, error) {
	d.folderMu.Lock()
	defer d.folderMu.Unlock()
	if d.folderID != "" {
		return d.folderID, nil
	}
	var id string
	err := newPacer(d.opts.Retry, d.log).do(ctx, "finding the Google Drive folder", func() error {
		f, _, err := findOrCreateFolder(ctx, d.svc, d.cfg.FolderName)
		if err == nil {
			id = f.Id
		}
		return err
	})
	if err != nil {
		return "", err
	}
	d.folderID = id
	return id, nil
}

// Put stores a small file (the manifest) whole, with a multipart upload; a
// file already there under the same name is replaced, so a retried Put
// leaves one file.
func (d *Destination) Put(ctx context.Context, name string, r io.Reader, size int64, contentType string) (archive.Location, error) {
	if size > simpleUploadLimit || size < 0 {
		return d.putResumable(ctx, name, r, size)
	}
	body, err := io.ReadAll(io.LimitReader(r, simpleUploadLimit+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(body)) != size {
		return "", fmt.Errorf("%s: %d bytes announced, %d read", name, size, len(body))
	}
	folder, err := d.FolderID(ctx)
	if err != nil {
		return "", err
	}
	var file *fileInfo
	err = newPacer(d.opts.Retry, d.log).do(ctx, "uploading "+name+" to Google Drive", func() error {
		file, err = d.multipart(ctx, name, folder, contentType, body)
		return err
	})
	if err != nil {
		return "", err
	}
	if file.Size != size || file.SHA256 != "" && file.SHA256 != sha256Hex(body) {
		return "", fmt.Errorf("Google Drive stored %s with %d bytes and SHA-256 %s; %d bytes with %s were sent", name, file.Size, file.SHA256, size, sha256Hex(body))
	}
	d.removeOlder(ctx, name, folder, file.ID)
	d.log.Info(fmt.Sprintf("stored %s (%s) in Google Drive", name, formatBytes(size)))
	return location(file.ID), nil
}

// putResumable stores a file too large for a multipart upload.
func (d *Destination) putResumable(ctx context.Context, name string, r io.Reader, size int64) (archive.Location, error) {
	up, err := d.StartUpload(ctx, name, size, nil)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(up, r); err != nil {
		_ = up.Abort(context.WithoutCancel(ctx))
		return "", err
	}
	loc, err := up.Complete(ctx)
	if err != nil {
		_ = up.Abort(context.WithoutCancel(ctx))
		return "", err
	}
	return loc, nil
}

// removeOlder deletes other files named name in the folder (an earlier,
// interrupted Put). Best effort: a leftover is harmless.
func (d *Destination) removeOlder(ctx context.Context, name, folder, keep string) {
	ids, err := filesNamed(ctx, d.svc, folder, name)
	if err != nil {
		d.log.Warn("could not look for older copies of "+name, "error", safeErr(err))
		return
	}
	for _, id := range ids {
		if id != keep {
			if err := d.deleteFile(ctx, id); err != nil {
				d.log.Warn("could not delete an older copy of "+name, "error", safeErr(err))
			}
		}
	}
}

// Open reads a stored file from offset; a download cut midway is resumed
// from where it stopped.
func (d *Destination) Open(ctx context.Context, loc archive.Location, offset int64) (io.ReadCloser, error) {
	id, err := fileID(loc)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("negative offset %d", offset)
	}
	rd := &download{d: d, ctx: ctx, id: id, off: offset, size: -1, pacer: newPacer(d.opts.Retry, d.log)}
	if err := rd.open(); err != nil {
		return nil, err
	}
	return rd, nil
}

// Stat returns a stored file's size; a missing file is fs.ErrNotExist.
func (d *Destination) Stat(ctx context.Context, loc archive.Location) (int64, error) {
	id, err := fileID(loc)
	if err != nil {
		return 0, err
	}
	var size int64
	err = newPacer(d.opts.Retry, d.log).do(ctx, "reading the size of "+string(loc), func() error {
		f, err := d.svc.Files.Get(id).Fields("id,size,trashed").Context(ctx).Do()
		if err != nil {
			return notFound(loc, fromGoogleAPI(err))
		}
		if f.Trashed {
			return fmt.Errorf("%s is in the Google Drive trash: %w", loc, fs.ErrNotExist)
		}
		size = f.Size
		return nil
	})
	return size, err
}

// Delete removes a stored file for good (not to the trash); a missing file
// is not an error.
func (d *Destination) Delete(ctx context.Context, loc archive.Location) error {
	id, err := fileID(loc)
	if err != nil {
		return err
	}
	return newPacer(d.opts.Retry, d.log).do(ctx, "deleting "+string(loc), func() error {
		return d.deleteFile(ctx, id)
	})
}

func (d *Destination) deleteFile(ctx context.Context, id string) error {
	err := d.svc.Files.Delete(id).Context(ctx).Do()
	if err != nil {
		if ae := (*APIError)(nil); errors.As(fromGoogleAPI(err), &ae) && ae.Status == http.StatusNotFound {
			return nil
		}
		return fromGoogleAPI(err)
	}
	return nil
}

func notFound(loc archive.Location, err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return fmt.Errorf("%s: %s: %w", loc, ae.Message, fs.ErrNotExist)
	}
	return err
}

// location names a Drive file.
func location(id string) archive.Location { return archive.Location("gdrive://" + id) }

func fileID(loc archive.Location) (string, error) {
	id, ok := strings.CutPrefix(string(loc), "gdrive://")
	if !ok || id == "" || strings.ContainsAny(id, "/?#") {
		return "", fmt.Errorf("%q is not a Google Drive location (gdrive://<file id>)", loc)
	}
	return id, nil
}
