package archive

import (
	"math/bits"
	"sync"
)

// Buffers for entries read ahead come from power-of-two size classes and go
// back after the entry is written, so thousands of small objects do not
// churn the heap. What is live is bounded by the prefetch budget, which
// reserves the class size.

const (
	minClassShift = 12 // 4 KiB
	maxClassShift = 26 // 64 MiB
)

var dataPools [maxClassShift - minClassShift + 1]sync.Pool

// classSize is the capacity of the buffer that holds size bytes, or 0 when
// size is beyond the pooled classes.
func classSize(size int64) int64 {
	if size <= 1<<minClassShift {
		return 1 << minClassShift
	}
	shift := bits.Len64(uint64(size - 1))
	if shift > maxClassShift {
		return 0
	}
	return 1 << shift
}

func getData(size int64) []byte {
	c := classSize(size)
	if c == 0 {
		return make([]byte, size)
	}
	i := bits.Len64(uint64(c)) - 1 - minClassShift
	if p, ok := dataPools[i].Get().(*[]byte); ok {
		return (*p)[:size]
	}
	return make([]byte, size, c)
}

func putData(b []byte) {
	c := int64(cap(b))
	if c == 0 || classSize(c) != c {
		return
	}
	i := bits.Len64(uint64(c)) - 1 - minClassShift
	b = b[:c]
	dataPools[i].Put(&b)
}
