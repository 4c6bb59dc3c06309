package detectorstest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors/internal/snapcodec"
)

// Reject is a snapshot Restore must refuse with an error containing Want.
type Reject struct {
	Name string
	Data []byte
	Want string
}

// Frame returns a snapshot of format f whose body fill writes.
func Frame(tb testing.TB, f snapcodec.Format, fill func(e *snapcodec.Encoder)) []byte {
	tb.Helper()
	return FrameVersion(tb, f.Magic, f.Version, fill)
}

// FrameVersion returns a snapshot with magic and version whose body fill
// writes (fill may be nil).
func FrameVersion(tb testing.TB, magic string, version uint64, fill func(e *snapcodec.Encoder)) []byte {
	tb.Helper()
	e := snapcodec.NewEncoder(magic, version)
	if fill != nil {
		fill(e)
	}
	var b bytes.Buffer
	require.NoError(tb, e.Finish(&b))
	return b.Bytes()
}

// Body is the body of snapshot good of format f: what lies between the
// magic and version and the checksum.
func Body(f snapcodec.Format, good []byte) []byte {
	head := len(f.Magic) + len(binary.AppendUvarint(nil, f.Version))
	return good[head : len(good)-4]
}

// ContainerRejects are the damaged containers every detector must
// refuse, made from good, a valid snapshot of format f with a non-empty
// body: empty input, another detector's snapshot, a flipped byte, a cut
// tail, an altered version byte, a future version and trailing bytes.
func ContainerRejects(tb testing.TB, f snapcodec.Format, good []byte) []Reject {
	tb.Helper()
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	version := bytes.Clone(good)
	version[len(f.Magic)] = 9
	future := f.Version + 8
	return []Reject{
		{"empty", nil, "not " + f.Name},
		{"other detector", []byte("RWANOM\x01\x00\x00\x00\x00\x00"), "not " + f.Name},
		{"corrupt", flipped, "checksum mismatch"},
		{"truncated", good[:len(good)-10], "checksum mismatch"},
		{"version byte altered", version, "checksum mismatch"}, // the CRC catches it first
		{"future version", FrameVersion(tb, f.Magic, future, nil), fmt.Sprintf("version %d", future)},
		{"trailing bytes", Frame(tb, f, func(e *snapcodec.Encoder) {
			e.Raw(Body(f, good))
			e.U(0)
		}), "trailing bytes"},
	}
}

// RequireRejects restores every case into a detector from newDetector
// and requires an error wrapping sentinel and containing the case's
// Want, and that the detector's state is left as it was.
func RequireRejects(t *testing.T, newDetector func() Detector, sentinel error, cases []Reject) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			fresh := newDetector()
			before := Snapshot(t, fresh)
			err := fresh.Restore(bytes.NewReader(tc.Data))
			require.ErrorIs(t, err, sentinel)
			require.ErrorContains(t, err, tc.Want)
			require.Equal(t, before, Snapshot(t, fresh), "a rejected snapshot leaves the state alone")
		})
	}
}

// FuzzRestore checks that Restore never panics on any input, framed or
// not, and that a state it accepts can be snapshotted and then used (use
// may be nil). Random bytes are tried as they are and inside a valid
// container of format f (magic, version, checksum), so the fuzzer
// reaches the body decoder instead of stopping at the checksum. The
// corpus is seeded with seed, a valid snapshot, and with its body.
func FuzzRestore[D Detector](f *testing.F, format snapcodec.Format, seed []byte, newDetector func() D, use func(t *testing.T, d D)) {
	f.Add(seed)
	f.Add(Body(format, seed))
	f.Fuzz(func(t *testing.T, data []byte) {
		framed := Frame(t, format, func(e *snapcodec.Encoder) { e.Raw(data) })
		for _, in := range [][]byte{data, framed} {
			fresh := newDetector()
			if fresh.Restore(bytes.NewReader(in)) != nil {
				continue
			}
			require.NoError(t, fresh.Snapshot(&bytes.Buffer{}))
			if use != nil {
				use(t, fresh)
			}
		}
	})
}
