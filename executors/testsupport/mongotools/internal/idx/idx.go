// Package idx holds an index definition as the tools print it in their
// "index: &idx.IndexDocument{...}" log lines (Go syntax, via %#v).
package idx

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// IndexDocument is one index of a collection's metadata.
type IndexDocument struct {
	Options                 primitive.M
	Key                     primitive.D
	PartialFilterExpression primitive.D
}

// FromMetadata splits a metadata index document into key and options.
func FromMetadata(doc bson.D) *IndexDocument {
	ix := &IndexDocument{Options: primitive.M{}}
	for _, e := range doc {
		switch e.Key {
		case "key":
			if k, ok := e.Value.(bson.D); ok {
				ix.Key = k
			}
		case "partialFilterExpression":
			if k, ok := e.Value.(bson.D); ok {
				ix.PartialFilterExpression = k
			}
		default:
			ix.Options[e.Key] = e.Value
		}
	}
	return ix
}

// Name is the index's name.
func (ix *IndexDocument) Name() string {
	s, _ := ix.Options["name"].(string)
	return s
}
