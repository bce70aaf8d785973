package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
)

// peers are the bench's own servers: nothing is shared with other runs.
type peers struct {
	dir    string
	esdb   string // esdb://...
	s3     s3Peer
	drive  string // http://127.0.0.1:PORT
	pgURL  string // the bench's fresh database
	pgName string
	pgRoot string // the server's admin URL, to drop the database
	procs  map[string]*child
}

type s3Peer struct {
	Endpoint, AccessKey, SecretKey, Region string
}

func (p s3Peer) client() *s3.Client {
	return s3.New(s3.Options{
		Region:           p.Region,
		BaseEndpoint:     aws.String(p.Endpoint),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(p.AccessKey, p.SecretKey, ""),
		RetryMaxAttempts: 5,
	})
}

var (
	esdbReady  = regexp.MustCompile(`esdb-emulator listening on (\S+)`)
	driveReady = regexp.MustCompile(`drive-emulator listening on (\S+)`)
)

// startPeers starts esdb-emulator, versitygw and drive-emulator from
// sharedBin on free loopback ports, with data under dir, and creates a
// fresh Postgres database on pgRoot's server.
func startPeers(ctx context.Context, dir, sharedBin, pgRoot string) (*peers, error) {
	p := &peers{dir: dir, procs: map[string]*child{}, pgRoot: pgRoot}
	for _, d := range []string{"esdb", "s3", "drive", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	logs := filepath.Join(dir, "logs")
	ok := false
	defer func() {
		if !ok {
			p.stop()
		}
	}()

	esdb, err := startChild("esdb-emulator", logs, nil, filepath.Join(sharedBin, "esdb-emulator"),
		"--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "esdb"), "--quiet")
	if err != nil {
		return nil, err
	}
	p.procs["esdb"] = esdb
	addr, err := esdb.waitLog(esdbReady, 30*time.Second)
	if err != nil {
		return nil, err
	}
	p.esdb = "esdb://" + addr + "?tls=false"

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p.s3 = s3Peer{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), AccessKey: "testkey", SecretKey: "testsecret123", Region: "us-east-1"}
	vgw, err := startChild("versitygw", logs, []string{"ROOT_ACCESS_KEY=" + p.s3.AccessKey, "ROOT_SECRET_KEY=" + p.s3.SecretKey},
		filepath.Join(sharedBin, "versitygw"), "--port", fmt.Sprintf("127.0.0.1:%d", port), "posix", filepath.Join(dir, "s3"))
	if err != nil {
		return nil, err
	}
	p.procs["versitygw"] = vgw
	client := p.s3.client()
	if err := waitHTTP(ctx, func(ctx context.Context) error {
		_, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
		return err
	}, 30*time.Second); err != nil {
		return nil, fmt.Errorf("versitygw did not answer: %w\n%s", err, vgw.tail(20))
	}

	drive, err := startChild("drive-emulator", logs, nil, filepath.Join(sharedBin, "drive-emulator"),
		"--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "drive"), "--client-id", driveClientID, "--client-secret", driveClientSecret)
	if err != nil {
		return nil, err
	}
	p.procs["drive"] = drive
	if p.drive, err = drive.waitLog(driveReady, 30*time.Second); err != nil {
		return nil, err
	}

	if err := p.createDatabase(ctx); err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

const (
	driveClientID     = "bench-client"
	driveClientSecret = "bench-secret"
)

func (p *peers) createDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.pgRoot)
	if err != nil {
		return fmt.Errorf("postgres %s: %w", redactURL(p.pgRoot), err)
	}
	defer conn.Close(ctx)
	p.pgName = "backupd_bench_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{p.pgName}.Sanitize()); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(p.pgRoot)
	if err != nil {
		return err
	}
	u.Path = "/" + p.pgName
	p.pgURL = u.String()
	return nil
}

func (p *peers) dropDatabase() {
	if p.pgName == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.pgRoot)
	if err != nil {
		fmt.Fprintf(os.Stderr, "drop database %s: %v\n", p.pgName, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{p.pgName}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "drop database %s: %v\n", p.pgName, err)
	}
	p.pgName = ""
}

func (p *peers) stop() {
	for _, c := range p.procs {
		c.stop(10 * time.Second)
	}
	p.dropDatabase()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
