package peers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// MongoPeer is a MongoDB wire-protocol server (ferretdb) with authentication.
type MongoPeer struct {
	URI string // with credentials and authSource
}

// Mongo returns the shared MongoDB peer.
func Mongo(t testing.TB) MongoPeer {
	t.Helper()
	return MongoPeer{URI: require(t, EnvMongoURI)}
}

// PrivateMongo starts a ferretdb with authentication (admin / s3cret) for
// this test alone.
func PrivateMongo(t testing.TB) (MongoPeer, *Process) {
	t.Helper()
	dir := t.TempDir() + string(filepath.Separator)
	addr := FreePortAddr(t)
	proc := StartProcess(t, regexp.MustCompile(`.`), nil, bin(t, "ferretdb"),
		"--handler=sqlite", "--sqlite-url=file:"+dir, "--state-dir="+dir, "--listen-addr="+addr,
		"--debug-addr=127.0.0.1:0", "--telemetry=disable", "--log-level=warn", "--test-enable-new-auth",
		"--setup-database=admin", "--setup-username=admin", "--setup-password=s3cret")
	p := MongoPeer{URI: fmt.Sprintf("mongodb://admin:s3cret@%s/?authSource=admin", addr)}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := mongo.Connect(ctx, options.Client().ApplyURI(p.URI))
		if err == nil {
			err = c.Ping(ctx, nil)
			_ = c.Disconnect(ctx)
		}
		cancel()
		if err == nil {
			return p, proc
		}
		if time.Now().After(deadline) {
			t.Fatalf("ferretdb did not answer: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Client connects to the peer; it is disconnected at the end of the test.
func (p MongoPeer) Client(t testing.TB) *mongo.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(p.URI))
	if err != nil {
		t.Fatalf("mongo connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// Database returns a database name unique to the test, dropped at the end.
func (p MongoPeer) Database(t testing.TB) string {
	t.Helper()
	name := RandomName("t_")
	c := p.Client(t)
	t.Cleanup(func() {
		if os.Getenv("BACKUPD_KEEP_BUCKETS") != "" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Database(name).Drop(ctx)
	})
	return name
}
