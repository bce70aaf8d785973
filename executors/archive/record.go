package archive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// A tar record is an entry's header blocks (a PAX extended header when
// needed, then the ustar header), its content, and zero padding up to the
// next 512-byte block. Header bytes are a deterministic function of the
// entry's path and Ref — fixed owner and mode, mtime from ModTime to the
// second, PAX records sorted by archive/tar — so a resumed process can
// regenerate them and skip the part already written.

const tarBlock = 512

// endOfArchive is what ends a tar stream: two zero blocks.
var endOfArchive = make([]byte, 2*tarBlock)

func recordHeader(path, key string, withKey bool, ref Ref) ([]byte, error) {
	mtime := ref.ModTime.UTC().Truncate(time.Second)
	if ref.ModTime.IsZero() {
		mtime = time.Unix(0, 0).UTC()
	}
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     path,
		Size:     ref.Size,
		Mode:     0o644,
		ModTime:  mtime,
	}
	if withKey {
		hdr.PAXRecords = map[string]string{PAXKey: key}
		hdr.Format = tar.FormatPAX
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("writing the tar header of %q: %w", key, err)
	}
	// The header is complete in buf; the writer is dropped without Close so
	// it adds no end blocks.
	return buf.Bytes(), nil
}

// padding is the number of zero bytes after content of the given size.
func padding(size int64) int64 {
	if r := size % tarBlock; r != 0 {
		return tarBlock - r
	}
	return 0
}

func hexSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
