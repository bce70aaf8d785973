package gdrive

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// RetryPolicy is how transient failures are retried: exponential backoff
// from Base to Max, giving up after Attempts consecutive failures.
type RetryPolicy struct {
	Base     time.Duration // default 1s
	Max      time.Duration // default 32s
	Attempts int           // default 10
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Base <= 0 {
		p.Base = time.Second
	}
	if p.Max <= 0 {
		p.Max = 32 * time.Second
	}
	if p.Attempts <= 0 {
		p.Attempts = 10
	}
	return p
}

// pacer is the one place where an upload (or a metadata call) waits before
// trying again. It counts consecutive failures; a success resets it.
type pacer struct {
	policy   RetryPolicy
	log      *slog.Logger
	failures int
}

func newPacer(policy RetryPolicy, log *slog.Logger) *pacer {
	return &pacer{policy: policy.withDefaults(), log: log}
}

func (p *pacer) succeeded() { p.failures = 0 }

// failed decides what to do after err: it returns nil after waiting when the
// caller should try again, or the error to give up with.
func (p *pacer) failed(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	ok, after := retryable(err)
	if !ok {
		return err
	}
	p.failures++
	if p.failures >= p.policy.Attempts {
		return fmt.Errorf("%s failed %d times in a row, giving up: %w", what, p.failures, err)
	}
	wait := p.policy.Base << (p.failures - 1)
	if wait > p.policy.Max || wait <= 0 {
		wait = p.policy.Max
	}
	wait = wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1)) // jitter
	if after > wait {
		wait = after
	}
	p.log.Warn(fmt.Sprintf("%s failed, retrying in %s: %s", what, wait.Round(10*time.Millisecond), safeErr(err)),
		"attempt", p.failures)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do runs fn until it succeeds, fails for good, or the pacer gives up.
func (p *pacer) do(ctx context.Context, what string, fn func() error) error {
	for {
		err := fn()
		if err == nil {
			p.succeeded()
			return nil
		}
		if err = p.failed(ctx, what, err); err != nil {
			return err
		}
	}
}

// safeErr is err's text without any request URL.
func safeErr(err error) string { return stripURL(err).Error() }
