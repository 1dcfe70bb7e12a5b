// Package param is the error of a bad parameter value in a library call.
// Libraries name the parameter as they call it ("eps grid", "steps",
// "batch size"); the command line maps the name to its flag (--eps-grid)
// where it has one, so library messages never assume a CLI.
package param

import "fmt"

// Error is a bad value of the parameter Name; Err says what is wrong
// (usually the value and what is wanted).
type Error struct {
	Name string
	Err  error
}

// Errorf returns an *Error for the parameter name; its message is the name
// followed by the formatted text, e.g. Errorf("steps", "%d: want >= 1", 0)
// reads "steps 0: want >= 1".
func Errorf(name, format string, a ...any) error {
	return &Error{Name: name, Err: fmt.Errorf(format, a...)}
}

func (e *Error) Error() string { return e.Name + " " + e.Err.Error() }

// Unwrap gives the error behind the message (a %w in Errorf's format).
func (e *Error) Unwrap() error { return e.Err }
