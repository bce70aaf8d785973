package executors

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemoryBudgetFollowsRunningJobs(t *testing.T) {
	// Not parallel: the memory limit is the process's.
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	t.Setenv("GOMEMLIMIT", "") // present but empty still counts as set by the operator
	require.False(t, newMemoryBudget(true).managed, "an operator's GOMEMLIMIT wins")

	b := &memoryBudget{managed: true}
	b.apply()
	require.Equal(t, int64(memoryBase+memoryPerJob), debug.SetMemoryLimit(-1), "idle: room for one job")
	b.add(1)
	b.add(1)
	require.Equal(t, int64(memoryBase+2*memoryPerJob), debug.SetMemoryLimit(-1))
	b.add(-1)
	require.Equal(t, int64(memoryBase+memoryPerJob), debug.SetMemoryLimit(-1))

	off := &memoryBudget{managed: false}
	debug.SetMemoryLimit(before)
	off.add(3)
	require.Equal(t, before, debug.SetMemoryLimit(-1), "tests' workers leave the limit alone")
}
