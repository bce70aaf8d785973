package s3

import (
	"context"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Target is a bucket (under a prefix) that a restore writes objects into.
type Target struct {
	dest   *Destination
	prefix string
	log    *slog.Logger
}

// NewTarget writes into cfg.Bucket under prefix ("" for the bucket's root;
// cfg.Prefix is not used). An invalid prefix makes every call fail with a
// clear error.
func NewTarget(cfg Config, prefix string, logger *slog.Logger, opts ...Option) *Target {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.Prefix = ""
	t := &Target{dest: NewDestination(cfg, logger, opts...), prefix: prefix, log: logger}
	return t
}

// TargetKey is where a manifest key goes under prefix. The key is kept
// verbatim (empty segments and "." included: they stay under the prefix)
// but a key that could climb out of the prefix when a server or a tool
// reads it as a path — a ".." segment or a leading "/" — is refused with
// ErrUnsafeKey, as is an empty key or one S3 cannot store.
func TargetKey(prefix, key string) (string, error) {
	p, err := normalizePrefix(prefix)
	if err != nil {
		return "", fmt.Errorf("prefix %q: %w", prefix, err)
	}
	switch {
	case key == "":
		return "", fmt.Errorf("an empty key: %w", ErrUnsafeKey)
	case strings.HasPrefix(key, "/"):
		return "", fmt.Errorf("%q starts with /: %w", key, ErrUnsafeKey)
	case !utf8.ValidString(key) || strings.ContainsRune(key, 0):
		return "", fmt.Errorf("%q is not valid UTF-8 text: %w", key, ErrUnsafeKey)
	case len(p)+len(key) > 1024:
		return "", fmt.Errorf("%q is longer than S3's 1,024 bytes under %q: %w", key, p, ErrUnsafeKey)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." {
			return "", fmt.Errorf("%q has a .. segment: %w", key, ErrUnsafeKey)
		}
	}
	return p + key, nil
}

// Preflight is what a restore would meet at the target.
type Preflight struct {
	Writable       bool
	WritableReason string // why not, in plain words
	// Existing counts manifest keys that already exist under the prefix;
	// ExistingSample names the first few of them.
	Existing       int64
	ExistingSample []string
}

const sampleSize = 20

// Preflight proves write access (a probe object written and deleted under
// the prefix) and counts the manifest keys that already exist there. keys
// must come in S3's order (byte order, as the manifest lists them); the
// prefix is listed page by page and merged with them, so memory stays flat
// whatever the number of keys.
func (t *Target) Preflight(ctx context.Context, keys iter.Seq[string]) (Preflight, error) {
	prefix, err := normalizePrefix(t.prefix)
	if err != nil {
		return Preflight{}, fmt.Errorf("target prefix %q: %w", t.prefix, err)
	}
	var pf Preflight
	probe := prefix + ".backupd-probe-" + randomHex(6)
	if err := putSmall(ctx, t.dest.client, t.dest.cfg.Bucket, probe, "text/plain", nil, []byte("backupd restore preflight\n")); err != nil {
		pf.WritableReason = writeRefusal(t.dest.cfg, err)
	} else if err := deleteObject(ctx, t.dest.client, t.dest.cfg.Bucket, probe); err != nil {
		pf.WritableReason = "objects can be written but not deleted: " + plainMessage(err)
	} else {
		pf.Writable = true
	}
	err = mergeTarget(ctx, t, keys, func(k string) string { return k }, func(key string, existing *types.Object) error {
		if existing != nil {
			pf.Existing++
			if len(pf.ExistingSample) < sampleSize {
				pf.ExistingSample = append(pf.ExistingSample, key)
			}
		}
		return nil
	}, nil)
	if err != nil {
		return pf, err
	}
	t.log.Info(fmt.Sprintf("preflight of s3://%s/%s: writable %v, %d objects already exist", t.dest.cfg.Bucket, prefix, pf.Writable, pf.Existing))
	return pf, nil
}

func writeRefusal(cfg Config, err error) string {
	c := describeCheckError(cfg, "write", err)
	return redactCheck(c, cfg).Reason
}

// mergeTarget walks the manifest keys and the objects under the prefix together,
// both in S3's order. onKey gets every manifest key with the object found
// for it (nil when missing); onExtra gets objects no manifest key names.
// Keys TargetKey refuses are passed with a nil object.
func mergeTarget[T any](ctx context.Context, t *Target, items iter.Seq[T], keyOf func(T) string, onKey func(item T, obj *types.Object) error, onExtra func(types.Object) error) error {
	next, stop := iter.Pull(items)
	defer stop()
	prefix, _ := normalizePrefix(t.prefix)

	var lastTarget string
	key, target, more, err := nextTargetKey(next, keyOf, prefix, &lastTarget, onKey)
	if err != nil {
		return err
	}
	pager := s3.NewListObjectsV2Paginator(t.dest.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(t.dest.cfg.Bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(t.dest.opt.pageSize),
	})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", t.dest.cfg.Bucket, prefix, err)
		}
		for i := range page.Contents {
			obj := page.Contents[i]
			name := aws.ToString(obj.Key)
			for more && target < name {
				if err := onKey(key, nil); err != nil {
					return err
				}
				if key, target, more, err = nextTargetKey(next, keyOf, prefix, &lastTarget, onKey); err != nil {
					return err
				}
			}
			if more && target == name {
				if err := onKey(key, &obj); err != nil {
					return err
				}
				if key, target, more, err = nextTargetKey(next, keyOf, prefix, &lastTarget, onKey); err != nil {
					return err
				}
				continue
			}
			if onExtra != nil {
				if err := onExtra(obj); err != nil {
					return err
				}
			}
		}
	}
	for more {
		if err := onKey(key, nil); err != nil {
			return err
		}
		if key, _, more, err = nextTargetKey(next, keyOf, prefix, &lastTarget, onKey); err != nil {
			return err
		}
	}
	return nil
}

// nextTargetKey pulls the next manifest key that has a safe target key,
// reporting unsafe ones as missing, and insists on S3's order.
func nextTargetKey[T any](next func() (T, bool), keyOf func(T) string, prefix string, last *string, onKey func(T, *types.Object) error) (item T, target string, ok bool, err error) {
	var zero T
	for {
		item, ok = next()
		if !ok {
			return zero, "", false, nil
		}
		key := keyOf(item)
		target, terr := TargetKey(prefix, key)
		if terr != nil {
			if err := onKey(item, nil); err != nil {
				return zero, "", false, err
			}
			continue
		}
		if target <= *last && *last != "" {
			return zero, "", false, fmt.Errorf("the manifest keys are not in S3's order (%q after %q)", key, strings.TrimPrefix(*last, prefix))
		}
		*last = target
		return item, target, true, nil
	}
}

// Put writes one restored object under the prefix with its content type
// and user metadata. content must yield exactly size bytes; if it fails,
// even at its very end (the archive's SHA-256 check), the object is not
// created: a small object is never sent, a large one's multipart upload is
// aborted. An unsafe key is refused with ErrUnsafeKey.
func (t *Target) Put(ctx context.Context, key string, size int64, contentType string, metadata map[string]string, content io.Reader) error {
	target, err := TargetKey(t.prefix, key)
	if err != nil {
		return err
	}
	return putObject(ctx, t.dest, target, size, contentType, metadata, content)
}

// Exists says whether a manifest key already exists under the prefix.
func (t *Target) Exists(ctx context.Context, key string) (bool, error) {
	target, err := TargetKey(t.prefix, key)
	if err != nil {
		return false, err
	}
	_, err = t.dest.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(t.dest.cfg.Bucket), Key: aws.String(target)})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look for s3://%s/%s: %w", t.dest.cfg.Bucket, target, err)
	}
	return true, nil
}

// Open reads back a restored object (for checks and tests).
func (t *Target) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	target, err := TargetKey(t.prefix, key)
	if err != nil {
		return nil, err
	}
	return openRange(ctx, t.dest.client, t.log, t.dest.cfg.Bucket, target, "", -1, 0, t.dest.opt.readRetries, false)
}
