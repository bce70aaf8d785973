package domain

import (
	"fmt"
	"regexp"
	"strings"
)

// ConnectionKind is what a connection connects to and which way data flows.
type ConnectionKind string

const (
	KindS3Source         ConnectionKind = "s3_source"
	KindMongoSource      ConnectionKind = "mongodb_source"
	KindS3Destination    ConnectionKind = "s3_destination"
	KindDriveDestination ConnectionKind = "gdrive_destination"
)

// Role says whether a connection is backed up from or backed up to.
type Role string

const (
	RoleSource      Role = "source"
	RoleDestination Role = "destination"
)

// FieldSpec describes one setting of a connection kind. The API serves these
// specs so forms are built from the same definition the domain validates.
type FieldSpec struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"` // text, secret, bool, select
	Required bool     `json:"required"`
	Help     string   `json:"help,omitempty"`
	Options  []string `json:"options,omitempty"`
	// Managed fields are set by the system (OAuth flow, checks), not typed.
	Managed bool `json:"managed,omitempty"`
}

func (f FieldSpec) Secret() bool { return f.Type == "secret" }

type KindSpec struct {
	Kind    ConnectionKind `json:"kind"`
	Label   string         `json:"label"`
	Role    Role           `json:"role"`
	Service string         `json:"service"` // s3, mongodb, gdrive
	Fields  []FieldSpec    `json:"fields"`
}

var s3Fields = []FieldSpec{
	{Name: "access_key_id", Label: "Access key ID", Type: "text", Required: true},
	{Name: "secret_access_key", Label: "Secret access key", Type: "secret", Required: true},
	{Name: "region", Label: "Region", Type: "text", Required: true, Help: "for example us-east-1"},
	{Name: "bucket", Label: "Bucket", Type: "text", Required: true},
	{Name: "endpoint", Label: "Endpoint URL", Type: "text", Help: "only for S3-compatible services (MinIO, Wasabi, …); empty for AWS"},
	{Name: "path_style", Label: "Path-style addressing", Type: "bool", Help: "needed by most S3-compatible services"},
}

var kindSpecs = []KindSpec{
	{Kind: KindS3Source, Label: "S3 bucket", Role: RoleSource, Service: "s3", Fields: s3Fields},
	{Kind: KindMongoSource, Label: "MongoDB database", Role: RoleSource, Service: "mongodb", Fields: []FieldSpec{
		{Name: "uri", Label: "Connection URI", Type: "secret", Required: true, Help: "mongodb:// or mongodb+srv:// URI; credentials in it are encrypted like any secret"},
		{Name: "database", Label: "Database", Type: "text", Required: true},
		{Name: "username", Label: "Username", Type: "text"},
		{Name: "password", Label: "Password", Type: "secret"},
		{Name: "auth_database", Label: "Authentication database", Type: "text", Help: "defaults to admin"},
	}},
	{Kind: KindS3Destination, Label: "S3 bucket", Role: RoleDestination, Service: "s3", Fields: append(append([]FieldSpec{}, s3Fields...),
		FieldSpec{Name: "prefix", Label: "Key prefix", Type: "text", Help: "archives are stored under this prefix, for example backups/"},
	)},
	{Kind: KindDriveDestination, Label: "Google Drive folder", Role: RoleDestination, Service: "gdrive", Fields: []FieldSpec{
		{Name: "folder_name", Label: "Folder name", Type: "text", Required: true, Help: "created in My Drive when it does not exist"},
		{Name: "folder_id", Label: "Folder ID", Type: "text", Managed: true},
		{Name: "account_email", Label: "Google account", Type: "text", Managed: true},
		{Name: "access_token", Label: "Access token", Type: "secret", Managed: true},
		{Name: "refresh_token", Label: "Refresh token", Type: "secret", Managed: true, Required: true},
		{Name: "token_expiry", Label: "Access token expiry", Type: "text", Managed: true},
	}},
}

// KindSpecs lists every connection kind.
func KindSpecs() []KindSpec { return kindSpecs }

// SpecOf returns the spec of a kind.
func SpecOf(kind ConnectionKind) (KindSpec, error) {
	for _, s := range kindSpecs {
		if s.Kind == kind {
			return s, nil
		}
	}
	return KindSpec{}, Invalid("kind-unknown", "kind", fmt.Sprintf("unknown connection kind %q", kind))
}

func (k ConnectionKind) Role() Role {
	s, _ := SpecOf(k)
	return s.Role
}

func (k ConnectionKind) Service() string {
	s, _ := SpecOf(k)
	return s.Service
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// validateSettings checks required fields and formats. secretsSet says which
// secret fields hold a value (their plaintext never reaches the domain).
func validateSettings(spec KindSpec, settings map[string]string, secretsSet map[string]bool) error {
	for name := range settings {
		f, ok := spec.field(name)
		if !ok {
			return Invalid("field-unknown", name, "unknown setting")
		}
		if f.Secret() {
			return Invalid("secret-in-settings", name, "secret values must be sealed")
		}
	}
	for _, f := range spec.Fields {
		if !f.Required {
			continue
		}
		if f.Secret() && !secretsSet[f.Name] || !f.Secret() && strings.TrimSpace(settings[f.Name]) == "" {
			return Invalid("field-required", f.Name, f.Label+" is required")
		}
	}
	if spec.Service == "s3" {
		if b := settings["bucket"]; !bucketName.MatchString(b) {
			return Invalid("bucket-invalid", "bucket", "a bucket name has 3 to 63 lowercase letters, digits, dots and hyphens")
		}
		if e := settings["endpoint"]; e != "" && !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
			return Invalid("endpoint-invalid", "endpoint", "the endpoint must start with http:// or https://")
		}
		if p := settings["path_style"]; p != "" && p != "true" && p != "false" {
			return Invalid("bool-invalid", "path_style", "must be true or false")
		}
		if p := settings["prefix"]; strings.HasPrefix(p, "/") || strings.Contains(p, "..") {
			return Invalid("prefix-invalid", "prefix", "the prefix may not start with / or contain ..")
		}
	}
	return nil
}

func (s KindSpec) field(name string) (FieldSpec, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return FieldSpec{}, false
}
