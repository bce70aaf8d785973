// Package mongoarchive reads and writes the archive format of mongodump's
// --archive option (after gunzip when --gzip was used), as a stream: neither
// direction ever holds more than one document.
//
// Layout, as the real mongodump writes it (see the fixtures in
// ../shared/fixtures/mongodump):
//
//	magic 0x8199e26d (little-endian int32)
//	header {concurrent_collections int32, version "0.1", server_version, tool_version}
//	one metadata document per collection {db, collection, metadata (Extended JSON), size int32, type}
//	0xffffffff
//	blocks: namespace header {db, collection, EOF false, CRC int64 0}, documents..., 0xffffffff
//	per namespace, last: {db, collection, EOF true, CRC}, 0xffffffff
//
// CRC is the CRC-64/ECMA (hash/crc64, crc64.ECMA) of the namespace's
// document bytes in archive order, stored as a signed int64. Blocks of
// different namespaces may interleave (mongodump dumps collections in
// parallel); a new namespace header is written only when the namespace
// changes.
package mongoarchive

import (
	"errors"
	"fmt"
	"hash/crc64"
)

// MagicNumber starts every archive (little-endian on the wire).
const MagicNumber uint32 = 0x8199e26d

// FormatVersion is the only archive format version there is.
const FormatVersion = "0.1"

const terminator uint32 = 0xffffffff

// MaxDocumentSize bounds a document (and any header document) in an
// archive: MongoDB's 16 MiB user limit plus its 16 KiB internal allowance.
// Anything larger is corruption, not data.
const MaxDocumentSize = 16<<20 + 16<<10

const minDocumentSize = 5 // an empty BSON document

var crcTable = crc64.MakeTable(crc64.ECMA)

// Namespace is a database and a collection.
type Namespace struct {
	Database   string
	Collection string
}

func (n Namespace) String() string { return n.Database + "." + n.Collection }

// Header is the archive's first document.
type Header struct {
	ConcurrentCollections int32
	Version               string
	ServerVersion         string
	ToolVersion           string
}

// CollectionMetadata is one prelude entry.
type CollectionMetadata struct {
	Database   string
	Collection string
	// Metadata is the collection's options, indexes, uuid, collectionName
	// and type in canonical Extended JSON (what mongodump puts in a
	// .metadata.json file). Parse it with ParseMetadata.
	Metadata string
	// Size is what mongodump records as the collection's size (it writes 0).
	Size int64
	Type string
}

// Namespace of the entry.
func (c CollectionMetadata) Namespace() Namespace {
	return Namespace{Database: c.Database, Collection: c.Collection}
}

// Prelude is everything before the first data block.
type Prelude struct {
	Header      Header
	Collections []CollectionMetadata
}

// Has reports whether the prelude lists ns.
func (p Prelude) Has(ns Namespace) bool {
	for _, c := range p.Collections {
		if c.Namespace() == ns {
			return true
		}
	}
	return false
}

// ErrNotArchive is returned when a stream does not start with the magic
// number (for example a gzip stream read without gunzip). The text is the
// one mongorestore prints.
var ErrNotArchive = errors.New("stream or file does not appear to be a mongodump archive")

// ErrCorrupt is wrapped by every error about malformed archive bytes:
// impossible lengths, bad headers, CRC mismatches, truncation.
var ErrCorrupt = errors.New("the mongodump archive is corrupt")

// ErrTruncated (which also wraps ErrCorrupt) means the stream ended before
// every collection was complete.
var ErrTruncated = fmt.Errorf("%w: it ends before every collection is complete", ErrCorrupt)

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, a...))
}
