package binfmt

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

// lr is 0.30000000000000004 (0.1 + 0.2 in float64 arithmetic): metadata
// floats must read back bit for bit.
var lr = func() float64 { a := 0.1; return a + 0.2 }()

type meta struct {
	Name string  `json:"name"`
	LR   float64 `json:"lr"`
}

func sample(t *testing.T) []byte {
	t.Helper()
	b, err := Marshal("TESTFMT\x00", 3, meta{"x", lr}, func(e *Encoder) error {
		e.U8(7)
		e.U16(0xBEEF)
		e.U32(123456)
		e.U64(1 << 40)
		e.F32s([]float32{1.5, float32(math.Inf(-1))})
		e.F64s([]float64{math.Pi, math.Copysign(0, -1)})
		e.Raw([]byte("tail"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRoundTrip: every field reads back bit for bit, the layout is the
// documented one (magic, version, metaLen, meta, body, CRC).
func TestRoundTrip(t *testing.T) {
	b := sample(t)
	if string(b[:8]) != "TESTFMT\x00" || b[8] != 3 || b[12] != byte(len(`{"name":"x","lr":0.30000000000000004}`)) {
		t.Fatalf("header % x", b[:16])
	}
	if v, ok := Version(b, "TESTFMT\x00"); !ok || v != 3 {
		t.Fatalf("Version = %d, %v", v, ok)
	}
	f, err := Open(b, "TESTFMT\x00", "test file", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	var m meta
	if err := f.DecodeMeta(&m); err != nil || m.Name != "x" || m.LR != lr || f.Version != 3 {
		t.Fatalf("meta %+v, version %d, %v", m, f.Version, err)
	}
	d := f.Body
	f32 := make([]float32, 2)
	f64 := make([]float64, 2)
	u8, u16, u32, u64 := d.U8(), d.U16(), d.U32(), d.U64()
	d.F32s(f32)
	d.F64s(f64)
	tail := d.Raw(4)
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
	if u8 != 7 || u16 != 0xBEEF || u32 != 123456 || u64 != 1<<40 || f32[0] != 1.5 || !math.IsInf(float64(f32[1]), -1) ||
		f64[0] != math.Pi || !math.Signbit(f64[1]) || string(tail) != "tail" {
		t.Fatalf("read back %v %v %v %v %v %v %q", u8, u16, u32, u64, f32, f64, tail)
	}
}

// TestCorruptionAndTruncation: every flipped bit and every truncation is an
// error (never a panic, never a silently wrong file).
func TestCorruptionAndTruncation(t *testing.T) {
	b := sample(t)
	for i := range b {
		for bit := 0; bit < 8; bit++ {
			c := append([]byte(nil), b...)
			c[i] ^= 1 << bit
			if _, err := Open(c, "TESTFMT\x00", "test file", 3); err == nil {
				t.Fatalf("byte %d bit %d flipped: no error", i, bit)
			}
		}
	}
	for n := 0; n < len(b); n++ {
		_, err := Open(b[:n], "TESTFMT\x00", "test file", 3)
		if err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
		if n >= 8 && n > 20 && !strings.Contains(err.Error(), "truncated") {
			t.Errorf("truncated to %d bytes: %v", n, err)
		}
	}
	if _, err := Open(append(append([]byte(nil), b...), 0), "TESTFMT\x00", "test file", 3); err == nil || !strings.Contains(err.Error(), "trailing") {
		t.Errorf("trailing byte: %v", err)
	}
}

func TestHeaderErrors(t *testing.T) {
	b := sample(t)
	for _, c := range []struct {
		data     []byte
		magic    string
		versions []uint32
		want     string
	}{
		{b, "OTHERFMT", []uint32{3}, `not a test file (bad magic "TESTFMT\x00", want "OTHERFMT")`},
		{[]byte("TES"), "TESTFMT\x00", []uint32{3}, "bad magic"},
		{b[:12], "TESTFMT\x00", []uint32{3}, "truncated"},
		{b, "TESTFMT\x00", []uint32{1, 2}, "test file version 3, this build reads version 1 or 2"},
	} {
		if _, err := Open(c.data, c.magic, "test file", c.versions...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	// A metadata length beyond the file, with a valid checksum.
	bad, _ := Marshal("TESTFMT\x00", 3, meta{}, nil)
	bad = bad[:len(bad)-4]
	bad[12] = 200
	bad = (&Encoder{b: bad}).sum()
	if _, err := Open(bad, "TESTFMT\x00", "test file", 3); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("metadata length: %v", err)
	}
	// Unknown metadata fields are refused.
	f, _ := Open(sample(t), "TESTFMT\x00", "test file", 3)
	var other struct{ Name string }
	if err := f.DecodeMeta(&other); err == nil || !strings.Contains(err.Error(), "lr") {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := Marshal("SHORT", 1, nil, nil); err == nil {
		t.Errorf("a 5-byte magic was accepted")
	}
	if _, err := Marshal("TESTFMT\x00", 1, math.NaN(), nil); err == nil {
		t.Errorf("NaN metadata was accepted")
	}
	boom := errors.New("boom")
	if _, err := Marshal("TESTFMT\x00", 1, nil, func(*Encoder) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("body error: %v", err)
	}
}

// (e *Encoder) sum appends the checksum (tests build bad files with it).
func (e *Encoder) sum() []byte {
	e.U32(crcOf(e.b))
	return e.b
}

func TestDecoderTruncation(t *testing.T) {
	d := NewDecoder([]byte{1, 2, 3})
	if d.U16() != 0x0201 || d.Len() != 1 {
		t.Fatal("U16")
	}
	if d.U32() != 0 || !errors.Is(d.Err(), ErrTruncated) {
		t.Fatalf("short U32: %v", d.Err())
	}
	if d.U8() != 0 || d.Raw(0) != nil || !errors.Is(d.Finish(), ErrTruncated) {
		t.Fatal("reads after an error must return zero values and keep the error")
	}
	d = NewDecoder([]byte{1, 2})
	d.U8()
	if err := d.Finish(); err == nil || !strings.Contains(err.Error(), "1 trailing byte") {
		t.Fatalf("Finish with a byte left: %v", err)
	}
	if d.Raw(-1) != nil || d.Err() == nil {
		t.Fatal("negative length accepted")
	}
}

func TestReadAll(t *testing.T) {
	if b, err := ReadAll(bytes.NewReader([]byte("abc")), 3); err != nil || string(b) != "abc" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := ReadAll(bytes.NewReader([]byte("abcd")), 3); err == nil {
		t.Fatal("4 bytes read under a 3-byte limit")
	}
}
