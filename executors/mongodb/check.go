package mongodb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"backupd/domain"
)

// checkTimeout bounds a whole connection check.
const checkTimeout = 15 * time.Second

// shownCollections is how many collection names a check lists.
const shownCollections = 10

// Check proves a MongoDB source works: it connects (finding the server
// within 5 seconds), authenticates, pings, lists the database's
// collections, and runs `mongodump --version`. A failure is the reason in
// plain words on the form field it concerns; no reason ever holds a secret.
// A database that does not exist yet is not an error (MongoDB creates
// databases on first write): the details say it has no collections.
func Check(ctx context.Context, cfg Config, tools Tools) domain.Check {
	if err := cfg.Validate(); err != nil {
		return failedCheck(cfg, err)
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	client, err := connect(ctx, cfg, checkReach)
	if err != nil {
		return failedCheck(cfg, err)
	}
	defer client.Disconnect(context.Background())

	details := map[string]string{"database": cfg.Database, "hosts": cfg.Hosts()}
	if v := serverVersion(ctx, client); v != "" {
		details["server_version"] = v
	}
	names, err := collectionNames(ctx, client, cfg.Database)
	if err != nil {
		return domain.Check{Field: "database", Reason: fmt.Sprintf("cannot list the collections of database %s: the server said: %s", cfg.Database, cfg.Redact(err.Error())), Details: details}
	}
	details["collections"] = strconv.Itoa(len(names))
	if len(names) == 0 {
		details["note"] = "the database has no collections"
	} else {
		shown := names[:min(len(names), shownCollections)]
		list := strings.Join(shown, ", ")
		if more := len(names) - len(shown); more > 0 {
			list += fmt.Sprintf(" and %d more", more)
		}
		details["collection_names"] = list
	}

	version, err := ToolVersion(ctx, tools.mongodump(), EnvMongodump)
	if err != nil {
		return domain.Check{Field: "connection", Reason: cfg.Redact(err.Error()), Details: details}
	}
	details["mongodump"] = version
	return domain.Check{OK: true, Details: details}
}

func failedCheck(cfg Config, err error) domain.Check {
	var de *domain.Error
	var ce *ConnectError
	switch {
	case errors.As(err, &de):
		return domain.Check{Field: de.Field, Reason: de.Message}
	case errors.As(err, &ce):
		return domain.Check{Field: ce.Field, Reason: ce.Reason}
	case errors.Is(err, context.DeadlineExceeded):
		return domain.Check{Field: "uri", Reason: fmt.Sprintf("%s did not answer within %d seconds", cfg.Hosts(), int(checkTimeout/time.Second))}
	default:
		return domain.Check{Field: "connection", Reason: cfg.Redact(err.Error())}
	}
}

// collectionNames lists a database's collections, sorted by name as the
// backup visits them. System collections and views are left out: a view
// holds no data of its own (the collections it reads are backed up).
func collectionNames(ctx context.Context, client *mongo.Client, db string) ([]string, error) {
	specs, err := client.Database(db).ListCollectionSpecifications(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range specs {
		if !strings.HasPrefix(s.Name, "system.") && s.Type != "view" {
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func serverVersion(ctx context.Context, client *mongo.Client) string {
	var info struct {
		Version string `bson:"version"`
	}
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return ""
	}
	return info.Version
}
