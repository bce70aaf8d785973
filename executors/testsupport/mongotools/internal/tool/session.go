package tool

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.yaml.in/yaml/v3"
)

// VersionString and GitCommit are what a tool built from source without
// release flags reports (and what the fixtures' archives record).
const (
	VersionString = "built-without-version-string"
	GitCommit     = "build-without-git-commit"
)

// printVersion prints --version output to stdout, as the tools do.
func printVersion(tool string) {
	fmt.Printf("%s version: %s\ngit version: %s\nGo version: %s\n   os: %s\n   arch: %s\n   compiler: %s\n",
		tool, VersionString, GitCommit, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.Compiler)
}

// ConnectionOptions are the options every tool shares.
var ConnectionOptions = []Option{
	{Long: "uri", Kind: String, Help: "mongodb uri connection string"},
	{Long: "config", Kind: String, Help: "path to a configuration file (YAML: uri, password)"},
	{Long: "host", Short: 'h', Kind: String, Help: "mongodb host to connect to"},
	{Long: "port", Kind: String, Help: "server port"},
	{Long: "username", Short: 'u', Kind: String, Help: "username for authentication"},
	{Long: "password", Short: 'p', Kind: String, Help: "password for authentication"},
	{Long: "authenticationDatabase", Kind: String, Help: "database that holds the user's credentials"},
	{Long: "db", Short: 'd', Kind: String, Help: "database to use"},
	{Long: "collection", Short: 'c', Kind: String, Help: "collection to use"},
	{Long: "gzip", Kind: Bool, Help: "compress archive or collection output with Gzip"},
	{Long: "archive", Kind: Optional, Default: "-", Help: "archive file (stdout/stdin when no file is given)"},
	{Long: "verbose", Short: 'v', Kind: Repeat, Help: "more detailed log output (-vvv, or --verbose=N)"},
	{Long: "quiet", Kind: Bool, Help: "hide all log output"},
	{Long: "version", Kind: Bool, Help: "print the tool version and exit"},
	{Long: "help", Kind: Bool, Help: "print usage"},
}

// verbosityOf is the log level the options ask for (-1: --quiet).
func verbosityOf(p *Parsed) int {
	if p.Bool("quiet") {
		return -1
	}
	return p.Count("verbose")
}

// configFile is the --config file: YAML with the secrets the tools accept
// there instead of on the command line.
type configFile struct {
	URI               string `yaml:"uri"`
	Password          string `yaml:"password"`
	SSLPEMKeyPassword string `yaml:"sslPEMKeyPassword"`
}

// clientOptions builds the driver options from --uri/--config/--host... as
// the tools do: a single host without replicaSet is a direct connection.
// Errors are command-line errors.
func clientOptions(p *Parsed, appName string) (*options.ClientOptions, error) {
	uri := p.String("uri")
	password := p.String("password")
	if path := p.String("config"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("error opening file with --config: %v", err)
		}
		var cf configFile
		if err := yaml.Unmarshal(b, &cf); err != nil {
			return nil, fmt.Errorf("error parsing config file %s: %v", path, err)
		}
		if cf.URI != "" {
			if uri != "" && uri != cf.URI {
				return nil, fmt.Errorf("the uri in the config file and --uri differ")
			}
			uri = cf.URI
		}
		if cf.Password != "" {
			password = cf.Password
		}
	}
	if uri == "" {
		host := p.String("host")
		if host == "" {
			host = "localhost"
		}
		if port := p.String("port"); port != "" && !strings.Contains(host, ":") {
			host += ":" + port
		} else if !strings.Contains(host, ":") {
			host += ":27017"
		}
		uri = "mongodb://" + host + "/"
	}
	opts := options.Client().ApplyURI(uri).SetAppName(appName)
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("error parsing uri: %v", err)
	}
	user := p.String("username")
	if user != "" || password != "" {
		cred := options.Credential{}
		if opts.Auth != nil {
			cred = *opts.Auth
		}
		if user != "" {
			cred.Username = user
		}
		if password != "" {
			cred.Password, cred.PasswordSet = password, true
		}
		if src := p.String("authenticationDatabase"); src != "" {
			cred.AuthSource = src
		}
		opts.SetAuth(cred)
	}
	if (opts.ReplicaSet == nil || *opts.ReplicaSet == "") && len(opts.Hosts) == 1 && !strings.HasPrefix(uri, "mongodb+srv://") {
		opts.SetDirect(true)
	}
	return opts, nil
}

// Connect connects and pings, as the tools' session provider does; the
// error text is theirs ("could not connect to server: ...").
func Connect(ctx context.Context, opts *options.ClientOptions) (*mongo.Client, error) {
	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("error configuring the connector: %v", err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("could not connect to server: %v", err)
	}
	return client, nil
}

// ServerVersion is buildInfo's version ("unknown" if the server will not say).
func ServerVersion(ctx context.Context, c *mongo.Client) string {
	var info struct {
		Version string `bson:"version"`
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil || info.Version == "" {
		return "unknown"
	}
	return info.Version
}

// Plural is "document"/"documents" after n.
func Plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
