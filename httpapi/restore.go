package httpapi

import (
	"context"
	"io"

	"backupd/commands"
	"backupd/domain"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// RestorePlanner is what the restore endpoints need from the executors.
type RestorePlanner interface {
	// Manifest opens the manifest stored beside a completed backup's
	// archive (JSON), read from the destination without the archive.
	Manifest(ctx context.Context, backupID uuid.UUID) (io.ReadCloser, error)
	// Preflight inspects a restore's target without writing to it; the
	// answer is served as JSON (API.md "Preflight").
	Preflight(ctx context.Context, req commands.RequestRestore) (any, error)
}

type restoreInput struct {
	Target struct {
		ConnectionID *uuid.UUID            `json:"connection_id"`
		Kind         domain.ConnectionKind `json:"kind"`
		Name         string                `json:"name"`
		Settings     map[string]string     `json:"settings"`
		Secrets      map[string]string     `json:"secrets"`
	} `json:"target"`
	Prefix            string `json:"prefix"`
	Database          string `json:"database"`
	Conflict          string `json:"conflict"`
	OverwriteOriginal bool   `json:"overwrite_original"`
}

// restoreRequestOf reads a RestoreRequest body for the backup in the path.
func restoreRequestOf(c *fiber.Ctx) (commands.RequestRestore, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return commands.RequestRestore{}, err
	}
	var in restoreInput
	if err := bindJSON(c, &in); err != nil {
		return commands.RequestRestore{}, err
	}
	if in.Target.ConnectionID == nil && in.Target.Kind == "" {
		return commands.RequestRestore{}, invalidField("field-required", "target", "choose a target connection or enter the target's details")
	}
	return commands.RequestRestore{
		BackupID: id,
		Target: commands.RestoreTargetInput{ConnectionID: in.Target.ConnectionID, Kind: in.Target.Kind, Name: in.Target.Name,
			Settings: in.Target.Settings, Secrets: in.Target.Secrets},
		Options: domain.RestoreOptions{Prefix: in.Prefix, Database: in.Database, Conflict: in.Conflict, OverwriteOriginal: in.OverwriteOriginal},
	}, nil
}

func (s *Server) requestRestore(c *fiber.Ctx) error {
	req, err := restoreRequestOf(c)
	if err != nil {
		return err
	}
	id, err := s.deps.Commands.RequestRestore.Handle(c.UserContext(), req)
	if err != nil {
		return err
	}
	s.waitForWrites(c.UserContext(), commands.OperationStream(id))
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": id})
}

func (s *Server) restorePreflight(c *fiber.Ctx) error {
	if s.deps.Restores == nil {
		return errNotConfigured
	}
	req, err := restoreRequestOf(c)
	if err != nil {
		return err
	}
	pf, err := s.deps.Restores.Preflight(c.UserContext(), req)
	if err != nil {
		return err
	}
	return c.JSON(pf)
}

func (s *Server) operationManifest(c *fiber.Ctx) error {
	if s.deps.Restores == nil {
		return errNotConfigured
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if n, limited, err := manifestEntriesParam(c); err != nil {
		return err
	} else if limited {
		p, err := previewManifest(c.UserContext(), s.deps.Restores, id, n)
		if err != nil {
			return err
		}
		return c.JSON(p)
	}
	rc, err := s.deps.Restores.Manifest(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.SendStream(rc) // fasthttp closes rc once sent
}
