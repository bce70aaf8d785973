package commands

import (
	"context"
	"maps"

	"backupd/domain"
)

// ConnectionChecker proves a connection's settings by connecting to the
// service (S3 lists the bucket, MongoDB pings, Drive reads "about"...).
type ConnectionChecker interface {
	// Check connects to the service with these settings and plaintext secrets.
	Check(ctx context.Context, kind domain.ConnectionKind, settings, secrets map[string]string) CheckResult
}

// CheckResult is a check's outcome plus what the check learned.
type CheckResult struct {
	domain.Check
	// Settings learned or changed by the check (Drive folder_id,
	// account_email, token_expiry in RFC 3339): merged into what is stored.
	Settings map[string]string
	// Secrets changed by the check (a refreshed Drive access_token, a
	// rotated refresh_token): sealed and stored.
	Secrets map[string]string
}

// check runs the checker under the service's time bound.
func (s *service) check(ctx context.Context, kind domain.ConnectionKind, settings, secrets map[string]string) CheckResult {
	ctx, cancel := context.WithTimeout(ctx, s.checkTimeout)
	defer cancel()
	// The checker gets copies: it must not change the caller's maps.
	return s.checker.Check(ctx, kind, maps.Clone(settings), maps.Clone(secrets))
}

// learned merges a successful check's settings over settings.
func learned(settings map[string]string, res CheckResult) map[string]string {
	out := maps.Clone(settings)
	if out == nil {
		out = map[string]string{}
	}
	if res.OK {
		maps.Copy(out, res.Settings)
	}
	return out
}
