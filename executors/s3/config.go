// Package s3 is everything backupd does with S3 and S3-compatible services:
// connection checks, a bucket as a backup source, a bucket as an archive
// destination (resumable multipart uploads), and a bucket as a restore
// target. It speaks aws-sdk-go-v2 and is tested against versitygw.
package s3

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"backupd/domain"
)

// Config is what the product needs to reach one bucket. Build it with
// ConfigFrom from a connection's settings and decrypted secrets.
type Config struct {
	AccessKeyID     string
	SecretAccessKey string
	Region          string
	Bucket          string
	// Endpoint is empty for AWS, else the base URL of an S3-compatible
	// service (http:// or https://).
	Endpoint  string
	PathStyle bool
	// Prefix is where a destination stores archives ("" or "backups/").
	Prefix string
}

// String never shows the secret, so a Config that slips into a log line or
// an error with %v or %+v leaks nothing.
func (c Config) String() string {
	return fmt.Sprintf("s3 bucket %q at %s (access key %s)", c.Bucket, c.endpointHost(), c.AccessKeyID)
}

// GoString covers %#v.
func (c Config) GoString() string { return c.String() }

// LogValue keeps the secret out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("bucket", c.Bucket),
		slog.String("endpoint", c.endpointHost()),
		slog.String("region", c.Region),
		slog.String("access_key_id", c.AccessKeyID),
	)
}

// endpointHost names the server in messages: host[:port] of the endpoint,
// or AWS's regional host.
func (c Config) endpointHost() string {
	if c.Endpoint == "" {
		region := c.Region
		if region == "" {
			region = "us-east-1"
		}
		return "s3." + region + ".amazonaws.com"
	}
	if u, err := url.Parse(c.Endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return c.Endpoint
}

// ConfigFrom reads the settings and secrets of an s3_source or
// s3_destination connection (field names of domain.KindSpecs). A missing or
// malformed field is a *domain.Error naming the field.
func ConfigFrom(settings, secrets map[string]string) (Config, error) {
	c := Config{
		AccessKeyID:     strings.TrimSpace(settings["access_key_id"]),
		SecretAccessKey: secrets["secret_access_key"],
		Region:          strings.TrimSpace(settings["region"]),
		Bucket:          strings.TrimSpace(settings["bucket"]),
		Endpoint:        strings.TrimRight(strings.TrimSpace(settings["endpoint"]), "/"),
		Prefix:          strings.TrimSpace(settings["prefix"]),
	}
	switch p := strings.TrimSpace(settings["path_style"]); p {
	case "", "false":
	case "true":
		c.PathStyle = true
	default:
		return Config{}, domain.Invalid("bool-invalid", "path_style", "must be true or false")
	}
	return c, c.Validate()
}

// Validate checks that the config can be used to build a client.
func (c Config) Validate() error {
	required := []struct{ field, label, value string }{
		{"access_key_id", "Access key ID", c.AccessKeyID},
		{"secret_access_key", "Secret access key", c.SecretAccessKey},
		{"region", "Region", c.Region},
		{"bucket", "Bucket", c.Bucket},
	}
	for _, r := range required {
		if r.value == "" {
			return domain.Invalid("field-required", r.field, r.label+" is required")
		}
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return domain.Invalid("endpoint-invalid", "endpoint", "the endpoint must be a URL starting with http:// or https://")
		}
	}
	if _, err := normalizePrefix(c.Prefix); err != nil {
		return domain.Invalid("prefix-invalid", "prefix", err.Error())
	}
	return nil
}

// Timeouts of the HTTP client. Connecting must be quick (a wrong endpoint
// is reported within seconds); a transfer may be long but must not stall.
const (
	connectTimeout = 5 * time.Second
	tlsTimeout     = 5 * time.Second
	// readIdleTimeout ends a connection that delivers no byte for this long
	// (the retryer then tries again).
	readIdleTimeout = 90 * time.Second
	maxAttempts     = 5
)

// NewClient builds an S3 client for cfg: static credentials, a custom
// endpoint and path-style addressing for S3-compatible services, quick
// connection timeouts, and the SDK's standard retryer (exponential backoff
// with jitter on 5xx, throttling and network errors) without a retry quota,
// so a long upload is never refused a retry because earlier ones spent it.
func NewClient(cfg Config) *s3.Client {
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = connectTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = tlsTimeout
			t.MaxIdleConnsPerHost = 32
			t.ExpectContinueTimeout = time.Second
		}).
		WithReadTimeout(readIdleTimeout)
	opts := s3.Options{
		Region:       cfg.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		UsePathStyle: cfg.PathStyle,
		HTTPClient:   httpClient,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.MaxBackoff = 10 * time.Second
			o.RateLimiter = ratelimit.None
		}),
		// We send our own checksums where they matter (parts, objects) and
		// verify what we read ourselves (SHA-256 in the archive, ETags);
		// ranged reads cannot be validated by the SDK anyway.
		RequestChecksumCalculation:                aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation:                aws.ResponseChecksumValidationWhenRequired,
		DisableLogOutputChecksumValidationSkipped: true,
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	return s3.New(opts)
}

// noRetry makes one call fail at once (connection checks answer quickly).
func noRetry(o *s3.Options) { o.RetryMaxAttempts = 1 }

// normalizePrefix returns "" or a prefix ending in "/", refusing prefixes
// that would climb out of the bucket's key space when read as a path.
func normalizePrefix(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", nil
	}
	if strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("the prefix may not start with /")
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if seg == ".." || seg == "." || seg == "" {
			return "", fmt.Errorf("the prefix may not contain empty, . or .. segments")
		}
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}
