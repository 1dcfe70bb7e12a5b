package plasticity

import (
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/models"
)

// TestForRoundsBounds: widening a T=1 rule must refuse a T outside
// 1..models.MaxT with an error naming the value, instead of panicking on a
// negative shift or allocating 2^(T+1) values for a huge T.
func TestForRoundsBounds(t *testing.T) {
	for _, name := range BuiltinNames() {
		for _, T := range []int{-1, 0, models.MaxT + 1, 40, 1 << 20} {
			rs, _ := Builtin(name)
			got, err := ForRounds(rs, T)
			if err == nil || got != nil {
				t.Fatalf("%s, T=%d: got %v, %v; want an error", name, T, got, err)
			}
			if !strings.Contains(err.Error(), "T = ") || !strings.Contains(err.Error(), "1..8") {
				t.Errorf("%s, T=%d: error %q should name the value and the range", name, T, err)
			}
		}
	}
}

// TestForRoundsWidens: for every allowed T the widened Perceptron rule looks
// only at the code's last bit (the final round), with both label rows.
func TestForRoundsWidens(t *testing.T) {
	for T := 1; T <= models.MaxT; T++ {
		rs, _ := Builtin("perceptron")
		w, err := ForRounds(rs, T)
		if err != nil {
			t.Fatalf("T=%d: %v", T, err)
		}
		if err := w.Validate(); err != nil {
			t.Fatalf("T=%d: %v", T, err)
		}
		tab := w.Output.Table()
		if len(tab) != 2<<T {
			t.Fatalf("T=%d: %d entries, want %d", T, len(tab), 2<<T)
		}
		for code := 0; code < 1<<T; code++ {
			want := []float64{-1, 1}
			if code&1 == 1 {
				want = []float64{1, -1}
			}
			if tab[2*code] != want[0] || tab[2*code+1] != want[1] {
				t.Fatalf("T=%d code %b: %v, want %v", T, code, tab[2*code:2*code+2], want)
			}
		}
	}
}
