package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"
)

// Message is a plain-text e-mail.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Mailer sends e-mail (password reset links).
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// LogMailer writes each message to the log instead of sending it, so a
// fresh install without SMTP can still reset a password: the administrator
// reads the link in the service's log. That the reset token appears in the
// log is the point of this mailer (the log line is the e-mail); configure
// SMTP to keep tokens out of the log.
type LogMailer struct {
	Logger *slog.Logger
}

func (m LogMailer) Send(ctx context.Context, msg Message) error {
	l := m.Logger
	if l == nil {
		l = slog.Default()
	}
	l.InfoContext(ctx, "e-mail not sent (no SMTP server configured); its content follows",
		"mailer", "log", "to", msg.To, "subject", msg.Subject, "body", msg.Text)
	return nil
}

// SMTPMailer sends through an SMTP server, upgrading to TLS with STARTTLS
// whenever the server offers it.
type SMTPMailer struct {
	Host     string
	Port     int // default 587
	Username string
	Password string
	From     string
	// RequireTLS refuses to send (and to authenticate) on a server that does
	// not offer STARTTLS.
	RequireTLS bool
	// TLSConfig overrides the TLS settings (tests use their own CA); nil
	// verifies the server's certificate against the system roots.
	TLSConfig *tls.Config
	Timeout   time.Duration // per message; default 30s
}

// Send delivers msg through the server, within Timeout.
func (m SMTPMailer) Send(ctx context.Context, msg Message) error {
	if err := validHeader(msg.To, msg.Subject, m.From); err != nil {
		return err
	}
	to, err := mail.ParseAddress(msg.To)
	if err != nil {
		return fmt.Errorf("smtp: recipient %q: %w", msg.To, err)
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("smtp: sender %q: %w", m.From, err)
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, c, err := m.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	defer c.Close()
	return deliver(c, from, to, msg)
}

// open connects, greets, starts TLS (required when RequireTLS) and
// authenticates. The connection lives until ctx's deadline.
func (m SMTPMailer) open(ctx context.Context) (net.Conn, *smtp.Client, error) {
	port := m.Port
	if port == 0 {
		port = 587
	}
	addr := net.JoinHostPort(m.Host, strconv.Itoa(port))
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("smtp: connect to %s: %w", addr, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	c, err := smtp.NewClient(conn, m.Host)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("smtp: %s: %w", addr, err)
	}
	if err := m.greet(c, addr); err != nil {
		c.Close()
		conn.Close()
		return nil, nil, err
	}
	return conn, c, nil
}

func (m SMTPMailer) greet(c *smtp.Client, addr string) error {
	if err := c.Hello(helloName()); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := m.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{ServerName: m.Host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp: STARTTLS: %w", err)
		}
	} else if m.RequireTLS {
		return fmt.Errorf("smtp: %s does not offer STARTTLS and TLS is required", addr)
	}
	if m.Username != "" {
		// PlainAuth itself refuses to send the password unencrypted except
		// to localhost.
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, m.Host)); err != nil {
			return fmt.Errorf("smtp: authentication as %s: %w", m.Username, err)
		}
	}
	return nil
}

// deliver sends one message on an open session and ends it.
func deliver(c *smtp.Client, from, to *mail.Address, msg Message) error {
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("smtp: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(formatMessage(from, to, msg, time.Now())); err != nil {
		return fmt.Errorf("smtp: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: message refused: %w", err)
	}
	return c.Quit()
}

func validHeader(values ...string) error {
	for _, v := range values {
		if strings.ContainsAny(v, "\r\n") {
			return errors.New("smtp: header values may not contain line breaks")
		}
	}
	return nil
}

// helloName is the EHLO name: this host's name when it is a domain name
// (some servers refuse a bare "localhost").
func helloName() string {
	if h, err := os.Hostname(); err == nil && strings.Contains(h, ".") && validHeader(h) == nil {
		return h
	}
	return "localhost"
}

// formatMessage builds an RFC 5322 message with a quoted-printable UTF-8
// body.
func formatMessage(from, to *mail.Address, msg Message, now time.Time) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	fmt.Fprintf(&b, "From: %s\r\n", from.String())
	fmt.Fprintf(&b, "To: %s\r\n", to.String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", msg.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(msg.Text, "\n", "\r\n")))
	_ = qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}
