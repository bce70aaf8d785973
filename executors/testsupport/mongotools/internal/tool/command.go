package tool

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.mongodb.org/mongo-driver/mongo/options"
)

// CommandLine is a tool's command line once read: the options, the log
// they ask for, and how to connect.
type CommandLine struct {
	Options *Parsed
	Log     *Logger
	Client  *options.ClientOptions
}

// ReadCommandLine reads args the way the tool called name does: a bad
// option or positional argument (judged by positional) is logged with the
// short usage, --help prints the usage (synopsis and specs), --version the
// version. When any of these ends the tool, done is true and code is its
// exit code.
func ReadCommandLine(name, synopsis string, specs []Option, args []string, positional func([]string) error) (cl CommandLine, code int, done bool) {
	p, rest, err := parse(specs, args)
	if err == nil && len(rest) > 0 {
		err = positional(rest)
	}
	if err != nil {
		return cl, badCommandLine(newLogger(os.Stderr, 0), name, err), true
	}
	if p.Bool("help") {
		fmt.Print(usage(name, synopsis, specs))
		return cl, 0, true
	}
	if p.Bool("version") {
		printVersion(name)
		return cl, 0, true
	}
	log := newLogger(os.Stderr, verbosityOf(p))
	clientOpts, err := clientOptions(p, name)
	if err != nil {
		return cl, badCommandLine(log, name, err), true
	}
	return CommandLine{Options: p, Log: log, Client: clientOpts}, 0, false
}

func badCommandLine(log *Logger, name string, err error) int {
	log.Logf(Always, "error parsing command line options: %s", err)
	log.Log(Always, shortUsage(name))
	return 1
}

// Interruptible cancels the context on SIGINT/SIGTERM, logging as the tools
// do; a second signal ends the process at once.
func Interruptible(log *Logger) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		log.Logf(Always, "signal '%s' received; attempting to shut down", s)
		cancel()
		s = <-sig
		log.Logf(Always, "signal '%s' received; forcefully terminating", s)
		os.Exit(1)
	}()
	return ctx, func() { signal.Stop(sig); cancel() }
}
