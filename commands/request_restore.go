package commands

import (
	"context"
	"maps"

	"backupd/domain"

	"github.com/google/uuid"
)

// RestoreTargetInput is where a restore writes: an existing connection
// (ConnectionID), or details typed in (Kind, Settings, Secrets in
// plaintext), which are proven by connecting and sealed like any credential.
type RestoreTargetInput struct {
	ConnectionID *uuid.UUID
	Kind         domain.ConnectionKind
	Name         string // optional label for typed details
	Settings     map[string]string
	Secrets      map[string]string
}

// RequestRestore asks for a restore of a completed backup.
type RequestRestore struct {
	BackupID uuid.UUID
	Target   RestoreTargetInput
	Options  domain.RestoreOptions
}

type requestRestoreHandler struct{ *service }

var errBackupNotFound = domain.NotFound("backup-not-found", "backup not found")

// Handle validates the request (the domain decides first, on a dry run),
// proves typed details by connecting, reserves the connection holding the
// archive and the target connection, and creates the pending restore. For a
// MongoDB target without Options.Database, the target's own database is
// used.
func (h requestRestoreHandler) Handle(ctx context.Context, cmd RequestRestore) (uuid.UUID, error) {
	backup, err := h.loadOperation(ctx, cmd.BackupID)
	if err != nil {
		return uuid.Nil, err
	}
	if !backup.Exists() || backup.Kind != domain.OpBackup {
		return uuid.Nil, errBackupNotFound
	}
	if _, err := h.loadForSlot(ctx, backup.Destination.ID, slotArchive); err != nil {
		return uuid.Nil, err
	}
	opts := cmd.Options
	target, plain, err := h.resolveTarget(ctx, cmd.Target, &opts)
	if err != nil {
		return uuid.Nil, err
	}

	opID := uuid.New()
	now := h.now()
	// The domain's verdict on kinds, options and the overwrite confirmation,
	// before spending time connecting or writing anything.
	if err := domain.NewOperation(opID).RequestRestore(backup, target, opts, now); err != nil {
		return uuid.Nil, err
	}
	if target.ConnectionID == nil {
		if err := h.proveTypedTarget(ctx, &target, plain); err != nil {
			return uuid.Nil, err
		}
	}

	archiveID := backup.Destination.ID
	if _, err := h.attach(ctx, archiveID, opID, slotArchive, now); err != nil {
		return uuid.Nil, err
	}
	attached := []uuid.UUID{archiveID}
	if target.ConnectionID != nil {
		if _, err := h.attach(ctx, *target.ConnectionID, opID, slotTarget, now); err != nil {
			h.releaseAfterFailure(ctx, opID, attached...)
			return uuid.Nil, err
		}
		attached = append(attached, *target.ConnectionID)
	}
	err = h.createOperation(ctx, opID, func(o *domain.Operation) error {
		return o.RequestRestore(backup, target, opts, now)
	})
	if err != nil {
		h.releaseAfterFailure(ctx, opID, attached...)
		return uuid.Nil, err
	}
	return opID, nil
}

// resolveTarget is the restore's target: a chosen connection (whose
// database a MongoDB restore defaults to), or typed details with their
// secrets in plaintext.
func (h requestRestoreHandler) resolveTarget(ctx context.Context, in RestoreTargetInput, opts *domain.RestoreOptions) (domain.RestoreTarget, map[string]string, error) {
	id := in.ConnectionID
	if id == nil {
		return typedTarget(in, opts)
	}
	c, err := h.loadForSlot(ctx, *id, slotTarget)
	if err != nil {
		return domain.RestoreTarget{}, nil, err
	}
	if c.Kind.Service() == "mongodb" && opts.Database == "" {
		opts.Database = c.Settings["database"]
	}
	return domain.RestoreTarget{ConnectionID: id, Kind: c.Kind, Name: c.Name}, nil, nil
}

// proveTypedTarget checks typed details by connecting with them, keeps
// what the check learned and seals the secrets into target.
func (h requestRestoreHandler) proveTypedTarget(ctx context.Context, target *domain.RestoreTarget, plain map[string]string) error {
	if err := domain.ValidateConnectionInput(target.Kind, target.Name, target.Settings, presence(plain)); err != nil {
		return err
	}
	res := h.check(ctx, target.Kind, target.Settings, plain)
	if !res.OK {
		return checkFailed(res.Check)
	}
	target.Settings = learned(target.Settings, res)
	var err error
	target.Secrets, err = h.keyring.SealMap(overlay(plain, res.Secrets))
	return err
}

// typedTarget turns typed details into a target (secrets still plaintext).
func typedTarget(in RestoreTargetInput, opts *domain.RestoreOptions) (domain.RestoreTarget, map[string]string, error) {
	if in.Kind == "" {
		return domain.RestoreTarget{}, nil, domain.Invalid("field-required", "target", "choose a target connection or enter the target's details")
	}
	spec, err := domain.SpecOf(in.Kind)
	if err != nil {
		return domain.RestoreTarget{}, nil, err
	}
	if spec.Role != domain.RoleSource {
		return domain.RestoreTarget{}, nil, domain.Invalid("wrong-role", "target", "a restore writes to a data source kind (S3 bucket or MongoDB database)")
	}
	plain := nonEmpty(in.Secrets)
	if err := validateSecretNames(in.Kind, plain); err != nil {
		return domain.RestoreTarget{}, nil, err
	}
	settings := maps.Clone(in.Settings)
	if settings == nil {
		settings = map[string]string{}
	}
	if spec.Service == "mongodb" {
		// One database name serves both: the connection's and the target's.
		switch {
		case opts.Database == "":
			opts.Database = settings["database"]
		case settings["database"] == "":
			settings["database"] = opts.Database
		}
	}
	name := in.Name
	if name == "" {
		switch spec.Service {
		case "s3":
			name = "s3://" + settings["bucket"] + " (typed in)"
		case "mongodb":
			name = "database " + settings["database"] + " (typed in)"
		}
	}
	return domain.RestoreTarget{Kind: in.Kind, Name: name, Settings: settings}, plain, nil
}

// checkFailed is a failed check as the domain reports it on Create/Update:
// the service's reason on the field it concerns.
func checkFailed(c domain.Check) error {
	field, reason := c.Field, c.Reason
	if field == "" {
		field = "connection"
	}
	if reason == "" {
		reason = "the connection check failed"
	}
	return domain.Invalid("connection-check-failed", field, reason)
}
