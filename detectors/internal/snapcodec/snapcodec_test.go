package snapcodec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

var errTest = errors.New("test snapshot")

var format = Format{Magic: "RWTEST", Version: 3, Err: errTest, Name: "a test snapshot"}

func encode(t testing.TB, magic string, version uint64, fill func(e *Encoder)) []byte {
	t.Helper()
	e := NewEncoder(magic, version)
	if fill != nil {
		fill(e)
	}
	var b bytes.Buffer
	require.NoError(t, e.Finish(&b))
	return b.Bytes()
}

// withCRC appends a valid checksum to b.
func withCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(bytes.Clone(b), crc32.ChecksumIEEE(b))
}

func TestLayout(t *testing.T) {
	got := encode(t, "RWTEST", 3, func(e *Encoder) {
		e.U(300)
		e.I(-2)
		e.Str("hi")
		e.Flag(true)
		e.Flag(false)
		e.Raw([]byte{0xaa, 0xbb})
	})
	want := []byte("RWTEST\x03\xac\x02\x03\x02hi\x01\x00\xaa\xbb")
	require.Equal(t, withCRC(want), got, "magic, uvarint version, body, CRC-32 little endian")
}

func TestRoundTrip(t *testing.T) {
	strs := []string{"", "a", string(make([]byte, 300)), "ünïcode"}
	ints := []int64{0, 1, -1, math.MaxInt64, math.MinInt64}
	uints := []uint64{0, 1, 127, 128, math.MaxUint64}
	data := encode(t, format.Magic, format.Version, func(e *Encoder) {
		for _, s := range strs {
			e.Str(s)
		}
		for _, v := range ints {
			e.I(v)
		}
		for _, v := range uints {
			e.U(v)
		}
		e.Flag(true)
		e.Flag(false)
		e.U(3)
		e.Raw([]byte{1, 2, 3})
	})
	d, err := Open(bytes.NewReader(data), format)
	require.NoError(t, err)
	for _, s := range strs {
		require.Equal(t, s, d.Str())
	}
	for _, v := range ints {
		require.Equal(t, v, d.I())
	}
	for _, v := range uints {
		require.Equal(t, v, d.U())
	}
	require.True(t, d.Flag())
	require.False(t, d.Flag())
	n := d.Count(3, "byte")
	require.Equal(t, []byte{1, 2, 3}, d.Bytes(uint64(n)))
	require.NoError(t, d.Err())
	require.NoError(t, d.End())
}

func TestEmptyBody(t *testing.T) {
	d, err := Open(bytes.NewReader(encode(t, format.Magic, format.Version, nil)), format)
	require.NoError(t, err)
	require.NoError(t, d.End())
}

func TestOpenRejects(t *testing.T) {
	good := encode(t, format.Magic, format.Version, func(e *Encoder) { e.Str("body") })
	flipped := bytes.Clone(good)
	flipped[len(format.Magic)+2] ^= 0xff
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a test snapshot"},
		{"shorter than a container", []byte("RWTEST\x03\x00\x00\x00"), "not a test snapshot"},
		{"other magic", encode(t, "RWOTHR", format.Version, nil), "not a test snapshot"},
		{"corrupt", flipped, "checksum mismatch"},
		{"truncated", good[:len(good)-1], "checksum mismatch"},
		{"future version", encode(t, format.Magic, 4, nil), "version 4, this build reads version 3"},
		{"old version", encode(t, format.Magic, 2, nil), "version 2"},
		{"version not a varint", withCRC([]byte("RWTEST\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")), "version 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(bytes.NewReader(tc.data), format)
			require.Nil(t, d)
			require.ErrorIs(t, err, errTest)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestOpenTooLarge(t *testing.T) {
	defer func(n int) { maxBytes = n }(maxBytes)
	maxBytes = 64
	fits := encode(t, format.Magic, format.Version, func(e *Encoder) { e.Raw(make([]byte, 64-len(format.Magic)-1-4)) })
	require.Len(t, fits, 64)
	_, err := Open(bytes.NewReader(fits), format)
	require.NoError(t, err)
	big := encode(t, format.Magic, format.Version, func(e *Encoder) { e.Raw(make([]byte, 64)) })
	_, err = Open(bytes.NewReader(big), format)
	require.ErrorIs(t, err, errTest)
	require.ErrorContains(t, err, "larger than 64 bytes")
}

func TestOpenReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Open(iotest.ErrReader(boom), format)
	require.ErrorIs(t, err, boom)
	require.NotErrorIs(t, err, errTest, "an I/O error is not about the content")
}

func TestDefaultErr(t *testing.T) {
	_, err := Open(bytes.NewReader(nil), Format{Magic: "X", Name: "an X"})
	require.ErrorIs(t, err, ErrSnapshot)
	require.ErrorContains(t, err, "not an X")
}

func TestDecoderRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		fill func(e *Encoder)
		read func(d *Decoder)
		want string
	}{
		{"uvarint cut short", func(e *Encoder) { e.Raw([]byte{0x80}) }, func(d *Decoder) { d.U() }, "truncated or corrupt number"},
		{"uvarint overflow", func(e *Encoder) { e.Raw(bytes.Repeat([]byte{0xff}, 11)) }, func(d *Decoder) { d.U() }, "truncated or corrupt number"},
		{"varint missing", nil, func(d *Decoder) { d.I() }, "truncated or corrupt number"},
		{"flag 2", func(e *Encoder) { e.U(2) }, func(d *Decoder) { d.Flag() }, "truncated or corrupt flag"},
		{"string past the end", func(e *Encoder) { e.U(5); e.Raw([]byte("abc")) }, func(d *Decoder) { d.Str() }, "truncated or corrupt string"},
		{"bytes past the end", func(e *Encoder) { e.Raw([]byte("ab")) }, func(d *Decoder) { d.Bytes(3) }, "truncated or corrupt bytes"},
		{"count over limit", func(e *Encoder) { e.U(5); e.Raw(make([]byte, 10)) }, func(d *Decoder) { d.Count(4, "thing") }, "truncated or corrupt thing count"},
		{"count over bytes left", func(e *Encoder) { e.U(3); e.Raw(make([]byte, 2)) }, func(d *Decoder) { d.Count(100, "thing") }, "truncated or corrupt thing count"},
		{"explicit failure", func(e *Encoder) { e.U(1) }, func(d *Decoder) { d.Fail("order") }, "truncated or corrupt order"},
		{"trailing bytes", func(e *Encoder) { e.U(1); e.U(2); e.U(3) }, func(d *Decoder) { d.U() }, "2 unexpected trailing bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(bytes.NewReader(encode(t, format.Magic, format.Version, tc.fill)), format)
			require.NoError(t, err)
			tc.read(d)
			err = d.End()
			require.ErrorIs(t, err, errTest)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestCountAtBounds(t *testing.T) {
	d, err := Open(bytes.NewReader(encode(t, format.Magic, format.Version, func(e *Encoder) { e.U(2); e.Raw([]byte{7, 8}) })), format)
	require.NoError(t, err)
	require.Equal(t, 2, d.Count(2, "thing"), "limit and bytes left are inclusive")
	d.Bytes(2)
	require.NoError(t, d.End())
}

func TestErrorSticks(t *testing.T) {
	d, err := Open(bytes.NewReader(encode(t, format.Magic, format.Version, func(e *Encoder) {
		e.U(9) // read as a flag: fails
		e.U(7)
		e.Str("after")
	})), format)
	require.NoError(t, err)
	d.Flag()
	first := d.Err()
	require.ErrorContains(t, first, "flag")
	require.Zero(t, d.U(), "reads after an error return zero values")
	require.Zero(t, d.I())
	require.Empty(t, d.Str())
	require.Nil(t, d.Bytes(1))
	require.Zero(t, d.Count(10, "x"))
	require.False(t, d.Flag())
	d.Fail("later")
	require.Equal(t, first, d.Err(), "the first error sticks")
	require.Equal(t, first, d.End())
}

// FuzzRoundTrip: values written by the Encoder read back unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0), int64(0), "", true, []byte(nil))
	f.Add(uint64(math.MaxUint64), int64(math.MinInt64), "héllo", false, []byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, u uint64, i int64, s string, flag bool, raw []byte) {
		data := encode(t, format.Magic, format.Version, func(e *Encoder) {
			e.U(u)
			e.I(i)
			e.Str(s)
			e.Flag(flag)
			e.U(uint64(len(raw)))
			e.Raw(raw)
		})
		d, err := Open(bytes.NewReader(data), format)
		require.NoError(t, err)
		require.Equal(t, u, d.U())
		require.Equal(t, i, d.I())
		require.Equal(t, s, d.Str())
		require.Equal(t, flag, d.Flag())
		n := d.Count(len(raw), "raw")
		require.Equal(t, len(raw), n)
		require.True(t, bytes.Equal(raw, d.Bytes(uint64(n))))
		require.NoError(t, d.End())
	})
}

// FuzzDecode: any input, as it is and framed in a valid container, read
// with any sequence of reads (ops) never panics, and a decoder that
// reports no error consumed exactly the body.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{}, []byte{0, 1, 2, 3, 4, 5})
	f.Add(encode(f, format.Magic, format.Version, func(e *Encoder) { e.Str("x"); e.U(2) }), []byte{3, 5})
	f.Fuzz(func(t *testing.T, data, ops []byte) {
		framed := encode(t, format.Magic, format.Version, func(e *Encoder) { e.Raw(data) })
		for _, in := range [][]byte{data, framed} {
			d, err := Open(bytes.NewReader(in), format)
			if err != nil {
				require.ErrorIs(t, err, errTest)
				continue
			}
			for _, op := range ops {
				switch op % 7 {
				case 0:
					d.U()
				case 1:
					d.I()
				case 2:
					d.Flag()
				case 3:
					d.Str()
				case 4:
					d.Bytes(uint64(op >> 3))
				case 5:
					if n := d.Count(int(op>>3), "x"); n > len(in) {
						t.Fatalf("count %d beyond the %d bytes of the snapshot", n, len(in))
					}
				case 6:
					d.Fail("x")
				}
			}
			if err := d.End(); err != nil {
				require.ErrorIs(t, err, errTest)
			}
		}
	})
}
