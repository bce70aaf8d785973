package executors

import (
	"os"
	"runtime/debug"
	"sync"
)

// The archive pipelines hold bounded buffers (blocks, parts, read-ahead:
// about 45 MiB live per job), but the Go collector lets the heap grow to
// twice what is live before it collects. A soft memory limit sized to the
// jobs running keeps the process near what it really uses, so a worker
// stays within its stated budget (~128 MiB resident for one backup) at a
// few more collections. GOMEMLIMIT, when set by the operator, wins.
const (
	memoryBase   = 40 << 20 // runtime, API clients, projections' share
	memoryPerJob = 48 << 20
)

type memoryBudget struct {
	mu      sync.Mutex
	jobs    int
	managed bool
}

// newMemoryBudget manages the process's memory limit when enabled (the
// worker is the process's main job) and the operator set no GOMEMLIMIT.
func newMemoryBudget(enabled bool) *memoryBudget {
	_, set := os.LookupEnv("GOMEMLIMIT")
	b := &memoryBudget{managed: enabled && !set}
	b.apply()
	return b
}

func (b *memoryBudget) add(delta int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jobs += delta
	b.apply()
}

func (b *memoryBudget) apply() {
	if b.managed {
		debug.SetMemoryLimit(int64(memoryBase + max(b.jobs, 1)*memoryPerJob))
	}
}
