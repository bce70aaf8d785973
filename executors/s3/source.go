package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"backupd/executors/archive"
)

// SourceFormat names the archive layout of a bucket backup.
const SourceFormat = "s3-bucket-tar-gz/1"

// Source reads a bucket for a backup: objects in key order, page by page,
// each with its size, ETag, last-modified time, content type and user
// metadata. Listing gives no content type or metadata, so the source
// prepares entries ahead of the consumer, several at a time: small objects
// are downloaded whole (their headers come with them), larger ones get a
// HEAD and are read later with ranged GETs pinned to that ETag. Memory is
// bounded by the prefetch window (objects and bytes), whatever the bucket.
type Source struct {
	cfg    Config
	client *s3.Client
	log    *slog.Logger
	opt    options
}

var _ archive.Source = (*Source)(nil)

// NewSource reads the bucket of cfg (under cfg.Prefix, if set).
func NewSource(cfg Config, logger *slog.Logger, opts ...Option) *Source {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, client: NewClient(cfg), log: logger, opt: buildOptions(opts)}
}

// Info reports the bucket; it also proves the bucket can be reached.
func (s *Source) Info(ctx context.Context) (archive.SourceInfo, error) {
	s.log.Info(fmt.Sprintf("connecting to bucket %s at %s", s.cfg.Bucket, s.cfg.endpointHost()))
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)}); err != nil {
		return archive.SourceInfo{}, fmt.Errorf("bucket %s at %s: %w", s.cfg.Bucket, s.cfg.endpointHost(), err)
	}
	s.log.Info(fmt.Sprintf("connected to bucket %s", s.cfg.Bucket))
	return archive.SourceInfo{Service: "s3", Format: SourceFormat, Bucket: s.cfg.Bucket, PathPrefix: s.cfg.Bucket + "/"}, nil
}

// Estimate is one listing pass summing object sizes.
func (s *Source) Estimate(ctx context.Context) (entries, bytes int64, err error) {
	err = s.pages(ctx, "", func(objs []types.Object) error {
		for _, o := range objs {
			entries++
			bytes += aws.ToInt64(o.Size)
		}
		return nil
	})
	if err == nil {
		s.log.Info(fmt.Sprintf("bucket %s holds %d objects, %s", s.cfg.Bucket, entries, archive.HumanBytes(bytes)))
	}
	return entries, bytes, err
}

// pages lists the bucket after `after`, one ListObjectsV2 page at a time.
func (s *Source) pages(ctx context.Context, after string, fn func([]types.Object) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), MaxKeys: aws.Int32(s.opt.pageSize)}
	if s.cfg.Prefix != "" {
		in.Prefix = aws.String(s.cfg.Prefix)
	}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	pager := s3.NewListObjectsV2Paginator(s.client, in)
	page, listed := 0, 0
	for pager.HasMorePages() {
		out, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list bucket %s: %w", s.cfg.Bucket, err)
		}
		page++
		listed += len(out.Contents)
		s.log.Debug(fmt.Sprintf("listed page %d of bucket %s: %d objects (%d so far)", page, s.cfg.Bucket, len(out.Contents), listed))
		if err := fn(out.Contents); err != nil {
			return err
		}
	}
	return nil
}

// Reopen continues an object a checkpoint recorded, refusing a rewritten or
// deleted one with archive.ErrEntryChanged.
func (s *Source) Reopen(ctx context.Context, ref archive.Ref, offset int64) (io.ReadCloser, error) {
	return openRange(ctx, s.client, s.log, s.cfg.Bucket, ref.Key, ref.ETag, ref.Size, offset, s.opt.readRetries, true)
}

// describe fills in what listing does not give: a small object is read
// whole, a larger one gets a HEAD. ok is false when the object vanished
// since it was listed.
func (s *Source) describe(ctx context.Context, obj types.Object) (entry archive.Entry, ok bool, err error) {
	key := aws.ToString(obj.Key)
	entry = archive.Entry{Key: key, Size: aws.ToInt64(obj.Size), ETag: aws.ToString(obj.ETag), Resumable: true}
	if obj.LastModified != nil {
		entry.ModTime = *obj.LastModified
	}
	if entry.Size <= s.opt.smallObject {
		return s.fetchSmall(ctx, entry)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return entry, false, nil
	}
	if err != nil {
		return entry, false, fmt.Errorf("describe %s: %w", key, err)
	}
	s.update(&entry, aws.ToInt64(out.ContentLength), aws.ToString(out.ETag), out.LastModified, aws.ToString(out.ContentType), out.Metadata)
	s.openByRange(&entry)
	return entry, true, nil
}

// fetchSmall downloads a small object whole during the prefetch.
func (s *Source) fetchSmall(ctx context.Context, entry archive.Entry) (archive.Entry, bool, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(entry.Key)})
	if isNotFound(err) {
		return entry, false, nil
	}
	if err != nil {
		return entry, false, fmt.Errorf("read %s: %w", entry.Key, err)
	}
	defer out.Body.Close()
	size := aws.ToInt64(out.ContentLength)
	s.update(&entry, size, aws.ToString(out.ETag), out.LastModified, aws.ToString(out.ContentType), out.Metadata)
	if size > s.opt.smallObject {
		// It grew since it was listed: read it by ranges like a large one.
		s.openByRange(&entry)
		return entry, true, nil
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(out.Body, buf); err != nil {
		// A cut body: fall back to ranged reads pinned to this version.
		s.log.Warn(fmt.Sprintf("prefetch of %s was cut (%v); it will be read again", entry.Key, err))
		s.openByRange(&entry)
		return entry, true, nil
	}
	held := &heldBody{}
	held.buf.Store(&buf)
	fallback := s.rangeOpener(entry)
	entry.Open = func(ctx context.Context, offset int64) (io.ReadCloser, error) {
		if b := held.get(); b != nil && offset <= int64(len(b)) {
			return io.NopCloser(bytes.NewReader(b[offset:])), nil
		}
		return fallback(ctx, offset)
	}
	entry.Release = held.release
	return entry, true, nil
}

// update takes the values of the response that will be read, which win
// over the listing's if the object was rewritten in between.
func (s *Source) update(e *archive.Entry, size int64, etag string, modTime *time.Time, contentType string, meta map[string]string) {
	if etag != e.ETag || size != e.Size {
		if modTime != nil {
			e.ModTime = *modTime
		}
		e.Size, e.ETag = size, etag
	}
	e.ContentType = contentType
	if len(meta) > 0 {
		e.Metadata = meta
	}
}

func (s *Source) openByRange(e *archive.Entry) { e.Open = s.rangeOpener(*e) }

func (s *Source) rangeOpener(e archive.Entry) func(context.Context, int64) (io.ReadCloser, error) {
	key, etag, size := e.Key, e.ETag, e.Size
	return func(ctx context.Context, offset int64) (io.ReadCloser, error) {
		return openRange(ctx, s.client, s.log, s.cfg.Bucket, key, etag, size, offset, s.opt.readRetries, true)
	}
}

// heldBody is a prefetched object body until the consumer releases it.
type heldBody struct{ buf atomic.Pointer[[]byte] }

func (h *heldBody) get() []byte {
	if b := h.buf.Load(); b != nil {
		return *b
	}
	return nil
}

// release drops the buffer; a later Open reads from the server again.
func (h *heldBody) release() { h.buf.Store(nil) }
