package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// smtpServer is a minimal SMTP server for the mailer's unit test: it speaks
// enough of RFC 5321 (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT)
// for net/smtp and records what it received.
type smtpServer struct {
	addr     string
	tls      *tls.Config
	startTLS bool

	mu       sync.Mutex
	usedTLS  bool
	auth     string
	from, to string
	data     string
}

func startSMTP(t *testing.T, offerTLS bool) (*smtpServer, *x509.CertPool) {
	t.Helper()
	cert, pool := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	s := &smtpServer{addr: ln.Addr().String(), tls: &tls.Config{Certificates: []tls.Certificate{cert}}, startTLS: offerTLS}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s, pool
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	w := func(line string) { _, _ = io.WriteString(conn, line+"\r\n") }
	w("220 test ESMTP")
	secure := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch {
		case verb == "EHLO":
			if s.startTLS && !secure {
				w("250-test")
				w("250-STARTTLS")
				w("250 AUTH PLAIN")
			} else {
				w("250-test")
				w("250 AUTH PLAIN")
			}
		case verb == "STARTTLS":
			w("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, r, secure = tc, bufio.NewReader(tc), true
			s.mu.Lock()
			s.usedTLS = true
			s.mu.Unlock()
		case verb == "AUTH":
			s.mu.Lock()
			s.auth = strings.TrimPrefix(line, "AUTH PLAIN ")
			s.mu.Unlock()
			w("235 ok")
		case verb == "MAIL":
			s.mu.Lock()
			s.from = line
			s.mu.Unlock()
			w("250 ok")
		case verb == "RCPT":
			s.mu.Lock()
			s.to = line
			s.mu.Unlock()
			w("250 ok")
		case verb == "DATA":
			w("354 go")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			s.mu.Lock()
			s.data = b.String()
			s.mu.Unlock()
			w("250 queued")
		case verb == "QUIT":
			w("221 bye")
			return
		default:
			w("502 unknown")
		}
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestSMTPMailerUpgradesWithSTARTTLSAndAuthenticates(t *testing.T) {
	t.Parallel()
	srv, roots := startSMTP(t, true)
	host, port := splitHostPort(t, srv.addr)
	m := SMTPMailer{Host: host, Port: port, Username: "mailer", Password: "pw-123", From: "backupd <noreply@example.com>",
		TLSConfig: &tls.Config{ServerName: host, RootCAs: roots}}
	body := "Hello Ada,\n\nOpen http://localhost:8080/reset-password?token=abc.def to choose a new password — it expires soon.\n"
	err := m.Send(context.Background(), Message{To: "ada@example.com", Subject: "Reset your password", Text: body})
	require.NoError(t, err)

	srv.mu.Lock()
	defer srv.mu.Unlock()
	require.True(t, srv.usedTLS, "the mailer must upgrade with STARTTLS when offered")
	creds, err := base64.StdEncoding.DecodeString(srv.auth)
	require.NoError(t, err)
	require.Equal(t, "\x00mailer\x00pw-123", string(creds))
	require.Equal(t, "MAIL FROM:<noreply@example.com>", strings.SplitN(srv.from, " BODY", 2)[0])
	require.Equal(t, "RCPT TO:<ada@example.com>", srv.to)

	msg, err := mail.ReadMessage(strings.NewReader(srv.data))
	require.NoError(t, err)
	require.Equal(t, "<ada@example.com>", msg.Header.Get("To"))
	require.Equal(t, "Reset your password", decodeHeader(t, msg.Header.Get("Subject")))
	text, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	require.NoError(t, err)
	require.Equal(t, strings.ReplaceAll(body, "\n", "\r\n"), strings.TrimSuffix(string(text), "\r\n"))
}

func TestSMTPMailerRefusesPlaintextWhenTLSIsRequired(t *testing.T) {
	t.Parallel()
	srv, _ := startSMTP(t, false)
	host, port := splitHostPort(t, srv.addr)
	m := SMTPMailer{Host: host, Port: port, From: "noreply@example.com", RequireTLS: true}
	err := m.Send(context.Background(), Message{To: "ada@example.com", Subject: "s", Text: "t"})
	require.ErrorContains(t, err, "does not offer STARTTLS")
	srv.mu.Lock()
	defer srv.mu.Unlock()
	require.Empty(t, srv.data, "nothing may be sent in plaintext")
}

func TestSMTPMailerRefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	m := SMTPMailer{Host: "127.0.0.1", Port: 1, From: "noreply@example.com"}
	err := m.Send(context.Background(), Message{To: "ada@example.com\r\nBcc: eve@example.com", Subject: "s", Text: "t"})
	require.ErrorContains(t, err, "line breaks")
}

func TestLogMailerWritesTheMessageToTheLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := LogMailer{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	require.NoError(t, m.Send(context.Background(), Message{To: "ada@example.com", Subject: "Reset", Text: "link: http://x/reset-password?token=t1"}))
	require.Contains(t, buf.String(), `"to":"ada@example.com"`)
	require.Contains(t, buf.String(), "reset-password?token=t1")
}

func splitHostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	port, err := net.LookupPort("tcp", p)
	require.NoError(t, err)
	return h, port
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	out, err := new(mime.WordDecoder).DecodeHeader(v)
	require.NoError(t, err)
	return out
}
