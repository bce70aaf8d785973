package archive

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"log/slog"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// ExtractParams says what to do with each entry of an archive and what the
// archive must match.
type ExtractParams struct {
	// Manifest (the one stored beside the archive) is optional. With it,
	// the archive's size and SHA-256 and every entry's key, size and
	// SHA-256 are checked, entry by entry as they stream.
	Manifest *Manifest
	// OnEntry gets each entry in archive order. content yields exactly
	// Size bytes; if they differ from the manifest, the Read that would
	// deliver the last of them returns an *ArchiveError instead (and not
	// those bytes), so a streaming upload of it fails rather than
	// completes. Content left unread is read (and checked) after OnEntry
	// returns.
	OnEntry  func(ctx context.Context, e ExtractedEntry, content io.Reader) error
	Logger   *slog.Logger
	Progress func(ExtractProgress) // after each entry; may be nil
}

// ExtractedEntry is an entry as the archive stores it.
type ExtractedEntry struct {
	Index      int64
	Key        string // from the BACKUPD.key record, else the path less the manifest's prefix and suffix, else the path
	Path       string
	Size       int64
	ModTime    time.Time
	PAXRecords map[string]string
	Expected   *ManifestEntry // the manifest's entry (content type, metadata…), when a manifest is given
}

// ExtractProgress is how far Extract has read.
type ExtractProgress struct {
	Entries      int64
	Bytes        int64 // entry content
	ArchiveBytes int64 // compressed bytes read
}

// ExtractResult describes a fully read and checked archive.
type ExtractResult struct {
	Entries       int64
	Bytes         int64
	ArchiveSize   int64
	ArchiveSHA256 string
	// Manifest is the header of the manifest found as the archive's last
	// entry (its entries were checked against the archive's).
	Manifest ManifestHeader
}

// Extract reads an archive as a stream — gunzipping its members, reading
// the tar, hashing the raw bytes — and hands every entry to OnEntry. It
// fails with an *ArchiveError naming the problem (gzip, tar, truncated,
// sha256, size, entry, missing, extra, manifest) and never reports success
// on a damaged or partial archive. Errors reading r are returned as they
// are.
func Extract(ctx context.Context, r io.Reader, p ExtractParams) (ExtractResult, error) {
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.OnEntry == nil {
		p.OnEntry = func(context.Context, ExtractedEntry, io.Reader) error { return nil }
	}
	x := &extractor{p: p, raw: &rawReader{r: r, h: sha256.New()}, listed: sha256.New()}
	if p.Manifest != nil {
		next, stop := iter.Pull2(p.Manifest.Entries())
		defer stop()
		x.expected = next
		x.prefix = p.Manifest.PathPrefix
		x.suffix = p.Manifest.EntrySuffix
	}
	return x.run(ctx)
}

type extractor struct {
	p        ExtractParams
	raw      *rawReader
	prefix   string
	suffix   string
	expected func() (ManifestEntry, error, bool)
	res      ExtractResult
	listed   hash.Hash // digest of (index, path, size, sha) of the entries read
	manifest *ManifestHeader
}

func (x *extractor) run(ctx context.Context) (ExtractResult, error) {
	zr, err := gzip.NewReader(x.raw)
	if err != nil {
		return x.res, classify(err, "")
	}
	gz := &gzipReader{r: zr}
	tr := tar.NewReader(gz)
	for {
		if err := ctx.Err(); err != nil {
			return x.res, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return x.res, classify(err, "")
		}
		if x.manifest != nil {
			return x.res, &ArchiveError{Problem: ProblemExtra, Entry: hdr.Name, Detail: "an entry follows the manifest, which must be the last"}
		}
		if hdr.Typeflag != tar.TypeReg {
			return x.res, &ArchiveError{Problem: ProblemTar, Entry: hdr.Name, Detail: fmt.Sprintf("unexpected entry type %q (backupd archives hold regular files only)", hdr.Typeflag)}
		}
		if hdr.Name == ManifestName {
			if err := x.readManifest(tr); err != nil {
				return x.res, err
			}
			continue
		}
		if err := x.entry(ctx, hdr, tr); err != nil {
			return x.res, err
		}
	}
	if x.manifest == nil {
		return x.res, &ArchiveError{Problem: ProblemTruncated, Detail: "the archive ends without its manifest (it is cut short, or not a backupd archive)"}
	}
	if x.expected != nil {
		if e, err, ok := x.expected(); err != nil {
			return x.res, err
		} else if ok {
			return x.res, &ArchiveError{Problem: ProblemMissing, Entry: e.Key, Detail: fmt.Sprintf("the archive holds %d entries; the manifest lists more, the first missing is entry %d", x.res.Entries, e.Index)}
		}
	}
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return x.res, classify(err, "")
	}
	if _, err := io.Copy(io.Discard, x.raw); err != nil {
		return x.res, classify(err, "")
	}
	x.res.ArchiveSize = x.raw.n
	x.res.ArchiveSHA256 = hex.EncodeToString(x.raw.h.Sum(nil))
	if m := x.p.Manifest; m != nil && m.Archive != nil {
		if m.Archive.Size != x.res.ArchiveSize {
			return x.res, &ArchiveError{Problem: ProblemSize, Detail: fmt.Sprintf("the archive has %d bytes; the manifest says %d", x.res.ArchiveSize, m.Archive.Size)}
		}
		if !strings.EqualFold(m.Archive.SHA256, x.res.ArchiveSHA256) {
			return x.res, &ArchiveError{Problem: ProblemSHA256, Detail: fmt.Sprintf("the archive's SHA-256 is %s; the manifest says %s", x.res.ArchiveSHA256, m.Archive.SHA256)}
		}
	}
	x.p.Logger.Info(fmt.Sprintf("archive read and checked: %d entries, %s, archive SHA-256 %s", x.res.Entries, HumanBytes(x.res.Bytes), x.res.ArchiveSHA256))
	return x.res, nil
}

func (x *extractor) entry(ctx context.Context, hdr *tar.Header, tr *tar.Reader) error {
	e := ExtractedEntry{Index: x.res.Entries, Path: hdr.Name, Size: hdr.Size, ModTime: hdr.ModTime, PAXRecords: hdr.PAXRecords}
	if k, ok := hdr.PAXRecords[PAXKey]; ok {
		e.Key = k
	} else {
		e.Key = strings.TrimSuffix(strings.TrimPrefix(hdr.Name, x.prefix), x.suffix)
	}
	want := ""
	if x.expected != nil {
		exp, err, ok := x.expected()
		if err != nil {
			return err
		}
		if !ok {
			return &ArchiveError{Problem: ProblemExtra, Entry: e.Key, Detail: fmt.Sprintf("archive entry %d is not in the manifest", e.Index)}
		}
		if exp.Key != e.Key || exp.Path != e.Path || exp.Index != e.Index {
			return &ArchiveError{Problem: ProblemEntry, Entry: e.Key, Detail: fmt.Sprintf("archive entry %d is %q but the manifest lists %q there", e.Index, e.Key, exp.Key)}
		}
		if exp.Size != e.Size {
			return &ArchiveError{Problem: ProblemEntry, Entry: e.Key, Detail: fmt.Sprintf("the archive stores %d bytes; the manifest says %d", e.Size, exp.Size)}
		}
		e.Expected = &exp
		want = strings.ToLower(exp.SHA256)
	}
	content := &verifyingReader{r: tr, h: sha256.New(), size: e.Size, want: want, key: e.Key}
	if err := x.p.OnEntry(ctx, e, content); err != nil {
		return fmt.Errorf("restoring %q: %w", e.Key, err)
	}
	if _, err := io.Copy(io.Discard, content); err != nil {
		return err
	}
	if content.err != nil { // OnEntry read it all and ignored the error
		return content.err
	}
	fmt.Fprintf(x.listed, "%d\x00%s\x00%d\x00%s\n", e.Index, e.Path, e.Size, content.sum)
	x.res.Entries++
	x.res.Bytes += e.Size
	if x.p.Progress != nil {
		x.p.Progress(ExtractProgress{Entries: x.res.Entries, Bytes: x.res.Bytes, ArchiveBytes: x.raw.n})
	}
	return nil
}

// readManifest checks the manifest inside the archive against the entries
// read: same count, bytes, paths, sizes and SHA-256s.
func (x *extractor) readManifest(tr *tar.Reader) error {
	inside := sha256.New()
	var n int64
	hdr, err := DecodeManifest(&errTagReader{r: tr}, func(e ManifestEntry) error {
		fmt.Fprintf(inside, "%d\x00%s\x00%d\x00%s\n", e.Index, e.Path, e.Size, strings.ToLower(e.SHA256))
		n++
		return nil
	})
	if err != nil {
		var tagged *taggedErr
		if errors.As(err, &tagged) {
			return classify(tagged.err, ManifestName)
		}
		return &ArchiveError{Problem: ProblemManifest, Detail: "the manifest inside the archive is unreadable", Err: err}
	}
	if n != x.res.Entries || hdr.Totals.Entries != x.res.Entries || hdr.Totals.Bytes != x.res.Bytes {
		return &ArchiveError{Problem: ProblemManifest, Detail: fmt.Sprintf("the manifest inside lists %d entries (%d bytes); the archive holds %d (%d bytes)", hdr.Totals.Entries, hdr.Totals.Bytes, x.res.Entries, x.res.Bytes)}
	}
	if !bytesEqual(inside.Sum(nil), x.listed.Sum(nil)) {
		return &ArchiveError{Problem: ProblemManifest, Detail: "the entries differ from the manifest inside the archive (path, size or SHA-256)"}
	}
	x.manifest = &hdr
	x.res.Manifest = hdr
	return nil
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// verifyingReader hashes an entry's content as it is read and, when the
// last byte arrives, compares it with the manifest.
type verifyingReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	size int64
	want string
	key  string
	sum  string
	err  error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.sum != "" {
		return 0, io.EOF
	}
	if int64(len(p)) > v.size-v.n {
		p = p[:v.size-v.n]
	}
	var n int
	var err error
	if len(p) > 0 {
		n, err = v.r.Read(p)
		v.h.Write(p[:n])
		v.n += int64(n)
	}
	if err != nil && err != io.EOF {
		v.err = classify(err, v.key)
		return n, v.err
	}
	if v.n < v.size {
		if err == io.EOF {
			v.err = &ArchiveError{Problem: ProblemTruncated, Entry: v.key, Detail: "the entry's content ends early"}
			return n, v.err
		}
		return n, nil
	}
	v.sum = hex.EncodeToString(v.h.Sum(nil))
	if v.want != "" && v.sum != v.want {
		// The last bytes are withheld: a reader that stops at Size (a
		// content-length upload) never sees a complete, wrong object.
		v.err = &ArchiveError{Problem: ProblemEntrySHA256, Entry: v.key, Detail: fmt.Sprintf("the content's SHA-256 is %s; the manifest says %s", v.sum, v.want)}
		return 0, v.err
	}
	if n > 0 {
		return n, nil
	}
	return 0, io.EOF
}

// rawReader hashes and counts the archive's bytes as they are read; its
// own read errors are marked so they are not taken for damage.
type rawReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (r *rawReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.h.Write(p[:n])
	r.n += int64(n)
	if err != nil && err != io.EOF {
		err = &readFault{err}
	}
	return n, err
}

type readFault struct{ err error }

func (f *readFault) Error() string { return "reading the archive: " + f.err.Error() }
func (f *readFault) Unwrap() error { return f.err }

// gzipReader marks errors of the gzip layer.
type gzipReader struct{ r io.Reader }

func (g *gzipReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		var rf *readFault
		if !errors.As(err, &rf) {
			err = &gzipFault{err}
		}
	}
	return n, err
}

type gzipFault struct{ err error }

func (f *gzipFault) Error() string { return f.err.Error() }
func (f *gzipFault) Unwrap() error { return f.err }

// errTagReader keeps read errors apart from JSON errors while decoding the
// inner manifest.
type errTagReader struct{ r io.Reader }

func (t *errTagReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		err = &taggedErr{err}
	}
	return n, err
}

type taggedErr struct{ err error }

func (t *taggedErr) Error() string { return t.err.Error() }
func (t *taggedErr) Unwrap() error { return t.err }

// classify names what an error says about the archive.
func classify(err error, entry string) error {
	var ae *ArchiveError
	if errors.As(err, &ae) {
		return err
	}
	var rf *readFault
	if errors.As(err, &rf) {
		return rf
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &ArchiveError{Problem: ProblemTruncated, Entry: entry, Detail: "the archive ends in the middle of its data", Err: err}
	}
	var gf *gzipFault
	if errors.As(err, &gf) {
		return &ArchiveError{Problem: ProblemGzip, Entry: entry, Detail: "the compressed data is damaged", Err: gf.err}
	}
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) {
		return &ArchiveError{Problem: ProblemGzip, Entry: entry, Detail: "the compressed data is damaged", Err: err}
	}
	return &ArchiveError{Problem: ProblemTar, Entry: entry, Detail: "the tar structure is damaged", Err: err}
}
