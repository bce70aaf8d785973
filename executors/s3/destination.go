package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"backupd/executors/archive"
)

// Destination stores archives in a bucket under the config's prefix, as
// multipart uploads that can be suspended and resumed by another process.
type Destination struct {
	cfg    Config
	prefix string
	client *s3.Client
	log    *slog.Logger
	opt    options
}

var _ archive.Destination = (*Destination)(nil)

// NewDestination writes to cfg.Bucket under cfg.Prefix. The prefix must be
// valid (Config.Validate); an invalid one is treated as empty and logged.
func NewDestination(cfg Config, logger *slog.Logger, opts ...Option) *Destination {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	prefix, err := normalizePrefix(cfg.Prefix)
	if err != nil {
		logger.Error("ignoring the destination's key prefix: " + err.Error())
	}
	return &Destination{cfg: cfg, prefix: prefix, client: NewClient(cfg), log: logger, opt: buildOptions(opts)}
}

// Key is where a file name goes in the bucket.
func (d *Destination) Key(name string) string { return d.prefix + strings.TrimPrefix(name, "/") }

// StartUpload begins a multipart upload with CRC32C part checksums. Parts
// are PartSizeFor(sizeHint) (or WithPartSize) and grow only if the archive
// outgrows its hint.
func (d *Destination) StartUpload(ctx context.Context, name string, sizeHint int64, onDurable archive.DurableFunc) (archive.Upload, error) {
	base := d.opt.partSize
	if base == 0 {
		base = PartSizeFor(sizeHint)
	}
	return d.start(ctx, d.Key(name), base, growAfterFor(base, sizeHint), "", nil, onDurable, false)
}

func (d *Destination) start(ctx context.Context, key string, base int64, growAfter int32, contentType string, meta map[string]string, onDurable archive.DurableFunc, quiet bool) (*upload, error) {
	in := &s3.CreateMultipartUploadInput{
		Bucket: aws.String(d.cfg.Bucket), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if len(meta) > 0 {
		in.Metadata = meta
	}
	out, err := d.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("start the upload of s3://%s/%s: %w", d.cfg.Bucket, key, err)
	}
	if !quiet {
		d.log.Info(fmt.Sprintf("uploading s3://%s/%s in parts of %s", d.cfg.Bucket, key, archive.HumanBytes(base)))
	}
	u := newUpload(ctx, d.client, d.log, d.cfg.Bucket, key, aws.ToString(out.UploadId), base, growAfter, onDurable)
	u.quiet = quiet
	return u, nil
}

// ResumeUpload continues an upload from a state given by Suspend or by a
// durable callback. Parts 1..N come from the server (ListParts, page by
// page) and must add up to the state's byte count; parts after N were sent
// by a worker that died after that state and are overwritten. The stash,
// if any, is read back: it is the only data sent again.
func (d *Destination) ResumeUpload(ctx context.Context, state json.RawMessage, onDurable archive.DurableFunc) (archive.Upload, error) {
	s, err := parseState(state)
	if err != nil {
		return nil, err
	}
	parts, err := d.listParts(ctx, s)
	if err != nil {
		return nil, err
	}
	stash, err := d.readStash(ctx, s)
	if err != nil {
		return nil, err
	}
	u := newUpload(ctx, d.client, d.log, s.Bucket, s.Key, s.UploadID, s.PartSize, s.GrowAfter, onDurable)
	for _, p := range parts {
		u.parts[*p.PartNumber] = p
	}
	u.nextPart, u.contig = s.Parts+1, s.Parts
	u.cutBytes, u.contigEnd = s.Bytes, s.Bytes
	u.uploaded.Store(s.Bytes)
	u.buf = append(make([]byte, 0, max(u.hardLimit(u.nextPart), int64(len(stash)))), stash...)
	if s.StashKey != "" {
		u.stashes = []string{s.StashKey}
	}
	d.log.Info(fmt.Sprintf("resuming the upload of s3://%s/%s after part %d (%s uploaded, %s from the stash)",
		s.Bucket, s.Key, s.Parts, archive.HumanBytes(s.Bytes), archive.HumanBytes(int64(len(stash)))))
	return u, nil
}

// listParts returns parts 1..s.Parts as the server has them.
func (d *Destination) listParts(ctx context.Context, s uploadState) ([]types.CompletedPart, error) {
	parts := make([]types.CompletedPart, 0, s.Parts)
	var total int64
	in := &s3.ListPartsInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.Key), UploadId: aws.String(s.UploadID), MaxParts: aws.Int32(1000)}
	for s.Parts > 0 {
		out, err := d.client.ListParts(ctx, in)
		if isNoSuchUpload(err) {
			return nil, fmt.Errorf("s3://%s/%s: %w", s.Bucket, s.Key, ErrUploadGone)
		}
		if err != nil {
			return nil, fmt.Errorf("list the parts of s3://%s/%s: %w", s.Bucket, s.Key, err)
		}
		for _, p := range out.Parts {
			n := aws.ToInt32(p.PartNumber)
			if n > s.Parts {
				continue // a stale part from a worker that died later
			}
			if n != int32(len(parts))+1 {
				return nil, fmt.Errorf("s3://%s/%s: part %d is missing at the server", s.Bucket, s.Key, len(parts)+1)
			}
			total += aws.ToInt64(p.Size)
			parts = append(parts, types.CompletedPart{PartNumber: p.PartNumber, ETag: p.ETag, ChecksumCRC32C: p.ChecksumCRC32C})
		}
		if !aws.ToBool(out.IsTruncated) || int32(len(parts)) >= s.Parts {
			break
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
	if int32(len(parts)) != s.Parts {
		return nil, fmt.Errorf("s3://%s/%s: the server has %d of the %d parts uploaded", s.Bucket, s.Key, len(parts), s.Parts)
	}
	if total != s.Bytes {
		return nil, fmt.Errorf("s3://%s/%s: the first %d parts hold %d bytes, the state says %d", s.Bucket, s.Key, s.Parts, total, s.Bytes)
	}
	if s.Parts == 0 {
		// Still prove the upload exists.
		if _, err := d.client.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.Key), UploadId: aws.String(s.UploadID), MaxParts: aws.Int32(1)}); err != nil {
			if isNoSuchUpload(err) {
				return nil, fmt.Errorf("s3://%s/%s: %w", s.Bucket, s.Key, ErrUploadGone)
			}
			return nil, fmt.Errorf("list the parts of s3://%s/%s: %w", s.Bucket, s.Key, err)
		}
	}
	return parts, nil
}

func (d *Destination) readStash(ctx context.Context, s uploadState) ([]byte, error) {
	if s.StashKey == "" {
		if s.StashCRC32C != "" && crc32cBase64(s.Stash) != s.StashCRC32C {
			return nil, fmt.Errorf("the inline stash of s3://%s/%s is corrupt", s.Bucket, s.Key)
		}
		return s.Stash, nil
	}
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.StashKey)})
	if err != nil {
		return nil, fmt.Errorf("read the stashed tail s3://%s/%s: %w", s.Bucket, s.StashKey, err)
	}
	defer out.Body.Close()
	buf, err := io.ReadAll(io.LimitReader(out.Body, s.StashSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the stashed tail s3://%s/%s: %w", s.Bucket, s.StashKey, err)
	}
	if int64(len(buf)) != s.StashSize || crc32cBase64(buf) != s.StashCRC32C {
		return nil, fmt.Errorf("the stashed tail s3://%s/%s is not what was stashed (%d bytes, expected %d)", s.Bucket, s.StashKey, len(buf), s.StashSize)
	}
	return buf, nil
}

// DiscardUpload aborts the multipart upload of a state and deletes its
// stashed tails. Idempotent: an upload already gone is fine.
func (d *Destination) DiscardUpload(ctx context.Context, state json.RawMessage) error {
	s, err := parseState(state)
	if err != nil {
		return err
	}
	return errors.Join(
		abortMultipart(ctx, d.client, d.log, s.Bucket, s.Key, s.UploadID),
		deleteStashes(ctx, d.client, d.log, s.Bucket, s.Key),
	)
}

// Put stores a small file whole (PutObject with a CRC32C); a larger one is
// streamed as a multipart upload.
func (d *Destination) Put(ctx context.Context, name string, r io.Reader, size int64, contentType string) (archive.Location, error) {
	key := d.Key(name)
	if err := putObject(ctx, d, key, size, contentType, nil, r); err != nil {
		return "", err
	}
	return location(d.cfg.Bucket, key), nil
}

// Open reads a stored file from offset. A download cut mid-body continues
// with a new ranged GET (If-Match on the ETag it started with), up to
// WithReadRetries times.
func (d *Destination) Open(ctx context.Context, loc archive.Location, offset int64) (io.ReadCloser, error) {
	bucket, key, err := parseLocation(loc)
	if err != nil {
		return nil, err
	}
	return openRange(ctx, d.client, d.log, bucket, key, "", -1, offset, d.opt.readRetries, false)
}

// Stat returns a stored file's size; a missing file is an error matching
// fs.ErrNotExist.
func (d *Destination) Stat(ctx context.Context, loc archive.Location) (int64, error) {
	bucket, key, err := parseLocation(loc)
	if err != nil {
		return 0, err
	}
	out, err := d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return 0, notFound(string(loc), err)
	}
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", loc, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Delete removes a stored file; a missing one is not an error.
func (d *Destination) Delete(ctx context.Context, loc archive.Location) error {
	bucket, key, err := parseLocation(loc)
	if err != nil {
		return err
	}
	return deleteObject(ctx, d.client, bucket, key)
}

// parseLocation splits "s3://bucket/key".
func parseLocation(loc archive.Location) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(string(loc), "s3://")
	if ok {
		bucket, key, ok = strings.Cut(rest, "/")
	}
	if !ok || bucket == "" || key == "" {
		return "", "", fmt.Errorf("%q is not an S3 location (s3://bucket/key)", loc)
	}
	return bucket, key, nil
}

func deleteObject(ctx context.Context, client *s3.Client, bucket, key string) error {
	_, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// putSmall stores bytes in one PutObject with their CRC32C.
func putSmall(ctx context.Context, client *s3.Client, bucket, key, contentType string, meta map[string]string, data []byte) error {
	in := &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumCRC32C: aws.String(crc32cBase64(data)),
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if len(meta) > 0 {
		in.Metadata = meta
	}
	if _, err := client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("write s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}
