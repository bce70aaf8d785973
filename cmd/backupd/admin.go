package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"backupd/commands"
	"backupd/commands/secrets"
	"backupd/domain"

	"golang.org/x/term"
)

func genkey(w io.Writer, kid string) error {
	_, err := fmt.Fprintln(w, secrets.GenerateKeySpec(kid))
	return err
}

// createAdmin registers an administrator, from flags or interactively.
// There is no public sign-up: this command (or BACKUPD_ADMIN_* at start)
// is how the first administrator comes to be.
func createAdmin(ctx context.Context, cfg Config, logger *slog.Logger, args []string, stdin io.Reader, stdout io.Writer) error {
	fl := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	email := fl.String("email", "", "e-mail address (login)")
	name := fl.String("name", "", "display name")
	pwStdin := fl.Bool("password-stdin", false, "read the password from standard input (one line)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	in := bufio.NewReader(stdin)
	ask := func(prompt string, v *string) error {
		for strings.TrimSpace(*v) == "" {
			fmt.Fprint(stdout, prompt)
			line, err := in.ReadString('\n')
			*v = strings.TrimSpace(line)
			if err != nil && *v == "" {
				return fmt.Errorf("%s: no answer", strings.TrimSuffix(prompt, ": "))
			}
		}
		return nil
	}
	if err := ask("E-mail: ", email); err != nil {
		return err
	}
	if err := ask("Name: ", name); err != nil {
		return err
	}
	var password string
	switch {
	case *pwStdin:
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no password on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	default:
		p, err := readPasswordTwice(stdout)
		if err != nil {
			return err
		}
		password = p
	}
	a, err := open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.close()
	id, err := registerAdmin(ctx, a, *email, *name, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "administrator %s created (id %s); log in at %s/login\n", domain.NormalizeEmail(*email), id, cfg.PublicURL)
	return nil
}

func readPasswordTwice(stdout io.Writer) (string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("no terminal to ask for the password: use --password-stdin")
	}
	fmt.Fprint(stdout, "Password (at least 10 characters): ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(stdout)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stdout, "Password again: ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(stdout)
	if err != nil {
		return "", err
	}
	if string(p1) != string(p2) {
		return "", errors.New("the passwords differ")
	}
	return string(p1), nil
}

func registerAdmin(ctx context.Context, a *app, email, name, password string) (string, error) {
	ctx = commands.WithMeta(ctx, commands.Meta{ActorID: "system:create-admin", ActorName: "create-admin"})
	id, err := a.commands.RegisterUser.Handle(ctx, commands.RegisterUser{Email: email, Name: name, Password: password})
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// ensureAdminFromEnv creates BACKUPD_ADMIN_EMAIL at start when it does not
// exist yet (docker compose installs); an existing one is left alone.
func ensureAdminFromEnv(ctx context.Context, a *app) error {
	if a.cfg.AdminEmail == "" {
		return nil
	}
	_, err := registerAdmin(ctx, a, a.cfg.AdminEmail, a.cfg.AdminName, a.cfg.AdminPassword)
	if errors.Is(err, domain.ErrEmailTaken) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("BACKUPD_ADMIN_EMAIL: %w", err)
	}
	a.logger.Info("created the administrator from BACKUPD_ADMIN_EMAIL", "email", domain.NormalizeEmail(a.cfg.AdminEmail))
	return nil
}
