package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ManifestName is the path of the manifest, the last entry of every archive.
const ManifestName = "backupd-manifest.json"

// maxSegment is the longest file name most file systems accept (NAME_MAX).
const maxSegment = 255

// The rules that turn a key into a path inside the tar, so that plain
// `tar xzf` extracts every entry below the archive's prefix and nowhere
// else. The key is split on "/" and each segment is escaped on its own:
//
//   - "%" becomes "%25", control characters and bytes that are not UTF-8
//     become %XX, so the escaping never collides with a key;
//   - an empty segment (a leading "/", "a//b", a trailing "/") becomes "%",
//     "." becomes "%2E" and ".." becomes "%2E%2E";
//   - a segment longer than 255 bytes keeps its first bytes and ends with
//     "%~" and 16 hex digits of its SHA-256;
//   - a key that is also the directory of a later key ("a" and then "a/b"):
//     "a" stays the file "a" and the later keys go below the directory
//     "a%2F/" ("%2F" is the escaped "/", never produced otherwise). This
//     relies on the listing being sorted byte-wise, as S3 lists; the keys
//     it depends on are Position.Ancestors;
//   - SourceInfo.EntrySuffix (MongoDB: ".archive.gz") ends every path, and
//     the manifest records it (entry_suffix);
//   - with no prefix, a key that would be named like the manifest gets its
//     first character escaped.
//
// The mapping is deterministic and one-to-one. The original key is in the
// manifest and, whenever the path is not simply prefix+key, in the PAX
// record BACKUPD.key, so a restore never decodes paths.

// PAXKey is the PAX record holding an entry's original key when its path is
// not simply the archive's prefix followed by the key.
const PAXKey = "BACKUPD.key"

// namer computes entry paths in listing order.
type namer struct {
	prefix string   // escaped, "" or ending in "/"
	suffix string   // appended to every path (SourceInfo.EntrySuffix)
	stack  []string // keys stored as files, each a string prefix of the next
}

func newNamer(pathPrefix, suffix string, ancestors []string) *namer {
	return &namer{prefix: escapePrefix(pathPrefix), suffix: suffix, stack: append([]string(nil), ancestors...)}
}

// ancestors is the state a checkpoint records (a copy).
func (n *namer) ancestors() []string {
	if len(n.stack) == 0 {
		return nil
	}
	return append([]string(nil), n.stack...)
}

// next returns the path of the key listed after the previous ones, and
// whether it differs from prefix+key (so the key needs its PAX record).
func (n *namer) next(key string) (path string, escaped bool) {
	for len(n.stack) > 0 && !strings.HasPrefix(key, n.stack[len(n.stack)-1]) {
		n.stack = n.stack[:len(n.stack)-1]
	}
	segs := strings.Split(key, "/")
	dirs := make(map[int]bool)
	for _, anc := range n.stack {
		if strings.HasPrefix(key, anc+"/") {
			dirs[strings.Count(anc, "/")] = true
		}
	}
	n.stack = append(n.stack, key)

	var b strings.Builder
	b.WriteString(n.prefix)
	for i, seg := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		suffix := ""
		if i == len(segs)-1 {
			suffix = n.suffix
		}
		b.WriteString(escapeSegment(seg, dirs[i], suffix))
	}
	path = b.String()
	if path == ManifestName {
		path = fmt.Sprintf("%%%02X", path[0]) + path[1:]
	}
	return path, path != n.prefix+key+n.suffix
}

func escapePrefix(prefix string) string {
	var parts []string
	for _, seg := range strings.Split(prefix, "/") {
		if seg != "" {
			parts = append(parts, escapeSegment(seg, false, ""))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "/") + "/"
}

// escapeSegment escapes one segment of a key; asDir marks a segment that is
// a directory of this key but also a key of its own; suffix (the entry
// suffix, on the last segment) is kept when a long segment is cut.
func escapeSegment(seg string, asDir bool, suffix string) string {
	var out string
	switch seg {
	case "":
		out = "%"
	case ".":
		out = "%2E"
	case "..":
		out = "%2E%2E"
	default:
		out = escapeBytes(seg)
	}
	if asDir {
		out += "%2F"
	}
	if len(out)+len(suffix) > maxSegment {
		sum := sha256.Sum256([]byte(out))
		tag := "%~" + hex.EncodeToString(sum[:8])
		out = cutEscaped(out, max(0, maxSegment-len(tag)-len(suffix))) + tag
	}
	return out + suffix
}

func escapeBytes(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '%' || r < 0x20 || r == 0x7f || (r == utf8.RuneError && size == 1) {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '%' || r < 0x20 || r == 0x7f || (r == utf8.RuneError && size == 1) {
			fmt.Fprintf(&b, "%%%02X", s[i])
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// cutEscaped shortens an escaped segment to at most n bytes without
// splitting a rune or a %XX escape.
func cutEscaped(s string, n int) string {
	i := 0
	for i < len(s) {
		size := 1
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			size = 3
		} else if _, rs := utf8.DecodeRuneInString(s[i:]); rs > 1 {
			size = rs
		}
		if i+size > n {
			break
		}
		i += size
	}
	return s[:i]
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
