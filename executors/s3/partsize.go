package s3

// S3's multipart limits.
const (
	MinPartSize = 5 << 20 // every part but the last
	MaxPartSize = 5 << 30
	MaxParts    = 10000
	// defaultPartSize is the smallest part size we choose: big enough for
	// throughput, small enough that 3 parts in memory stay modest.
	defaultPartSize = 8 << 20
	// hintParts is how many parts a hinted archive should need, leaving
	// 1,000 parts of headroom for an archive that outgrows its hint.
	hintParts = 9000
)

// PartSizeFor chooses the base part size for an archive of about sizeHint
// bytes (0 = unknown): max(8 MiB, ceil(hint × 1.05 / 9,000)) rounded up to
// a whole MiB, so a 500 GiB archive needs about 8,960 parts of 60 MiB.
// Memory is about 3 parts (2 uploading, 1 filling), so large hints cost
// memory: 180 MiB for a 500 GiB archive.
func PartSizeFor(sizeHint int64) int64 {
	size := int64(defaultPartSize)
	if sizeHint > 0 {
		need := (sizeHint + sizeHint/20 + hintParts - 1) / hintParts
		if need > size {
			size = need
		}
	}
	const mib = 1 << 20
	size = (size + mib - 1) / mib * mib
	return min(size, MaxPartSize)
}

// growAfterFor is the part number after which parts grow: where the hinted
// archive ends (at least part 4,000), so an archive that keeps to its hint
// never pays for bigger parts.
func growAfterFor(base, sizeHint int64) int32 {
	g := int64(4000)
	if sizeHint > 0 {
		g = max(g, (sizeHint+sizeHint/20+base-1)/base)
	}
	return int32(min(g, hintParts))
}

// partSizeAt is the size of part n: the base size up to growAfter, then
// doubling in 8 steps spread over the parts left, so even an archive with
// no hint fits: with 8 MiB parts, 4,000 × 8 MiB + 750 × (16 MiB … 2 GiB)
// holds about 3 TiB. S3 allows parts of different sizes.
func partSizeAt(base int64, growAfter, n int32) int64 {
	if n <= growAfter {
		return base
	}
	step := max((MaxParts-growAfter)/8, 1)
	size := base
	for k := (n - growAfter - 1) / step; k >= 0 && size < MaxPartSize; k-- {
		size *= 2
	}
	return min(size, MaxPartSize)
}
