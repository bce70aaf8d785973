package mongodb

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"backupd/domain"
)

func TestEffectiveURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"as given", Config{URI: "mongodb://admin:s3cret@h:27017/?authSource=admin"}, "mongodb://admin:s3cret@h:27017/?authSource=admin"},
		{"no path", Config{URI: "mongodb://h"}, "mongodb://h/"},
		{"credentials apart", Config{URI: "mongodb://h1:1,h2:2/?replicaSet=rs", Username: "bob", Password: "p@ss:w/rd?"},
			"mongodb://bob:p%40ss%3Aw%2Frd%3F@h1:1,h2:2/?replicaSet=rs"},
		{"password apart, user in the URI", Config{URI: "mongodb://bob@h/", Password: "x y"}, "mongodb://bob:x%20y@h/"},
		{"auth database apart replaces the URI's", Config{URI: "mongodb://u:p@h/?authSource=admin&tls=true", AuthDatabase: "users"},
			"mongodb://u:p@h/?authSource=users&tls=true"},
		{"path database becomes authSource", Config{URI: "mongodb://u:p@h/shop?tls=false"}, "mongodb://u:p@h/?tls=false&authSource=shop"},
		{"path database with authSource stays out", Config{URI: "mongodb://u:p@h/shop?authSource=admin"}, "mongodb://u:p@h/?authSource=admin"},
		{"srv path database is dropped", Config{URI: "mongodb+srv://u:p@cluster0.example.net/shop"}, "mongodb+srv://u:p@cluster0.example.net/"},
		{"srv", Config{URI: "mongodb+srv://u:p@cluster0.example.net/?retryWrites=true", Password: "new"}, "mongodb+srv://u:new@cluster0.example.net/?retryWrites=true"},
		{"escaped user in URI is kept", Config{URI: "mongodb://a%40b:p%2F@h/"}, "mongodb://a%40b:p%2F@h/"},
	}
	for _, tc := range tests {
		got, err := tc.cfg.EffectiveURI()
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}
}

func TestConfigFromNamesTheWrongField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		settings, secrets map[string]string
		field             string
	}{
		{map[string]string{"database": "shop"}, map[string]string{}, "uri"},
		{map[string]string{"database": "shop"}, map[string]string{"uri": "http://h"}, "uri"},
		{map[string]string{"database": "shop"}, map[string]string{"uri": "mongodb://"}, "uri"},
		{map[string]string{}, map[string]string{"uri": "mongodb://h"}, "database"},
		{map[string]string{"database": "a.b"}, map[string]string{"uri": "mongodb://h"}, "database"},
		{map[string]string{"database": "shop"}, map[string]string{"uri": "mongodb://h", "password": "x"}, "username"},
	}
	for _, tc := range tests {
		_, err := ConfigFrom(tc.settings, tc.secrets)
		var de *domain.Error
		require.ErrorAs(t, err, &de, "%v %v", tc.settings, tc.secrets)
		require.Equal(t, tc.field, de.Field)
	}
	cfg, err := ConfigFrom(map[string]string{"database": " shop ", "username": "bob", "auth_database": "admin"},
		map[string]string{"uri": " mongodb://h:27017 ", "password": "pw"})
	require.NoError(t, err)
	require.Equal(t, Config{URI: "mongodb://h:27017", Database: "shop", Username: "bob", Password: "pw", AuthDatabase: "admin"}, cfg)
}

func TestConfigNeverShowsItsSecrets(t *testing.T) {
	t.Parallel()
	cfg := Config{URI: "mongodb://admin:uriSecret%21@h:1/?authSource=admin", Database: "shop", Username: "bob", Password: "typedSecret"}
	for _, s := range []string{cfg.String(), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg)} {
		require.NotContains(t, s, "Secret")
	}
	uri, err := cfg.EffectiveURI()
	require.NoError(t, err)
	said := "error with " + uri + " and " + cfg.URI + " and typedSecret and uriSecret! and uriSecret%21"
	red := cfg.Redact(said)
	require.NotContains(t, red, "Secret", red)
	require.True(t, strings.HasPrefix(red, "error with xxxxx"))
}
