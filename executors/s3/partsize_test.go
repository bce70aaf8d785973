package s3

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPartSizes(t *testing.T) {
	t.Parallel()
	const gib = int64(1) << 30
	cases := []struct {
		hint int64
		want int64
	}{
		{0, 8 * mib},
		{10 * gib, 8 * mib},
		{100 * gib, 12 * mib},
		{500 * gib, 60 * mib},
	}
	for _, tc := range cases {
		got := PartSizeFor(tc.hint)
		require.Equal(t, tc.want, got, "hint %d", tc.hint)
		require.Zero(t, got%mib)
		// The hinted archive fits without growing parts, in 10,000 parts.
		g := growAfterFor(got, tc.hint)
		require.LessOrEqual(t, capacity(got, g, g), capacity(got, g, MaxParts))
		if tc.hint > 0 {
			require.GreaterOrEqual(t, capacity(got, g, g), tc.hint, "hint %d", tc.hint)
		}
	}
	// Without a hint, parts grow after 4,000 and 10,000 parts hold 500 GiB.
	base := PartSizeFor(0)
	g := growAfterFor(base, 0)
	require.Equal(t, int32(4000), g)
	require.GreaterOrEqual(t, capacity(base, g, MaxParts), 500*gib)
	require.Equal(t, base, partSizeAt(base, g, 4000))
	require.Equal(t, 2*base, partSizeAt(base, g, 4001))
	require.LessOrEqual(t, partSizeAt(base, g, MaxParts), int64(MaxPartSize))
}

// capacity is the bytes parts 1..n hold.
func capacity(base int64, growAfter, n int32) int64 {
	var total int64
	for i := int32(1); i <= n; i++ {
		total += partSizeAt(base, growAfter, i)
	}
	return total
}

func TestUploadRefusesPartsBeyondTheLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, err := NewDestination(f.cfg, f.log, WithPartSize(MinPartSize)).StartUpload(context.Background(), "huge", 0, nil)
	require.NoError(t, err)
	up := u.(*upload)
	up.nextPart = MaxParts + 1 // as if 10,000 parts were already sent
	_, err = u.Write(randomBytes(30, 1000))
	require.NoError(t, err)
	_, err = u.Complete(context.Background())
	require.ErrorContains(t, err, "outgrew S3's 10000 parts")
	require.NoError(t, u.Abort(context.Background()))
	require.Empty(t, f.multipartUploads(t))
}
