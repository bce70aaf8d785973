// Package web holds the built single-page UI (web/dist), embedded so the
// backupd binary serves it without Node. Rebuild with `make web`.
package web

import "embed"

// Dist is the built UI; its files are under "dist/".
//
//go:embed all:dist
var Dist embed.FS
