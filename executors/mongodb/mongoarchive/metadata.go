package mongoarchive

import (
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
)

// Metadata is a collection's metadata document (the prelude's JSON).
type Metadata struct {
	Options        bson.D   `bson:"options,omitempty"`
	Indexes        []bson.D `bson:"indexes"`
	UUID           string   `bson:"uuid,omitempty"`
	CollectionName string   `bson:"collectionName"`
	Type           string   `bson:"type,omitempty"`
}

// ParseMetadata decodes a prelude entry's metadata. An empty string (a
// collection dumped without metadata) gives an empty Metadata.
func ParseMetadata(js string) (Metadata, error) {
	var m Metadata
	if js == "" {
		return m, nil
	}
	if err := bson.UnmarshalExtJSON([]byte(js), true, &m); err != nil {
		return m, fmt.Errorf("%w: collection metadata is not Extended JSON: %v", ErrCorrupt, err)
	}
	return m, nil
}

// MarshalMetadata encodes metadata the way mongodump does: canonical
// Extended JSON, without HTML escaping, fields in this order: options (left
// out when empty), indexes, uuid, collectionName, type.
func MarshalMetadata(m Metadata) (string, error) {
	if m.Indexes == nil {
		m.Indexes = []bson.D{} // mongodump writes [] rather than null
	}
	b, err := bson.MarshalExtJSON(m, true, false)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// IndexNames lists the names of the metadata's indexes, in order.
func (m Metadata) IndexNames() []string {
	names := make([]string, 0, len(m.Indexes))
	for _, ix := range m.Indexes {
		for _, e := range ix {
			if e.Key == "name" {
				if s, ok := e.Value.(string); ok {
					names = append(names, s)
				}
			}
		}
	}
	return names
}
