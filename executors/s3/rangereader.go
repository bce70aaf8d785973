package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"backupd/executors/archive"
)

// rangeReader reads one object from an offset with ranged GETs, pinned to
// one version by If-Match on its ETag. When a connection is cut mid-body it
// continues with a new ranged GET from the byte it reached, up to retries
// times, so a long download survives a flaky network without starting over.
type rangeReader struct {
	ctx     context.Context
	client  *s3.Client
	log     *slog.Logger
	bucket  string
	key     string
	etag    string // "" until the first response names it
	pos     int64
	size    int64 // -1 until known
	retries int
	// changed says what a vanished or rewritten object means to the caller:
	// a source reports archive.ErrEntryChanged.
	changedIsEntryChange bool

	body io.ReadCloser
	cuts int
}

// openRange starts reading bucket/key at offset. etag and size may be empty
// and -1 when unknown (they are then taken from the first response).
func openRange(ctx context.Context, client *s3.Client, log *slog.Logger, bucket, key, etag string, size, offset int64, retries int, source bool) (io.ReadCloser, error) {
	r := &rangeReader{ctx: ctx, client: client, log: log, bucket: bucket, key: key, etag: etag,
		pos: offset, size: size, retries: retries, changedIsEntryChange: source}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rangeReader) open() error {
	if r.size >= 0 && r.pos >= r.size {
		if r.pos > r.size {
			return fmt.Errorf("s3://%s/%s: offset %d is past the end (%d bytes)", r.bucket, r.key, r.pos, r.size)
		}
		// Nothing left to read; still make sure it is the same object.
		return r.confirmEnd()
	}
	in := &s3.GetObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(r.key)}
	if r.pos > 0 {
		in.Range = aws.String("bytes=" + strconv.FormatInt(r.pos, 10) + "-")
	}
	if r.etag != "" {
		in.IfMatch = aws.String(r.etag)
	}
	out, err := r.client.GetObject(r.ctx, in)
	switch {
	case err == nil:
	case isPreconditionFailed(err):
		return r.changed(err)
	case isNotFound(err):
		if r.changedIsEntryChange {
			return r.changed(err)
		}
		return notFound("s3://"+r.bucket+"/"+r.key, err)
	case isInvalidRange(err) && r.pos > 0:
		// A range starting exactly at the end: S3 answers 416.
		return r.confirmEnd()
	default:
		return fmt.Errorf("read s3://%s/%s at %d: %w", r.bucket, r.key, r.pos, err)
	}
	if r.etag == "" {
		r.etag = aws.ToString(out.ETag)
	}
	total := totalSize(out)
	if r.size >= 0 && total >= 0 && total != r.size {
		out.Body.Close()
		return r.changed(fmt.Errorf("size is now %d bytes, expected %d", total, r.size))
	}
	if r.size < 0 {
		r.size = total
	}
	r.body = out.Body
	return nil
}

// confirmEnd checks, with a HEAD, that the object is still the one being
// read and that the offset is its end.
func (r *rangeReader) confirmEnd() error {
	in := &s3.HeadObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(r.key)}
	if r.etag != "" {
		in.IfMatch = aws.String(r.etag)
	}
	out, err := r.client.HeadObject(r.ctx, in)
	switch {
	case err == nil:
	case isPreconditionFailed(err) || isNotFound(err) && r.changedIsEntryChange:
		return r.changed(err)
	case isNotFound(err):
		return notFound("s3://"+r.bucket+"/"+r.key, err)
	default:
		return fmt.Errorf("read s3://%s/%s at %d: %w", r.bucket, r.key, r.pos, err)
	}
	size := aws.ToInt64(out.ContentLength)
	if r.etag == "" {
		r.etag = aws.ToString(out.ETag)
	}
	if r.size >= 0 && size != r.size {
		return r.changed(fmt.Errorf("size is now %d bytes, expected %d", size, r.size))
	}
	if r.pos > size {
		return fmt.Errorf("s3://%s/%s: offset %d is past the end (%d bytes)", r.bucket, r.key, r.pos, size)
	}
	r.size = size
	r.body = io.NopCloser(strings.NewReader(""))
	return nil
}

func (r *rangeReader) changed(cause error) error {
	if r.changedIsEntryChange {
		return fmt.Errorf("%s: %w (%v)", r.key, archive.ErrEntryChanged, cause)
	}
	return fmt.Errorf("s3://%s/%s changed while it was being read: %w", r.bucket, r.key, cause)
}

func (r *rangeReader) Read(p []byte) (int, error) {
	for {
		if r.body == nil {
			if err := r.open(); err != nil {
				return 0, err
			}
		}
		n, err := r.body.Read(p)
		r.pos += int64(n)
		if err == nil {
			return n, nil
		}
		if errors.Is(err, io.EOF) && (r.size < 0 || r.pos == r.size) {
			return n, io.EOF
		}
		// The body ended early or the connection broke: continue from here.
		r.body.Close()
		r.body = nil
		if r.ctx.Err() != nil {
			return n, r.ctx.Err()
		}
		if r.cuts >= r.retries {
			return n, fmt.Errorf("read s3://%s/%s: cut at byte %d %d times: %w", r.bucket, r.key, r.pos, r.cuts+1, err)
		}
		r.cuts++
		r.log.Warn(fmt.Sprintf("download of %s was cut at byte %d (%v); continuing from there", r.key, r.pos, err))
		if err := sleepCtx(r.ctx, time.Duration(r.cuts)*200*time.Millisecond); err != nil {
			return n, err
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (r *rangeReader) Close() error {
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}

// totalSize is the object's full size from a GET response: the total of
// Content-Range for a ranged GET, else Content-Length; -1 if unknown.
func totalSize(out *s3.GetObjectOutput) int64 {
	if cr := aws.ToString(out.ContentRange); cr != "" {
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				return n
			}
		}
		return -1
	}
	if out.ContentLength != nil {
		return *out.ContentLength
	}
	return -1
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
