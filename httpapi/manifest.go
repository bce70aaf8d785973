package httpapi

import (
	"context"
	"errors"
	"strconv"

	"backupd/executors/archive"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// maxManifestEntries bounds ?entries=: the UI shows the first entries of a
// manifest that may list a million objects, and must not download them all.
const maxManifestEntries = 1000

var errEnoughEntries = errors.New("enough entries")

// manifestPreview is the manifest's header (totals, archive) with its first
// entries only.
type manifestPreview struct {
	archive.ManifestHeader
	Entries          []archive.ManifestEntry `json:"entries"`
	EntriesTruncated bool                    `json:"entries_truncated"`
}

// previewManifest reads the header and the first n entries of a backup's
// manifest, stopping the download there.
func previewManifest(ctx context.Context, planner RestorePlanner, id uuid.UUID, n int) (manifestPreview, error) {
	rc, err := planner.Manifest(ctx, id)
	if err != nil {
		return manifestPreview{}, err
	}
	defer rc.Close()
	var p manifestPreview
	p.Entries = []archive.ManifestEntry{}
	header, err := archive.DecodeManifest(rc, func(e archive.ManifestEntry) error {
		if len(p.Entries) == n {
			p.EntriesTruncated = true
			return errEnoughEntries
		}
		p.Entries = append(p.Entries, e)
		return nil
	})
	if errors.Is(err, errEnoughEntries) {
		// The header fields come before the entries: read them again alone.
		rc2, err := planner.Manifest(ctx, id)
		if err != nil {
			return manifestPreview{}, err
		}
		defer rc2.Close()
		header, err = archive.ReadManifestHeader(rc2)
		if err != nil {
			return manifestPreview{}, err
		}
	} else if err != nil {
		return manifestPreview{}, err
	}
	p.ManifestHeader = header
	return p, nil
}

func manifestEntriesParam(c *fiber.Ctx) (int, bool, error) {
	v := c.Query("entries")
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxManifestEntries {
		return 0, false, invalidField("entries-invalid", "entries", "entries must be a whole number from 0 to 1000")
	}
	return n, true, nil
}
