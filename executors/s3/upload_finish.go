package s3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"backupd/executors/archive"
)

// Suspend uploads what S3 accepts as parts (anything of at least 5 MiB),
// waits until it is all durable, and copies the rest, less than 5 MiB, into
// the state (at most 256 KiB) or into a temporary object
// <key>.stash-<id>. The upload goes on afterwards (a periodic checkpoint)
// or is simply dropped (a pause); ResumeUpload continues from the state in
// any process.
//
// A stash object must outlive the state that names it until a newer
// checkpoint is recorded, which the upload cannot see; it keeps the two
// newest it made (a newer checkpoint is always offered before a third
// stash is made) and Complete, Abort and DiscardUpload remove them all.
func (u *upload) Suspend(ctx context.Context) (json.RawMessage, error) {
	if err := u.err(); err != nil {
		return nil, err
	}
	if err := u.flush(false); err != nil {
		return nil, err
	}
	if len(u.buf) >= MinPartSize {
		if err := u.cut(int64(len(u.buf)), false, nil); err != nil {
			return nil, err
		}
	}
	if err := u.drain(ctx); err != nil {
		return nil, err
	}
	s := uploadState{Version: stateVersion, Bucket: u.bucket, Key: u.key, UploadID: u.uploadID,
		PartSize: u.base, GrowAfter: u.growAfter, Parts: u.nextPart - 1, Bytes: u.cutBytes}
	tail := u.buf
	switch {
	case len(tail) == 0:
	case len(tail) <= inlineStashMax:
		s.Stash = append([]byte(nil), tail...)
		s.StashCRC32C = crc32cBase64(tail)
	default:
		s.StashKey = fmt.Sprintf("%s.stash-%d-%s", u.key, s.Parts, randomHex(4))
		s.StashSize = int64(len(tail))
		s.StashCRC32C = crc32cBase64(tail)
		if err := putSmall(ctx, u.client, u.bucket, s.StashKey, "application/octet-stream", nil, tail); err != nil {
			return nil, fmt.Errorf("stash the last %s: %w", archive.HumanBytes(int64(len(tail))), err)
		}
		u.keepStash(ctx, s.StashKey)
	}
	state, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	u.log.Info(fmt.Sprintf("upload of %s is durable after part %d: %s uploaded, %s kept aside", u.key, s.Parts, archive.HumanBytes(s.Bytes), archive.HumanBytes(int64(len(tail)))))
	return state, nil
}

// keepStashes is how many stash objects an upload keeps.
const keepStashes = 2

func (u *upload) keepStash(ctx context.Context, key string) {
	u.stashes = append(u.stashes, key)
	for len(u.stashes) > keepStashes {
		old := u.stashes[0]
		if err := deleteObject(ctx, u.client, u.bucket, old); err != nil {
			u.log.Warn(fmt.Sprintf("could not delete the old temporary object %s yet (%v); it goes when the upload ends", old, err))
			return
		}
		u.stashes = u.stashes[1:]
	}
}

// Complete sends the rest as the last part, completes the multipart upload
// with every part's ETag and CRC32C, checks the object's size and removes
// stashed tails.
func (u *upload) Complete(ctx context.Context) (archive.Location, error) {
	if err := u.err(); err != nil {
		return "", err
	}
	if err := u.flush(true); err != nil {
		return "", err
	}
	if err := u.drain(ctx); err != nil {
		return "", err
	}
	parts, err := u.completedParts()
	if err != nil {
		return "", err
	}
	total := u.cutBytes
	_, err = u.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: aws.String(u.uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil && !isNoSuchUpload(err) {
		return "", fmt.Errorf("complete the upload of s3://%s/%s: %w", u.bucket, u.key, err)
	}
	// NoSuchUpload after a retried Complete means the first one finished:
	// the size check below tells.
	head, herr := u.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(u.bucket), Key: aws.String(u.key)})
	if herr != nil {
		return "", fmt.Errorf("check s3://%s/%s after completing it: %w", u.bucket, u.key, errors.Join(err, herr))
	}
	if got := aws.ToInt64(head.ContentLength); got != total {
		return "", fmt.Errorf("s3://%s/%s holds %d bytes after completing, %d were uploaded", u.bucket, u.key, got, total)
	}
	u.finish()
	if err := deleteStashes(ctx, u.client, u.log, u.bucket, u.key); err != nil {
		u.log.Warn(err.Error())
	}
	if !u.quiet {
		u.log.Info(fmt.Sprintf("upload of s3://%s/%s complete: %d parts, %s", u.bucket, u.key, len(parts), archive.HumanBytes(total)))
	}
	return location(u.bucket, u.key), nil
}

// Abort lets the parts in flight end (a part cancelled on our side may
// still land at the server after the abort and revive the upload), aborts
// the multipart upload and deletes stashed tails, so nothing of the upload
// is left. If ctx ends first, the parts in flight are cancelled.
func (u *upload) Abort(ctx context.Context) error {
	u.closed.Store(true)
	landed := make(chan struct{})
	go func() { u.inFlight.Wait(); close(landed) }()
	select {
	case <-landed:
	case <-ctx.Done():
		u.cancel()
		<-landed
	}
	u.cancel()
	u.deliveries.stop()
	u.buf = nil
	return errors.Join(
		abortMultipart(ctx, u.client, u.log, u.bucket, u.key, u.uploadID),
		deleteStashes(ctx, u.client, u.log, u.bucket, u.key),
	)
}

// abortMultipart aborts an upload and makes sure no part is left (a part
// still arriving during the abort can survive it, so S3 advises checking).
func abortMultipart(ctx context.Context, client *s3.Client, log *slog.Logger, bucket, key, uploadID string) error {
	for attempt := 1; ; attempt++ {
		_, err := client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(uploadID)})
		if err != nil && !isNoSuchUpload(err) {
			return fmt.Errorf("abort the upload of s3://%s/%s: %w", bucket, key, err)
		}
		_, err = client.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(uploadID), MaxParts: aws.Int32(1)})
		if isNoSuchUpload(err) {
			log.Info(fmt.Sprintf("aborted the upload of s3://%s/%s", bucket, key))
			return nil
		}
		if attempt == 3 {
			return fmt.Errorf("the upload of s3://%s/%s still exists after aborting it %d times", bucket, key, attempt)
		}
	}
}

// deleteStashes removes every temporary <key>.stash-* object.
func deleteStashes(ctx context.Context, client *s3.Client, log *slog.Logger, bucket, key string) error {
	pager := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(key + ".stash-")})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the temporary objects of s3://%s/%s: %w", bucket, key, err)
		}
		for _, o := range page.Contents {
			if err := deleteObject(ctx, client, bucket, aws.ToString(o.Key)); err != nil {
				return err
			}
			log.Info(fmt.Sprintf("deleted the temporary object s3://%s/%s", bucket, aws.ToString(o.Key)))
		}
	}
	return nil
}

// smallPutMax is the largest object stored with a single PutObject (it is
// held in memory); larger ones stream as multipart uploads.
const smallPutMax = 8 << 20

// putObject stores exactly size bytes of r at key. If r fails, even at its
// very end, nothing is stored: the PutObject is never sent or the multipart
// upload is aborted.
func putObject(ctx context.Context, d *Destination, key string, size int64, contentType string, meta map[string]string, r io.Reader) error {
	if size < 0 {
		return fmt.Errorf("write s3://%s/%s: the size is unknown", d.cfg.Bucket, key)
	}
	er := &exactReader{r: r, left: size}
	if size <= smallPutMax {
		data := make([]byte, size)
		if _, err := io.ReadFull(er, data); err != nil {
			return fmt.Errorf("write s3://%s/%s: %w", d.cfg.Bucket, key, er.explain(err))
		}
		if err := er.expectEnd(); err != nil {
			return fmt.Errorf("write s3://%s/%s: %w", d.cfg.Bucket, key, err)
		}
		return putSmall(ctx, d.client, d.cfg.Bucket, key, contentType, meta, data)
	}
	base := max(PartSizeFor(size), d.opt.partSize)
	u, err := d.start(ctx, key, base, growAfterFor(base, size), contentType, meta, nil, true)
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(u, er, make([]byte, 256<<10))
	if err == nil {
		err = er.expectEnd()
	}
	if err == nil {
		_, err = u.Complete(ctx)
	}
	if err != nil {
		if aerr := u.Abort(context.WithoutCancel(ctx)); aerr != nil {
			d.log.Warn(aerr.Error())
		}
		return fmt.Errorf("write s3://%s/%s: %w", d.cfg.Bucket, key, er.explain(err))
	}
	return nil
}

// exactReader passes through exactly `left` bytes and insists the source
// ends there, so a short or long stream is an error, never a stored object.
type exactReader struct {
	r    io.Reader
	left int64
	read int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	e.read += int64(n)
	if err == io.EOF && e.left > 0 {
		return n, fmt.Errorf("the content ended after %d bytes, %d were announced: %w", e.read, e.read+e.left, io.ErrUnexpectedEOF)
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// expectEnd reads past the announced size: the source must end there, and
// a source that checks itself at its end (an archive entry's SHA-256) gets
// to report a failure.
func (e *exactReader) expectEnd() error {
	var one [1]byte
	for {
		n, err := e.r.Read(one[:])
		if n > 0 {
			return fmt.Errorf("the content is longer than the %d bytes announced", e.read)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (e *exactReader) explain(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) && e.left > 0 {
		return fmt.Errorf("the content ended after %d bytes, %d were announced", e.read, e.read+e.left)
	}
	return err
}
