//go:build unix

package mongodb

import (
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"
)

// stopGracePeriod is how long a tool gets to stop after SIGTERM before its
// whole process group is killed.
const stopGracePeriod = 5 * time.Second

// inOwnProcessGroup starts cmd in a process group of its own and makes a
// cancelled context stop the whole group: SIGTERM (the tools stop cleanly,
// closing their server cursors), then SIGKILL after a grace period.
// exited must be called once Wait returned.
func inOwnProcessGroup(cmd *exec.Cmd) (exited func()) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var done atomic.Bool
	cmd.Cancel = func() error {
		pgid := cmd.Process.Pid
		err := syscall.Kill(-pgid, syscall.SIGTERM)
		time.AfterFunc(stopGracePeriod, func() {
			if !done.Load() {
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			}
		})
		return err
	}
	cmd.WaitDelay = stopGracePeriod + time.Second
	return func() { done.Store(true) }
}
