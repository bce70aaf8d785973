package peers

import (
	"context"
	"errors"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Peer is an S3-compatible server (versitygw).
type S3Peer struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
}

// S3 returns the shared S3 peer.
func S3(t testing.TB) S3Peer {
	t.Helper()
	return S3Peer{
		Endpoint:  require(t, EnvS3Endpoint),
		AccessKey: require(t, EnvS3AccessKey),
		SecretKey: require(t, EnvS3SecretKey),
		Region:    "us-east-1",
	}
}

var vgwReady = regexp.MustCompile(`.`)

// PrivateS3 starts a versitygw for this test alone on a fresh folder.
func PrivateS3(t testing.TB) (S3Peer, *Process) {
	t.Helper()
	addr := FreePortAddr(t)
	dir := t.TempDir()
	p := S3Peer{Endpoint: "http://" + addr, AccessKey: "testkey", SecretKey: "testsecret123", Region: "us-east-1"}
	cmd := startVersity(t, addr, dir, p)
	return p, cmd
}

func startVersity(t testing.TB, addr, dir string, p S3Peer) *Process {
	t.Helper()
	proc := StartProcess(t, vgwReady, []string{"ROOT_ACCESS_KEY=" + p.AccessKey, "ROOT_SECRET_KEY=" + p.SecretKey},
		bin(t, "versitygw"), "--port", addr, "posix", dir)
	// versitygw prints a banner before it listens: wait for the port.
	client := p.Client()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			return proc
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Client is an S3 client for the peer, path-style, independent of the
// product's own S3 code (tests check the product's results with it).
func (p S3Peer) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       p.Region,
		BaseEndpoint: aws.String(p.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(p.AccessKey, p.SecretKey, ""),
		// versitygw verifies checksums itself; keep the SDK default.
		RetryMaxAttempts: 3,
	})
}

// Bucket creates a bucket unique to the test and empties and removes it at
// the end (unless BACKUPD_KEEP_BUCKETS is set, for debugging).
func (p S3Peer) Bucket(t testing.TB) string {
	t.Helper()
	name := RandomName("t-")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	t.Cleanup(func() {
		if os.Getenv("BACKUPD_KEEP_BUCKETS") != "" {
			return
		}
		p.RemoveBucket(name)
	})
	return name
}

// RemoveBucket deletes every object and open multipart upload, then the bucket.
func (p S3Peer) RemoveBucket(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := p.Client()
	uploads, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(name)})
	if err == nil {
		for _, u := range uploads.Uploads {
			_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(name), Key: u.Key, UploadId: u.UploadId})
		}
	}
	pager := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			var nsb *types.NoSuchBucket
			if errors.As(err, &nsb) {
				return
			}
			break
		}
		for _, o := range page.Contents {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: o.Key})
		}
	}
	_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
}
