package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// configSeedCorpus: presets as written in configs/, and the usual ways of
// not being a flags file.
func configSeedCorpus() [][]byte {
	bin := make([]byte, 300)
	for i := range bin {
		bin[i] = byte(i * 37)
	}
	return [][]byte{
		[]byte("# a preset\n--optimizer=neuroplastic\n--lr=0.1\n--np-param-wise\n\n"),
		[]byte("--seed=3\r\n  --quiet  \n--data=mnist,fashion-mnist\n"),
		[]byte("--flag = value with spaces\n--empty=\n"),
		[]byte("lr=0.1\n"),
		[]byte("--\n"),
		[]byte("--two words=1\n"),
		bin,
		bytes.Repeat([]byte("x"), maxConfigLine+10),
		{},
	}
}

// fuzzConfig is the property of parseConfig: it never panics; what it
// accepts is well-formed names (text, no blanks) with their line numbers
// in order; its errors name the file and stay short.
func fuzzConfig(t *testing.T, in []byte) bool {
	es, err := parseConfig("f.flags", bytes.NewReader(in))
	if err != nil {
		if !strings.HasPrefix(err.Error(), "f.flags:") || len(err.Error()) > 300 {
			t.Fatalf("error %d chars: %.400q", len(err.Error()), err.Error())
		}
		return false
	}
	last := 0
	for _, e := range es {
		if e.name == "" || strings.ContainsAny(e.name, " \t") || !utf8.ValidString(e.name) || e.line <= last {
			t.Fatalf("entry %+v after line %d", e, last)
		}
		last = e.line
	}
	return true
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range configSeedCorpus() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) { fuzzConfig(t, in) })
}

// TestParseConfigSeedCorpus runs the fuzz property over the seed corpus,
// which holds both accepted and rejected inputs.
func TestParseConfigSeedCorpus(t *testing.T) {
	ok, bad := 0, 0
	for _, s := range configSeedCorpus() {
		if fuzzConfig(t, s) {
			ok++
		} else {
			bad++
		}
	}
	if ok != 4 || bad != 5 {
		t.Fatalf("seed corpus: %d accepted, %d rejected; want 4 and 5", ok, bad)
	}
}
