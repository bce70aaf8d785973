package s3

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"

	"backupd/executors/testsupport/logbuf"
	"backupd/executors/testsupport/peers"
)

const mib = 1 << 20

// fixture is a bucket of its own on the shared versitygw.
type fixture struct {
	peer   peers.S3Peer
	bucket string
	cfg    Config
	client *s3.Client // the peer's own client, independent of ours
	logs   *logbuf.Buffer
	log    *slog.Logger
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	p := peers.S3(t)
	bucket := p.Bucket(t)
	logs := &logbuf.Buffer{}
	return &fixture{
		peer: p, bucket: bucket, client: p.Client(), logs: logs,
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		cfg: Config{AccessKeyID: p.AccessKey, SecretAccessKey: p.SecretKey, Region: p.Region,
			Bucket: bucket, Endpoint: p.Endpoint, PathStyle: true},
	}
}

// via returns the config pointed at another endpoint (a counting proxy).
func (f *fixture) via(endpoint string) Config {
	c := f.cfg
	c.Endpoint = endpoint
	return c
}

func (f *fixture) put(t *testing.T, key string, body []byte, contentType string, meta map[string]string) {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	in.Metadata = meta
	_, err := f.client.PutObject(context.Background(), in)
	require.NoError(t, err)
}

func (f *fixture) get(t *testing.T, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := f.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	require.NoError(t, err, key)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return out, b
}

func (f *fixture) exists(t *testing.T, key string) bool {
	t.Helper()
	_, err := f.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	if err != nil {
		require.True(t, isNotFound(err), "head %s: %v", key, err)
		return false
	}
	return true
}

// keys lists every key of the bucket with the peer's client.
func (f *fixture) keys(t *testing.T) []string {
	t.Helper()
	var keys []string
	pager := s3.NewListObjectsV2Paginator(f.client, &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(context.Background())
		require.NoError(t, err)
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func (f *fixture) multipartUploads(t *testing.T) []types.MultipartUpload {
	t.Helper()
	out, err := f.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(f.bucket)})
	require.NoError(t, err)
	return out.Uploads
}

// randomBytes is reproducible incompressible data.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}))
	b := make([]byte, n)
	for i := range b {
		if i%8 == 0 {
			v := r.Uint64()
			for j := 0; j < 8 && i+j < n; j++ {
				b[i+j] = byte(v >> (8 * j))
			}
		}
	}
	return b
}

func deleteInput(bucket, key string) *s3.DeleteObjectInput {
	return &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
}
