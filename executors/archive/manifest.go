package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"backupd/domain"
)

// ManifestFormatVersion is the version of the manifest this package writes
// and the newest it reads.
const ManifestFormatVersion = 1

// ManifestEntry is one object or collection in a manifest: index, key,
// path, size, SHA-256, ETag, content type, last modified, user metadata,
// documents.
type ManifestEntry = domain.ArchiveEntry

// ManifestSource names the connection that was backed up.
type ManifestSource struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// ManifestTotals sums the entries.
type ManifestTotals struct {
	Entries   int64  `json:"entries"`
	Bytes     int64  `json:"bytes"`
	Documents *int64 `json:"documents,omitempty"` // MongoDB
}

// ManifestArchive describes the archive file; only the manifest stored
// beside the archive has it (the one inside cannot know its own archive's
// hash).
type ManifestArchive struct {
	Name        string `json:"name"`
	Location    string `json:"location"`
	Size        int64  `json:"size"`   // compressed bytes
	SHA256      string `json:"sha256"` // of the whole .tar.gz, hex
	Compression string `json:"compression"`
}

// ManifestHeader is everything in a manifest but its entries. In the JSON
// the entries come last, so a reader can stop before them.
type ManifestHeader struct {
	FormatVersion int            `json:"format_version"`
	Format        string         `json:"format"` // e.g. "s3-bucket-tar-gz/1"
	Generator     string         `json:"generator"`
	CreatedAt     time.Time      `json:"created_at"`
	OperationID   string         `json:"operation_id"`
	Source        ManifestSource `json:"source"`
	Service       string         `json:"service"` // "s3" or "mongodb"
	Bucket        string         `json:"bucket,omitempty"`
	Database      string         `json:"database,omitempty"`
	ToolVersion   string         `json:"tool_version,omitempty"`
	// PathPrefix is the directory of the entries inside the tar and
	// EntrySuffix ends each entry's name: an entry without a BACKUPD.key
	// record is named PathPrefix + key + EntrySuffix.
	PathPrefix  string           `json:"path_prefix"`
	EntrySuffix string           `json:"entry_suffix,omitempty"`
	Totals      ManifestTotals   `json:"totals"`
	Archive     *ManifestArchive `json:"archive,omitempty"`
}

// manifestOpening is the JSON of the header up to the entries array:
// `{...,"entries":[`. Header fields are compact on one line; entries follow
// one per line.
func manifestOpening(h ManifestHeader) ([]byte, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest header: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte("}"))
	return append(b, []byte(",\"entries\":[\n")...), nil
}

// manifestClosing ends the entries array and the object.
var manifestClosing = []byte("\n]}\n")

// DecodeManifest reads a manifest as a stream: onEntry gets each entry in
// order (nil skips them), so a manifest of a million entries is never held
// in memory.
func DecodeManifest(r io.Reader, onEntry func(ManifestEntry) error) (ManifestHeader, error) {
	return decodeManifest(r, onEntry, false)
}

// ReadManifestHeader reads a manifest up to its entries and stops there,
// which is all the metadata a preflight or the API shows.
func ReadManifestHeader(r io.Reader) (ManifestHeader, error) {
	return decodeManifest(r, nil, true)
}

func decodeManifest(r io.Reader, onEntry func(ManifestEntry) error, stopAtEntries bool) (ManifestHeader, error) {
	var h ManifestHeader
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return h, err
	}
	fields := map[string]json.RawMessage{}
	sawEntries := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return h, manifestSyntax(err)
		}
		name, _ := tok.(string)
		if name != "entries" {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return h, manifestSyntax(err)
			}
			fields[name] = raw
			continue
		}
		sawEntries = true
		if stopAtEntries {
			break
		}
		if err := expectDelim(dec, '['); err != nil {
			return h, err
		}
		for n := 0; dec.More(); n++ {
			var e ManifestEntry
			if err := dec.Decode(&e); err != nil {
				return h, fmt.Errorf("the manifest's entry %d is unreadable: %w", n, err)
			}
			if onEntry != nil {
				if err := onEntry(e); err != nil {
					return h, err
				}
			}
		}
		if err := expectDelim(dec, ']'); err != nil {
			return h, err
		}
	}
	if !stopAtEntries {
		if err := expectDelim(dec, '}'); err != nil {
			return h, err
		}
	}
	all, _ := json.Marshal(fields)
	if err := json.Unmarshal(all, &h); err != nil {
		return h, fmt.Errorf("the manifest's header is unreadable: %w", err)
	}
	if h.FormatVersion < 1 {
		return h, errors.New("this is not a backupd manifest: it has no format_version")
	}
	if h.FormatVersion > ManifestFormatVersion {
		return h, fmt.Errorf("the manifest has format version %d; this program reads up to %d", h.FormatVersion, ManifestFormatVersion)
	}
	if !sawEntries {
		return h, errors.New("the manifest has no entries list")
	}
	return h, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return manifestSyntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("the manifest is not valid: expected %q, found %v", want, tok)
	}
	return nil
}

func manifestSyntax(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the manifest is cut short: %w", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("the manifest is not valid JSON: %w", err)
}
