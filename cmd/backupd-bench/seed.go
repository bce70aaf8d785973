package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// dataset is a bucket of count objects of size bytes each.
type dataset struct {
	label   string // for the report
	bucket  string
	count   int
	size    int64
	content string // "random" (incompressible) or "mixed" (half random, half log-like text)
}

func (d dataset) totalBytes() int64 { return int64(d.count) * d.size }

func (d dataset) key(i int) string {
	if d.count > 1000 {
		return fmt.Sprintf("objects/%03d/obj-%06d.dat", i/1000, i)
	}
	return fmt.Sprintf("objects/obj-%04d.dat", i)
}

// contentBlock is the unit of the mixed content: blocks alternate between
// random bytes and text, so gzip finds both kinds, as in a real bucket.
const contentBlock = 64 << 10

// fill writes object i's deterministic content into b.
func (d dataset) fill(i int, b []byte) {
	seed := [32]byte{}
	binary.LittleEndian.PutUint64(seed[:], uint64(i))
	copy(seed[8:], d.bucket)
	rng := rand.NewChaCha8(seed)
	for j := 0; j*contentBlock < len(b); j++ {
		blk := b[j*contentBlock : min((j+1)*contentBlock, len(b))]
		if d.content == "random" || (i+j)%2 == 0 {
			_, _ = rng.Read(blk)
			continue
		}
		fillText(rand.New(rng), blk)
	}
}

var words = []string{"backup", "archive", "object", "bucket", "worker", "upload", "part", "stream",
	"gzip", "manifest", "checksum", "resume", "pause", "cancel", "event", "store", "status", "running",
	"completed", "pending", "error", "retry", "latency", "bytes", "count", "index", "region", "us-east-1",
	"GET", "PUT", "POST", "200", "206", "404", "503", "user", "admin", "tenant", "invoice", "order",
	"customer", "product", "price", "quantity", "total", "shipping", "address", "city", "country"}

// fillText writes log-like lines of words and numbers (compresses ~3x).
func fillText(r *rand.Rand, b []byte) {
	var buf bytes.Buffer
	for buf.Len() < len(b) {
		fmt.Fprintf(&buf, "2026-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s req=%08x",
			1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000),
			[]string{"info", "warn", "debug"}[r.IntN(3)], r.Uint32())
		for k := 4 + r.IntN(8); k > 0; k-- {
			buf.WriteByte(' ')
			buf.WriteString(words[r.IntN(len(words))])
		}
		fmt.Fprintf(&buf, " n=%d\n", r.IntN(100000))
	}
	copy(b, buf.Bytes())
}

// seed creates the bucket and puts every object, parallel PutObjects.
func seed(ctx context.Context, client *s3.Client, d dataset, parallel int) (time.Duration, error) {
	start := time.Now()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(d.bucket)}); err != nil {
		return 0, fmt.Errorf("create bucket %s: %w", d.bucket, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i := range d.count {
		g.Go(func() error {
			b := make([]byte, d.size)
			d.fill(i, b)
			_, err := client.PutObject(gctx, &s3.PutObjectInput{
				Bucket: aws.String(d.bucket), Key: aws.String(d.key(i)),
				Body: bytes.NewReader(b), ContentLength: aws.Int64(d.size),
				ContentType: aws.String("application/octet-stream"),
			})
			if err != nil {
				return fmt.Errorf("put %s/%s: %w", d.bucket, d.key(i), err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// emptyBucket deletes every object (and multipart upload) under prefix, so
// archives of earlier runs do not fill the disk.
func emptyBucket(ctx context.Context, client *s3.Client, bucket string) error {
	var token *string
	for {
		page, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), ContinuationToken: token})
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key}); err != nil {
				return err
			}
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		token = page.NextContinuationToken
	}
	ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		return err
	}
	for _, u := range ups.Uploads {
		_, _ = client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId})
	}
	return nil
}
