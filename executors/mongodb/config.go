// Package mongodb is everything backupd does with MongoDB: connection
// checks, a database as a backup source (the real mongodump, collection by
// collection, each dump a mongodump --gzip --archive file in the backup's
// tar), and a database as a restore target (the real mongorestore, then a
// document-by-document verification). The tools are run with argument
// lists, never through a shell, and receive the connection string through
// a 0600 --config file, so no secret appears in a process's arguments.
//
// Tests run the stand-in tools of executors/testsupport/mongotools against
// ferretdb.
package mongodb

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"backupd/domain"
)

// Config is what the product needs to reach one database. Build it with
// ConfigFrom from a connection's settings and decrypted secrets.
type Config struct {
	URI      string // mongodb:// or mongodb+srv://, possibly with credentials
	Database string
	// Username, Password and AuthDatabase, when set, override what the URI
	// says (credentials typed apart from the URI).
	Username     string
	Password     string
	AuthDatabase string
}

// ConfigFrom reads the settings and secrets of a mongodb_source connection
// (field names of domain.KindSpecs; uri and password are secrets). A
// missing or malformed field is a *domain.Error naming the field.
func ConfigFrom(settings, secrets map[string]string) (Config, error) {
	c := Config{
		URI:          strings.TrimSpace(secrets["uri"]),
		Database:     strings.TrimSpace(settings["database"]),
		Username:     strings.TrimSpace(settings["username"]),
		Password:     secrets["password"],
		AuthDatabase: strings.TrimSpace(settings["auth_database"]),
	}
	return c, c.Validate()
}

// Validate checks the form of the settings (not that they work).
func (c Config) Validate() error {
	if c.URI == "" {
		return domain.Invalid("field-required", "uri", "Connection URI is required")
	}
	if _, err := c.EffectiveURI(); err != nil {
		return err
	}
	if c.Database == "" {
		return domain.Invalid("field-required", "database", "Database is required")
	}
	if err := validDatabaseName(c.Database); err != "" {
		return domain.Invalid("database-invalid", "database", err)
	}
	return nil
}

func validDatabaseName(name string) string {
	if len(name) > 63 {
		return "a database name has at most 63 characters"
	}
	if strings.ContainsAny(name, "/\\. \"$\x00") {
		return `a database name may not contain / \ . space " $`
	}
	return ""
}

// uriParts is a MongoDB connection string taken apart. The hosts list is
// kept verbatim (it may hold several host:port pairs, which net/url does
// not parse).
type uriParts struct {
	scheme   string // "mongodb" or "mongodb+srv"
	user     string // decoded
	password string // decoded
	hasUser  bool
	hasPass  bool
	hosts    string
	database string // the path, decoded
	query    []string
}

func parseURI(s string) (uriParts, error) {
	var p uriParts
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "mongodb" && scheme != "mongodb+srv") {
		return p, domain.Invalid("uri-invalid", "uri", "the connection URI must start with mongodb:// or mongodb+srv://")
	}
	p.scheme = scheme
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo := authority[:at]
		authority = authority[at+1:]
		user, pass, hasPass := strings.Cut(userinfo, ":")
		var err1, err2 error
		p.user, err1 = url.PathUnescape(user)
		p.password, err2 = url.PathUnescape(pass)
		if err1 != nil || err2 != nil {
			return p, domain.Invalid("uri-invalid", "uri", "the user name or password in the connection URI is not properly percent-encoded")
		}
		p.hasUser, p.hasPass = true, hasPass
	}
	if authority == "" {
		return p, domain.Invalid("uri-invalid", "uri", "the connection URI names no host")
	}
	p.hosts = authority
	path, query, _ := strings.Cut(tail, "?")
	db, err := url.PathUnescape(strings.TrimPrefix(path, "/"))
	if err != nil {
		return p, domain.Invalid("uri-invalid", "uri", "the database in the connection URI is not properly percent-encoded")
	}
	p.database = db
	if query != "" {
		p.query = strings.Split(query, "&")
	}
	return p, nil
}

func (p uriParts) option(name string) (string, bool) {
	for _, kv := range p.query {
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(k, name) {
			val, _ := url.QueryUnescape(v)
			return val, true
		}
	}
	return "", false
}

func (p *uriParts) setOption(name, value string) {
	kv := name + "=" + url.QueryEscape(value)
	for i, q := range p.query {
		if k, _, _ := strings.Cut(q, "="); strings.EqualFold(k, name) {
			p.query[i] = kv
			return
		}
	}
	p.query = append(p.query, kv)
}

func (p uriParts) String() string {
	var b strings.Builder
	b.WriteString(p.scheme + "://")
	if p.hasUser {
		b.WriteString(escapeUserinfo(p.user))
		if p.hasPass {
			b.WriteString(":" + escapeUserinfo(p.password))
		}
		b.WriteString("@")
	}
	b.WriteString(p.hosts + "/")
	if p.database != "" {
		b.WriteString(url.PathEscape(p.database))
	}
	if len(p.query) > 0 {
		b.WriteString("?" + strings.Join(p.query, "&"))
	}
	return b.String()
}

// escapeUserinfo percent-encodes everything but unreserved characters, as
// MongoDB asks of user names and passwords in a URI.
func escapeUserinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// EffectiveURI is the URI the driver and the tools use: the configured URI
// with Username/Password/AuthDatabase put in when given apart. The URI's
// own database path, which the driver only uses as the default
// authentication database, becomes an explicit authSource and is removed,
// so it never conflicts with the tools' --db (with mongodb+srv the path is
// only dropped, leaving the choice to the DNS TXT record). It holds the secrets: never
// log it, never pass it in argv.
func (c Config) EffectiveURI() (string, error) {
	p, err := parseURI(c.URI)
	if err != nil {
		return "", err
	}
	if c.Username != "" {
		p.user, p.hasUser = c.Username, true
	}
	if c.Password != "" {
		if !p.hasUser || p.user == "" {
			return "", domain.Invalid("username-required", "username", "a password needs a username (here or in the URI)")
		}
		p.password, p.hasPass = c.Password, true
	}
	_, hasSource := p.option("authSource")
	switch {
	case c.AuthDatabase != "":
		p.setOption("authSource", c.AuthDatabase)
	case !hasSource && p.database != "" && p.scheme == "mongodb":
		p.setOption("authSource", p.database)
		// With mongodb+srv the DNS TXT record may name the authSource,
		// and it outranks the path: dropping the path keeps its choice.
	}
	p.database = ""
	return p.String(), nil
}

// Hosts is the URI's host list (or SRV name), for messages.
func (c Config) Hosts() string {
	p, err := parseURI(c.URI)
	if err != nil {
		return "the configured host"
	}
	return p.hosts
}

// user is the user name in effect.
func (c Config) user() string {
	if c.Username != "" {
		return c.Username
	}
	p, _ := parseURI(c.URI)
	return p.user
}

// authDatabase is the authentication database in effect.
func (c Config) authDatabase() string {
	uri, err := c.EffectiveURI()
	if err != nil {
		return ""
	}
	p, _ := parseURI(uri)
	src, _ := p.option("authSource")
	return src
}

// passwordInURI reports whether the password in effect comes from the URI.
func (c Config) passwordInURI() bool {
	if c.Password != "" {
		return false
	}
	p, _ := parseURI(c.URI)
	return p.hasPass
}

// secrets are the strings that must never leave the process in clear: the
// passwords (raw and percent-encoded) and the URIs that hold them.
func (c Config) secrets() []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	add(c.URI)
	if uri, err := c.EffectiveURI(); err == nil {
		add(uri)
	}
	for _, pw := range []string{c.Password, c.uriPassword()} {
		if len(pw) >= 3 { // shorter "passwords" would blank ordinary words
			add(pw)
			add(escapeUserinfo(pw))
			add(url.QueryEscape(pw))
		}
	}
	return out
}

func (c Config) uriPassword() string {
	p, _ := parseURI(c.URI)
	return p.password
}

// Redact removes the config's secrets from s (a tool's stderr line, an
// error from the driver).
func (c Config) Redact(s string) string {
	for _, secret := range c.secrets() {
		if secret != "" && strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, "xxxxx")
		}
	}
	return s
}

// String never shows a secret, so a Config that slips into a log line or an
// error leaks nothing.
func (c Config) String() string {
	user := c.user()
	if user == "" {
		return fmt.Sprintf("mongodb database %q at %s", c.Database, c.Hosts())
	}
	return fmt.Sprintf("mongodb database %q at %s (user %s)", c.Database, c.Hosts(), user)
}

// GoString covers %#v.
func (c Config) GoString() string { return c.String() }

// LogValue keeps the secrets out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("hosts", c.Hosts()),
		slog.String("database", c.Database),
		slog.String("user", c.user()),
	)
}
