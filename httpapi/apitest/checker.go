package apitest

import (
	"context"

	"backupd/commands"
	"backupd/domain"
	"backupd/executors/gdrive"
	"backupd/executors/s3"
)

// Checker is a commands.ConnectionChecker that connects for real: S3 kinds
// through executors/s3, Drive through executors/gdrive. Kinds it has no
// check for fail with a plain reason (Options.Checker replaces it).
type Checker struct {
	Google gdrive.App
}

func (c Checker) Check(ctx context.Context, kind domain.ConnectionKind, settings, secrets map[string]string) commands.CheckResult {
	switch kind.Service() {
	case "s3":
		cfg, err := s3.ConfigFrom(settings, secrets)
		if err != nil {
			return failed(err)
		}
		return commands.CheckResult{Check: s3.Check(ctx, cfg, kind.Role())}
	case "gdrive":
		return gdrive.Check(ctx, c.Google, settings, secrets, gdrive.Options{})
	}
	return commands.CheckResult{Check: domain.Check{Reason: "this test server cannot check " + string(kind) + " connections", Field: "kind"}}
}

func failed(err error) commands.CheckResult {
	if de, ok := domain.AsError(err); ok {
		return commands.CheckResult{Check: domain.Check{Reason: de.Message, Field: de.Field}}
	}
	return commands.CheckResult{Check: domain.Check{Reason: err.Error()}}
}
