package s3

import (
	"encoding/json"
	"fmt"
)

const stateVersion = 1

// inlineStashMax is the most bytes a state carries itself (base64 in the
// checkpoint event, well under EventStoreDB's 1 MiB event limit); a bigger
// tail goes to a temporary object.
const inlineStashMax = 256 << 10

// uploadState is an S3 upload's resume state. It stays small whatever the
// archive's size: the parts' ETags and checksums are not in it but listed
// from the server (ListParts) on resume.
type uploadState struct {
	Version   int    `json:"v"`
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	UploadID  string `json:"upload_id"`
	PartSize  int64  `json:"part_size"`  // base part size
	GrowAfter int32  `json:"grow_after"` // part number after which parts grow
	Parts     int32  `json:"parts"`      // parts 1..Parts are durable
	Bytes     int64  `json:"bytes"`      // their total size
	// Stash is the tail written after the last part (less than a part):
	// inline, or in a temporary object named StashKey.
	Stash       []byte `json:"stash,omitempty"`
	StashKey    string `json:"stash_key,omitempty"`
	StashSize   int64  `json:"stash_size,omitempty"`
	StashCRC32C string `json:"stash_crc32c,omitempty"`
}

func parseState(raw json.RawMessage) (uploadState, error) {
	var s uploadState
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("the S3 upload state is unreadable: %w", err)
	}
	switch {
	case s.Version != stateVersion:
		return s, fmt.Errorf("the S3 upload state has version %d, this build reads %d", s.Version, stateVersion)
	case s.Bucket == "" || s.Key == "" || s.UploadID == "":
		return s, fmt.Errorf("the S3 upload state names no bucket, key or upload")
	case s.PartSize < MinPartSize || s.Parts < 0 || s.Bytes < 0 || s.Parts >= MaxParts:
		return s, fmt.Errorf("the S3 upload state is inconsistent (part size %d, %d parts, %d bytes)", s.PartSize, s.Parts, s.Bytes)
	case s.StashKey != "" && len(s.Stash) > 0:
		return s, fmt.Errorf("the S3 upload state has both an inline and a stored stash")
	}
	return s, nil
}
