package mongodb_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"backupd/executors/mongodb"
	"backupd/executors/testsupport/mongotools"
	"backupd/executors/testsupport/peers"
)

func standInTools(t *testing.T) mongodb.Tools {
	t.Helper()
	dump, restore := mongotools.Build(t)
	return mongodb.Tools{Mongodump: dump, Mongorestore: restore}
}

func configFor(peer peers.MongoPeer, db string) mongodb.Config {
	return mongodb.Config{URI: peer.URI, Database: db}
}

// logRecorder keeps what the product logged.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func newRecorder() (*logRecorder, *slog.Logger) {
	r := &logRecorder{}
	return r, slog.New(r)
}

// text is every record as "LEVEL message key=value...".
func (r *logRecorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.records {
		fmt.Fprintf(&b, "%s %s", rec.Level, rec.Message)
		rec.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
		b.WriteString("\n")
	}
	return b.String()
}

func (r *logRecorder) has(level slog.Level, substr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.records {
		if rec.Level == level && strings.Contains(rec.Message, substr) {
			return true
		}
	}
	return false
}

// seedShop fills db: customers (varied types, a unique index), orders,
// an empty collection, and events (n documents).
func seedShop(t *testing.T, c *mongo.Client, db string, customers, events int) {
	t.Helper()
	ctx := context.Background()
	insert := func(coll string, n int, doc func(i int) bson.D) {
		var docs []any
		for i := 0; i < n; i++ {
			docs = append(docs, doc(i))
			if len(docs) == 1000 || i == n-1 {
				_, err := c.Database(db).Collection(coll).InsertMany(ctx, docs)
				require.NoError(t, err)
				docs = docs[:0]
			}
		}
	}
	insert("customers", customers, func(i int) bson.D {
		return bson.D{
			{Key: "_id", Value: primitive.NewObjectID()}, {Key: "name", Value: fmt.Sprintf("Customer %d", i)},
			{Key: "email", Value: fmt.Sprintf("c%d@example.test", i)}, {Key: "vip", Value: i%3 == 0},
			{Key: "score", Value: float64(i) / 8}, {Key: "visits", Value: int32(i)}, {Key: "big", Value: int64(9007199254740993) + int64(i)},
			{Key: "joined", Value: primitive.NewDateTimeFromTime(time.UnixMilli(1700000000000 + int64(i)*1000))},
			{Key: "tags", Value: bson.A{"a", fmt.Sprintf("b%d", i)}}, {Key: "address", Value: bson.D{{Key: "city", Value: "Zürich"}, {Key: "zip", Value: "8000"}}},
			{Key: "avatar", Value: primitive.Binary{Subtype: 0, Data: []byte{byte(i), 0xff, 0, 7}}}, {Key: "note", Value: nil},
		}
	})
	_, err := c.Database(db).Collection("customers").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	insert("orders", 30, func(i int) bson.D {
		return bson.D{{Key: "_id", Value: int32(i)}, {Key: "customer", Value: int32(i % 7)}, {Key: "total", Value: float64(i) * 1.25},
			{Key: "lines", Value: bson.A{bson.D{{Key: "sku", Value: fmt.Sprintf("SKU-%d", i)}, {Key: "qty", Value: int32(1)}}}}}
	})
	require.NoError(t, c.Database(db).CreateCollection(ctx, "empty_collection"))
	insert("events", events, func(i int) bson.D {
		return bson.D{{Key: "_id", Value: fmt.Sprintf("ev-%06d", i)}, {Key: "seq", Value: int64(i)}, {Key: "kind", Value: "click"}}
	})
}

// requireSameDocuments: byte-identical documents, same _ids.
func requireSameDocuments(t *testing.T, want, got map[string]bson.Raw, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for id, doc := range want {
		require.True(t, bytes.Equal(doc, got[id]), "%s: document %s differs:\nwant %s\ngot  %s", what, id, doc, got[id])
	}
}

// processesWith lists running processes with an argument containing substr.
func processesWith(substr string) map[int][]string {
	out := map[int][]string{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(substr)) {
			continue
		}
		out[pid] = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	}
	return out
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndex(s, ")")
	return i < 0 || !strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}

// restoreWithStandIn restores a dump file into target.coll with the
// stand-in mongorestore, independently of the product's Target.
func restoreWithStandIn(t *testing.T, peer peers.MongoPeer, file, fromNS, toNS string) {
	t.Helper()
	_, restore := mongotools.Build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, restore, "--uri="+peer.URI, "--gzip", "--archive="+file, "--nsFrom="+fromNS, "--nsTo="+toNS).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
