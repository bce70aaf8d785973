package mongodb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/mongo/driver/topology"

	"backupd/domain"
)

// A connection check finds the server within checkReach (the plain-words
// message promises it); backups and restores are more patient, as the
// tools are (the driver's default).
const (
	checkReach = 5 * time.Second
	workReach  = 30 * time.Second
)

// connect opens a client and proves it with a ping (which authenticates),
// giving up on finding the server after reach.
func connect(ctx context.Context, cfg Config, reach time.Duration) (*mongo.Client, error) {
	uri, err := cfg.EffectiveURI()
	if err != nil {
		return nil, err
	}
	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(reach).
		SetConnectTimeout(reach).
		SetAppName("backupd")
	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		return nil, describeConnectError(cfg, err, reach)
	}
	pingCtx, cancel := context.WithTimeout(ctx, reach+time.Second)
	defer cancel()
	if err := client.Ping(pingCtx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, describeConnectError(cfg, err, reach)
	}
	return client, nil
}

// ConnectError is a failure to connect, in plain words, on the form field it
// concerns ("uri", "password", "username"...).
type ConnectError struct {
	Field  string
	Reason string
	Err    error // the driver's error (may hold host names, never secrets)
}

func (e *ConnectError) Error() string { return e.Reason }
func (e *ConnectError) Unwrap() error { return e.Err }

// describeConnectError turns the driver's error into a plain reason on the
// right field. Secrets are removed from anything the driver said.
func describeConnectError(cfg Config, err error, reach time.Duration) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	said := cfg.Redact(err.Error())
	clean := errors.New(said)
	switch {
	case isAuthError(err):
		field := "uri"
		if !cfg.passwordInURI() {
			field = "password"
		}
		return &ConnectError{Field: field, Err: clean, Reason: fmt.Sprintf(
			"authentication failed for user %q (authentication database %q): check the user name and password; the server said: %s",
			cfg.user(), orDefault(cfg.authDatabase(), "admin"), authReason(said))}
	case isUnreachable(err):
		return &ConnectError{Field: "uri", Err: clean, Reason: fmt.Sprintf(
			"cannot reach %s within %d seconds: %s", cfg.Hosts(), int(reach/time.Second), unreachableReason(said))}
	case strings.Contains(said, "error parsing uri"), strings.Contains(said, "scheme must be"):
		return &ConnectError{Field: "uri", Err: clean, Reason: "the connection URI is not valid: " + strings.TrimPrefix(said, "error parsing uri: ")}
	default:
		return &ConnectError{Field: "uri", Err: clean, Reason: "cannot connect to " + cfg.Hosts() + ": " + said}
	}
}

func isAuthError(err error) bool {
	var ce mongo.CommandError
	if errors.As(err, &ce) && (ce.Code == 18 || ce.Name == "AuthenticationFailed") {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "auth error") || strings.Contains(s, "AuthenticationFailed") || strings.Contains(s, "Authentication failed")
}

func isUnreachable(err error) bool {
	var sse topology.ServerSelectionError
	if errors.As(err, &sse) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "server selection") || strings.Contains(s, "connection refused") || strings.Contains(s, "no such host") || strings.Contains(s, "i/o timeout")
}

// authReason is the server's own words: "(AuthenticationFailed) Authentication failed."
func authReason(said string) string {
	if i := strings.LastIndex(said, "("); i >= 0 && strings.Contains(said[i:], ")") {
		return strings.TrimSpace(said[i:])
	}
	return said
}

// unreachableReason keeps the last network error of a server selection
// error ("dial tcp 127.0.0.1:1: connect: connection refused").
func unreachableReason(said string) string {
	if i := strings.LastIndex(said, "Last error: "); i >= 0 {
		r := said[i+len("Last error: "):]
		if j := strings.Index(r, " }"); j >= 0 {
			r = r[:j]
		}
		// "dial tcp 127.0.0.1:1: connect: connection refused" -> "connection refused"
		if j := strings.LastIndex(r, ": "); j >= 0 {
			r = r[j+2:]
		}
		return strings.TrimSpace(r)
	}
	if strings.Contains(said, "context deadline exceeded") || strings.Contains(said, "server selection timeout") {
		return "no answer"
	}
	return said
}
