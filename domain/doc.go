// Package domain holds the aggregates (User, Connection, Operation), their
// events and the rules that decide which events a command may produce. It
// performs no I/O: callers hand it the facts (the time, a password check
// result, a sealed secret) and persist the events it records.
package domain
