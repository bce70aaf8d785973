package mongoarchive

import (
	"fmt"
	"math"

	"go.mongodb.org/mongo-driver/bson"
)

// The archive's own documents are encoded field by field, in mongodump's
// order and with its types, so that a re-encoded archive is byte-identical.

func encodeHeader(h Header) ([]byte, error) {
	return bson.Marshal(bson.D{
		{Key: "concurrent_collections", Value: h.ConcurrentCollections},
		{Key: "version", Value: h.Version},
		{Key: "server_version", Value: h.ServerVersion},
		{Key: "tool_version", Value: h.ToolVersion},
	})
}

func encodeCollectionMetadata(c CollectionMetadata) ([]byte, error) {
	var size any = c.Size // Go's int, as mongodump marshals it: int32 when it fits
	if c.Size >= math.MinInt32 && c.Size <= math.MaxInt32 {
		size = int32(c.Size)
	}
	return bson.Marshal(bson.D{
		{Key: "db", Value: c.Database},
		{Key: "collection", Value: c.Collection},
		{Key: "metadata", Value: c.Metadata},
		{Key: "size", Value: size},
		{Key: "type", Value: c.Type},
	})
}

func encodeNamespaceHeader(ns Namespace, eof bool, crc int64) ([]byte, error) {
	return bson.Marshal(bson.D{
		{Key: "db", Value: ns.Database},
		{Key: "collection", Value: ns.Collection},
		{Key: "EOF", Value: eof},
		{Key: "CRC", Value: crc},
	})
}

func decodeHeader(doc bson.Raw) (Header, error) {
	var h Header
	var err error
	if h.ConcurrentCollections, err = int32Field(doc, "concurrent_collections"); err != nil {
		return h, err
	}
	h.Version, _ = doc.Lookup("version").StringValueOK()
	h.ServerVersion, _ = doc.Lookup("server_version").StringValueOK()
	h.ToolVersion, _ = doc.Lookup("tool_version").StringValueOK()
	return h, nil
}

func decodeCollectionMetadata(doc bson.Raw) (CollectionMetadata, error) {
	var c CollectionMetadata
	var ok bool
	if c.Database, ok = doc.Lookup("db").StringValueOK(); !ok {
		return c, corrupt("a prelude entry has no database name")
	}
	if c.Collection, ok = doc.Lookup("collection").StringValueOK(); !ok {
		return c, corrupt("a prelude entry of database %q has no collection name", c.Database)
	}
	c.Metadata, _ = doc.Lookup("metadata").StringValueOK()
	c.Type, _ = doc.Lookup("type").StringValueOK()
	switch v := doc.Lookup("size"); v.Type {
	case bson.TypeInt32:
		c.Size = int64(v.Int32())
	case bson.TypeInt64:
		c.Size = v.Int64()
	}
	return c, nil
}

type namespaceHeader struct {
	ns  Namespace
	eof bool
	crc int64
}

func decodeNamespaceHeader(doc bson.Raw) (namespaceHeader, error) {
	var h namespaceHeader
	var ok bool
	if h.ns.Database, ok = doc.Lookup("db").StringValueOK(); !ok {
		return h, corrupt("a namespace header has no database name")
	}
	if h.ns.Collection, ok = doc.Lookup("collection").StringValueOK(); !ok {
		return h, corrupt("a namespace header of database %q has no collection name", h.ns.Database)
	}
	h.eof, _ = doc.Lookup("EOF").BooleanOK()
	switch v := doc.Lookup("CRC"); v.Type {
	case bson.TypeInt64:
		h.crc = v.Int64()
	case bson.TypeInt32:
		h.crc = int64(v.Int32())
	}
	return h, nil
}

func int32Field(doc bson.Raw, name string) (int32, error) {
	switch v := doc.Lookup(name); v.Type {
	case bson.TypeInt32:
		return v.Int32(), nil
	case bson.TypeInt64:
		return int32(v.Int64()), nil
	case bson.TypeDouble:
		return int32(v.Double()), nil
	default:
		return 0, corrupt("the archive header has no %s", name)
	}
}

func validateDocument(doc bson.Raw) error {
	if err := doc.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}
