package s3

// Option tunes a Source, Destination or Target. The defaults are what
// production uses; tests shrink pages and parts to exercise the edges.
type Option func(*options)

type options struct {
	pageSize int32 // keys per ListObjectsV2 page
	partSize int64 // fixed part size, 0 = sized from the hint
	// prefetch is how many listed objects the source describes (and, when
	// small, downloads) ahead of the consumer, and smallObject the size up
	// to which it downloads the body during that prefetch, within
	// prefetchBytes in total.
	prefetch      int
	prefetchBytes int64
	smallObject   int64
	workers       int // parallel HEAD/GET of the prefetch, parallel verifies
	readRetries   int // ranged GETs a cut download may take to finish
}

func defaultOptions() options {
	return options{
		pageSize:      1000,
		prefetch:      256,
		prefetchBytes: 16 << 20,
		smallObject:   256 << 10,
		workers:       8,
		readRetries:   5,
	}
}

func buildOptions(opts []Option) options {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithPageSize sets how many keys each listing page asks for (1..1000).
func WithPageSize(n int) Option {
	return func(o *options) {
		if n > 0 && n <= 1000 {
			o.pageSize = int32(n)
		}
	}
}

// WithPartSize fixes the multipart part size (at least 5 MiB) instead of
// deriving it from the size hint.
func WithPartSize(n int64) Option {
	return func(o *options) {
		if n >= MinPartSize {
			o.partSize = n
		}
	}
}

// WithPrefetch sets how many objects a source prepares ahead of the
// consumer, and the size up to which it downloads small objects whole
// while doing so (0 disables body prefetch).
func WithPrefetch(objects int, smallObject int64) Option {
	return func(o *options) {
		if objects > 0 {
			o.prefetch = objects
		}
		if smallObject >= 0 && smallObject <= o.prefetchBytes {
			o.smallObject = smallObject
		}
	}
}

// WithWorkers sets how many requests run in parallel for prefetching and
// verification.
func WithWorkers(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.workers = n
		}
	}
}

// WithReadRetries sets how many times a cut download is continued with a
// new ranged GET before Read fails.
func WithReadRetries(n int) Option {
	return func(o *options) {
		if n >= 0 {
			o.readRetries = n
		}
	}
}
