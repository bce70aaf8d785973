//go:build !unix

package mongodb

import (
	"os/exec"
	"time"
)

// inOwnProcessGroup: without process groups, a cancelled context kills the
// tool itself.
func inOwnProcessGroup(cmd *exec.Cmd) (exited func()) {
	cmd.WaitDelay = 5 * time.Second
	return func() {}
}
