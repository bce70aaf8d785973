package executors

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"strings"
	"time"

	"backupd/commands"
	"backupd/domain"
	"backupd/executors/archive"

	"github.com/google/uuid"
)

// RestorePreflight is what a restore would meet at its target, found
// without writing anything but a probe (API.md "Preflight").
type RestorePreflight struct {
	Writable       bool   `json:"writable"`
	WritableReason string `json:"writable_reason"`
	// Existing counts what the restore would overwrite (S3: manifest keys
	// already under the prefix; MongoDB: collections already in the
	// database); ExistingSample names the first few S3 keys.
	Existing            int64    `json:"existing"`
	ExistingSample      []string `json:"existing_sample"`
	CollectionsExisting []string `json:"collections_existing"`
	Entries             int64    `json:"entries"`
	Bytes               int64    `json:"bytes"`
	EstimatedSeconds    int64    `json:"estimated_seconds"`
	// EstimateBasis says how EstimatedSeconds was reckoned, in words.
	EstimateBasis  string `json:"estimate_basis"`
	SameAsOriginal bool   `json:"same_as_original"`
	// Target names where the restore writes, in words.
	Target string `json:"target"`
}

// preflightCheckTimeout bounds the connection check of typed-in details.
const preflightCheckTimeout = 30 * time.Second

// Preflight inspects a restore's target without writing to it (beyond a
// probe it removes): the archive is still there, the target accepts
// writes, what would be overwritten, and how long it should take. The
// request is judged by the domain first (kinds, options), except the
// confirmation to overwrite the original, which the answer's
// same_as_original is there to ask for. Typed-in details are proven by
// connecting, as a new connection is; a failure names the field.
func (p *RestorePlanner) Preflight(ctx context.Context, req commands.RequestRestore) (any, error) {
	backup, dest, err := p.completedBackup(ctx, req.BackupID)
	if err != nil {
		return nil, err
	}
	access, opts, err := p.preflightTarget(ctx, backup, req)
	if err != nil {
		return nil, err
	}
	r := backup.Result
	if size, err := dest.Stat(ctx, archive.Location(r.ArchiveLocation)); err != nil {
		return nil, domain.Conflict("archive-unreadable", fmt.Sprintf("the archive %s cannot be read at %s: %v", r.ArchiveName, backup.Destination.Name, err))
	} else if size != r.ArchiveSize {
		return nil, domain.Conflict("archive-damaged", fmt.Sprintf("the archive %s has %d bytes at %s; the backup wrote %d", r.ArchiveName, size, backup.Destination.Name, r.ArchiveSize))
	}
	manifest, err := openManifest(ctx, dest, r)
	if err != nil {
		return nil, domain.Conflict("manifest-unreadable", err.Error())
	}
	defer manifest.Close()

	pf := &RestorePreflight{Entries: manifest.Totals.Entries, Bytes: manifest.Totals.Bytes, ExistingSample: []string{}, CollectionsExisting: []string{}}
	pf.EstimatedSeconds, pf.EstimateBasis = estimateRestore(r, manifest.Totals.Bytes)
	pf.SameAsOriginal = p.sameAsOriginal(ctx, backup, access, opts)
	logger := slog.New(slog.DiscardHandler)
	switch access.Kind.Service() {
	case "s3":
		target, err := p.conns.S3Target(access.Settings, access.Secrets, opts.Prefix, logger)
		if err != nil {
			return nil, err
		}
		pf.Target = describeS3Target(access.Settings, opts.Prefix)
		walk := &manifestWalk{m: manifest}
		res, err := target.Preflight(ctx, walk.keys())
		if err == nil {
			err = walk.err
		}
		if err != nil {
			return nil, fmt.Errorf("preflight of %s: %w", pf.Target, err)
		}
		pf.Writable, pf.WritableReason = res.Writable, res.WritableReason
		pf.Existing = res.Existing
		pf.ExistingSample = append(pf.ExistingSample, res.ExistingSample...)
	case "mongodb":
		target, err := p.conns.MongoTarget(access.Settings, access.Secrets, opts.Database, logger)
		if err != nil {
			return nil, err
		}
		defer target.Close()
		pf.Target = "database " + opts.Database + " of " + access.Name
		var collections []string
		for e, err := range manifest.Entries() {
			if err != nil {
				return nil, err
			}
			collections = append(collections, e.Key)
		}
		res, err := target.Preflight(ctx, collections)
		if err != nil {
			return nil, err
		}
		pf.Writable, pf.WritableReason = res.Writable, res.Reason
		pf.Existing = int64(len(res.Existing))
		pf.CollectionsExisting = append(pf.CollectionsExisting, res.Existing...)
	default:
		return nil, domain.Invalid("target-kind", "target", fmt.Sprintf("%s is not a restore target", access.Kind))
	}
	return pf, nil
}

// preflightTarget resolves the request's target the way the RequestRestore
// command does, and judges it without reserving anything.
func (p *RestorePlanner) preflightTarget(ctx context.Context, backup *domain.Operation, req commands.RequestRestore) (targetAccess, domain.RestoreOptions, error) {
	opts := req.Options
	var access targetAccess
	if id := req.Target.ConnectionID; id != nil {
		conn, err := commands.Load(ctx, p.store, commands.ConnectionStream(*id), func() *domain.Connection { return domain.NewConnection(*id) })
		if err != nil {
			return access, opts, err
		}
		if !conn.Exists() {
			return access, opts, domain.Invalid("connection-not-found", "target", "the target connection does not exist")
		}
		if access, err = connectionAccess(p.conns, conn); err != nil {
			return access, opts, err
		}
		if conn.Kind.Service() == "mongodb" && opts.Database == "" {
			opts.Database = conn.Settings["database"]
		}
	} else {
		var err error
		if access, err = typedAccess(req.Target, &opts); err != nil {
			return access, opts, err
		}
	}
	// The domain's verdict on kinds and options; the overwrite confirmation
	// is what this answer's same_as_original asks the user for.
	dry := opts
	dry.OverwriteOriginal = true
	target := domain.RestoreTarget{ConnectionID: req.Target.ConnectionID, Kind: access.Kind, Name: access.Name, Settings: access.Settings}
	if err := domain.NewOperation(uuid.New()).RequestRestore(backup, target, dry, time.Now()); err != nil {
		return access, opts, err
	}
	if req.Target.ConnectionID != nil {
		return access, opts, nil
	}
	if err := domain.ValidateConnectionInput(access.Kind, access.Name, access.Settings, present(access.Secrets)); err != nil {
		return access, opts, err
	}
	cctx, cancel := context.WithTimeout(ctx, preflightCheckTimeout)
	defer cancel()
	res := p.conns.Check(cctx, access.Kind, maps.Clone(access.Settings), maps.Clone(access.Secrets))
	if !res.OK {
		field, reason := res.Field, res.Reason
		if field == "" {
			field = "connection"
		}
		if reason == "" {
			reason = "the connection check failed"
		}
		return access, opts, domain.Invalid("connection-check-failed", field, reason)
	}
	return access, opts, nil
}

// typedAccess reads details typed in, as the RequestRestore command does:
// one database name serves the MongoDB connection and the restore.
func typedAccess(in commands.RestoreTargetInput, opts *domain.RestoreOptions) (targetAccess, error) {
	if in.Kind == "" {
		return targetAccess{}, domain.Invalid("field-required", "target", "choose a target connection or enter the target's details")
	}
	spec, err := domain.SpecOf(in.Kind)
	if err != nil {
		return targetAccess{}, err
	}
	if spec.Role != domain.RoleSource {
		return targetAccess{}, domain.Invalid("wrong-role", "target", "a restore writes to a data source kind (S3 bucket or MongoDB database)")
	}
	settings := maps.Clone(in.Settings)
	if settings == nil {
		settings = map[string]string{}
	}
	secrets := map[string]string{}
	for k, v := range in.Secrets {
		if v != "" {
			secrets[k] = v
		}
	}
	name := in.Name
	switch spec.Service {
	case "mongodb":
		switch {
		case opts.Database == "":
			opts.Database = settings["database"]
		case settings["database"] == "":
			settings["database"] = opts.Database
		}
		if name == "" {
			name = "database " + settings["database"] + " (typed in)"
		}
	case "s3":
		if name == "" {
			name = "s3://" + settings["bucket"] + " (typed in)"
		}
	}
	return targetAccess{Kind: in.Kind, Name: name, Settings: settings, Secrets: secrets}, nil
}

func present(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k, v := range m {
		if v != "" {
			out[k] = true
		}
	}
	return out
}

// sameAsOriginal says whether the restore writes over the very place the
// data came from: the source connection itself, or typed-in details that
// name the same bucket (same endpoint) or database (same hosts), with no
// prefix or the original database.
func (p *RestorePlanner) sameAsOriginal(ctx context.Context, backup *domain.Operation, t targetAccess, opts domain.RestoreOptions) bool {
	r := backup.Result
	switch t.Kind.Service() {
	case "s3":
		if opts.Prefix != "" || t.Settings["bucket"] != r.SourceBucket {
			return false
		}
	case "mongodb":
		if opts.Database != r.Database {
			return false
		}
	default:
		return false
	}
	if t.ConnectionID == backup.Source.ID.String() {
		return true
	}
	src, err := commands.Load(ctx, p.store, commands.ConnectionStream(backup.Source.ID), func() *domain.Connection { return domain.NewConnection(backup.Source.ID) })
	if err != nil || !src.Exists() {
		return true // the same name, and nothing left to tell the servers apart
	}
	orig, err := connectionAccess(p.conns, src)
	if err != nil {
		return true
	}
	if t.Kind.Service() == "s3" {
		return strings.TrimRight(orig.Settings["endpoint"], "/") == strings.TrimRight(t.Settings["endpoint"], "/")
	}
	return mongoHosts(orig.Secrets["uri"]) == mongoHosts(t.Secrets["uri"])
}

// Throughput assumptions of the estimate. A restore does a backup's work
// in reverse (read the archive, gunzip, write each entry), so it is
// assumed to move bytes as fast as the backup did, clamped to a sane range
// (a backup that was paused looks slow); then the verification reads
// everything back once more at that speed. Without the backup's timing,
// defaultRestoreRate applies.
const (
	defaultRestoreRate = 40 << 20 // bytes/s
	minRestoreRate     = 1 << 20
	maxRestoreRate     = 500 << 20
	restoreSetup       = 2 // seconds: connecting, reading the manifest
)

func estimateRestore(r *domain.BackupResult, bytes int64) (int64, string) {
	rate := float64(defaultRestoreRate)
	basis := fmt.Sprintf("assumes %s/s to restore, then as much again to verify", archive.HumanBytes(defaultRestoreRate))
	if d := r.FinishedAt.Sub(r.StartedAt).Seconds(); d >= 1 && r.TotalBytes > 0 {
		rate = math.Min(math.Max(float64(r.TotalBytes)/d, minRestoreRate), maxRestoreRate)
		basis = fmt.Sprintf("at the backup's own speed (%s/s, clamped to 1 MiB/s–500 MiB/s) to restore, then as much again to verify", archive.HumanBytes(int64(rate)))
	}
	return restoreSetup + int64(math.Ceil(2*float64(bytes)/rate)), basis
}
