package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"backupd/domain"
)

// reportListMax caps each list of a report (the counts stay exact), so a
// report fits in one event whatever went wrong.
const reportListMax = 100

// Verify checks a restore against its manifest: every entry present under
// the prefix with the same size and SHA-256 (read back and hashed, several
// objects at a time), nothing missing; objects under the prefix that no
// entry names are listed as extra (they do not fail the verification).
// entries must come in S3's key order, as the manifest lists them; memory
// stays flat. Restored and Skipped are left for the caller to fill in.
func (t *Target) Verify(ctx context.Context, entries iter.Seq[domain.ArchiveEntry]) (domain.RestoreReport, error) {
	v := &verification{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(t.dest.opt.workers)
	err := mergeTarget(gctx, t, entries, func(e domain.ArchiveEntry) string { return e.Key },
		func(e domain.ArchiveEntry, obj *types.Object) error {
			v.count(&v.checked)
			if obj == nil {
				if _, err := TargetKey(t.prefix, e.Key); err != nil {
					v.mismatch(e.Key, "not restored: the key could escape the target prefix")
					return nil
				}
				v.missing(e.Key)
				return nil
			}
			if got := aws.ToInt64(obj.Size); got != e.Size {
				v.mismatch(e.Key, fmt.Sprintf("the size is %d bytes, the manifest says %d", got, e.Size))
				return nil
			}
			etag := aws.ToString(obj.ETag)
			g.Go(func() error { return t.verifyContent(gctx, v, e, aws.ToString(obj.Key), etag) })
			return nil
		},
		func(obj types.Object) error { v.extra(aws.ToString(obj.Key)); return nil })
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return domain.RestoreReport{}, fmt.Errorf("verify the restore: %w", err)
	}
	report := v.report()
	t.log.Info("verification: " + report.Summary)
	return report, nil
}

func (t *Target) verifyContent(ctx context.Context, v *verification, e domain.ArchiveEntry, target, etag string) error {
	r, err := openRange(ctx, t.dest.client, t.log, t.dest.cfg.Bucket, target, etag, e.Size, 0, t.dest.opt.readRetries, false)
	if err == nil {
		h := sha256.New()
		_, err = io.Copy(h, r)
		r.Close()
		if err == nil {
			if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, e.SHA256) {
				v.mismatch(e.Key, "the content differs (SHA-256 "+got[:12]+"…, the manifest says "+shortHash(e.SHA256)+")")
			} else {
				v.count(&v.verified)
			}
			return nil
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, fs.ErrNotExist) {
		v.missing(e.Key)
		return nil
	}
	v.mismatch(e.Key, "could not be read back: "+err.Error())
	return nil
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// verification gathers results from the parallel checks.
type verification struct {
	mu                          sync.Mutex
	checked, verified           int64
	nMissing, nMismatch, nExtra int64
	missingKeys                 []string
	mismatches                  []domain.Mismatch
	extras                      []string
}

func (v *verification) count(n *int64) { v.mu.Lock(); *n++; v.mu.Unlock() }

func (v *verification) missing(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.nMissing++
	if len(v.missingKeys) < reportListMax {
		v.missingKeys = append(v.missingKeys, key)
	}
}

func (v *verification) mismatch(key, reason string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.nMismatch++
	if len(v.mismatches) < reportListMax {
		v.mismatches = append(v.mismatches, domain.Mismatch{Key: key, Reason: reason})
	}
}

func (v *verification) extra(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.nExtra++
	if len(v.extras) < reportListMax {
		v.extras = append(v.extras, key)
	}
}

func (v *verification) report() domain.RestoreReport {
	sort.Slice(v.mismatches, func(i, j int) bool { return v.mismatches[i].Key < v.mismatches[j].Key })
	sort.Strings(v.missingKeys)
	r := domain.RestoreReport{
		Verified:   v.nMissing == 0 && v.nMismatch == 0,
		Checked:    v.checked,
		Missing:    v.missingKeys,
		Mismatched: v.mismatches,
		Extra:      v.extras,
		Truncated:  v.nMissing > reportListMax || v.nMismatch > reportListMax || v.nExtra > reportListMax,
	}
	if r.Verified {
		r.Summary = fmt.Sprintf("all %d objects are present with the same size and SHA-256", v.verified)
	} else {
		r.Summary = fmt.Sprintf("%d of %d objects verified: %d missing, %d different", v.verified, v.checked, v.nMissing, v.nMismatch)
	}
	if v.nExtra > 0 {
		r.Summary += fmt.Sprintf("; %s under the prefix not in the manifest", plural(v.nExtra, "other object"))
	}
	return r
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
