package archive

import (
	"crypto/sha256"
	"encoding"
	"fmt"
	"hash"
)

// marshalHash captures a running SHA-256 so another process can continue it.
func marshalHash(h hash.Hash) []byte {
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		// crypto/sha256 never fails to marshal; a failure here is a bug.
		panic(fmt.Sprintf("marshaling a sha256 state: %v", err))
	}
	return state
}

// restoreSHA256 continues a SHA-256 from a state marshalHash produced; an
// empty state starts a new one.
func restoreSHA256(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if len(state) == 0 {
		return h, nil
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("the checkpoint's SHA-256 state is unreadable: %w", err)
	}
	return h, nil
}

// HumanBytes writes a byte count the way the operation logs show it:
// "16.0 MiB". Every executor package uses it, so logs read alike.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// describePosition says in words where a backup stands, for the pause log
// line and the paused event. partialDone is the content of the partial
// entry already in the archive.
func describePosition(pos Position, partialDone, entriesTotal, uploaded int64, noun string) string {
	var s string
	if entriesTotal > 0 {
		s = fmt.Sprintf("after %d of %d %s", pos.EntriesDone, entriesTotal, noun)
	} else {
		s = fmt.Sprintf("after %d %s", pos.EntriesDone, noun)
	}
	if p := pos.Partial; p != nil {
		s += fmt.Sprintf(", in %s at %s of %s", p.Ref.Key, HumanBytes(partialDone), HumanBytes(p.Ref.Size))
	}
	return s + fmt.Sprintf("; %s uploaded", HumanBytes(uploaded))
}

func mustSHA256() hash.Hash { return sha256.New() }
