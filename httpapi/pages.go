package httpapi

import (
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// uiFiles is the built single-page app.
type uiFiles struct {
	files fs.FS // nil: placeholder mode
	index []byte
}

const placeholderIndex = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>backupd</title></head>
<body><h1>backupd</h1><p>The web UI is not built into this binary. Run <code>make web</code>
and rebuild, or use the JSON API under <code>/api</code>.</p></body></html>
`

func newUIFiles(files fs.FS) (*uiFiles, error) {
	if files == nil {
		return &uiFiles{index: []byte(placeholderIndex)}, nil
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		return nil, fmt.Errorf("httpapi: the UI has no index.html (pass the dist folder, e.g. fs.Sub(web.Dist, \"dist\")): %w", err)
	}
	return &uiFiles{files: files, index: index}, nil
}

// asset returns the built file at urlPath, if there is one.
func (u *uiFiles) asset(urlPath string) ([]byte, string, bool) {
	if u.files == nil {
		return nil, "", false
	}
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if name == "" || name == "index.html" || !fs.ValidPath(name) {
		return nil, "", false
	}
	b, err := fs.ReadFile(u.files, name)
	if err != nil {
		return nil, "", false // missing, or a directory
	}
	return b, name, true
}

// serveUI serves built files (public: they hold no data) and, for any other
// GET, the app's index.html so client-side routes work on reload. Pages
// other than the public ones need a session, checked here on the server:
// without one the browser is sent to the login page.
func (s *Server) serveUI(c *fiber.Ctx) error {
	p := c.Path()
	if isAPIPath(p) {
		return errNotFound
	}
	if b, name, ok := s.ui.asset(p); ok {
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			c.Set(fiber.HeaderContentType, ct)
		} else {
			c.Set(fiber.HeaderContentType, fiber.MIMEOctetStream)
		}
		if strings.HasPrefix(name, "assets/") {
			// Vite puts a content hash in these names.
			c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Set(fiber.HeaderCacheControl, "no-cache")
		}
		return c.Send(b)
	}
	if strings.Contains(path.Base(p), ".") {
		// Looks like a file (favicon.png, a stale asset): a real 404, not
		// the index page.
		return c.Status(fiber.StatusNotFound).SendString("not found")
	}
	if !isPublicPage(p) {
		st, err := s.currentSession(c)
		if err != nil {
			return err
		}
		if st.sess == nil {
			return c.Redirect(loginRedirect(c, st.expired), fiber.StatusFound)
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(s.ui.index)
}
