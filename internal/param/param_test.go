package param

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestError(t *testing.T) {
	err := fmt.Errorf("attack: %w", Errorf("eps grid", "%q: want lo:step:hi (%w)", "x", io.EOF))
	var pe *Error
	if !errors.As(err, &pe) || pe.Name != "eps grid" || !errors.Is(err, io.EOF) {
		t.Fatalf("%v: not an *Error for eps grid wrapping io.EOF", err)
	}
	if got, want := err.Error(), `attack: eps grid "x": want lo:step:hi (EOF)`; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}
