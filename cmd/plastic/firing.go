package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
)

// The firing definition of the simple RNN: one flag for every command that
// builds one (rule learn/train/optimal, attack --rules, the paper
// experiments, demo). Recorded in the manifest with every resolved flag, in
// the provenance of learned rule files and in network files.
const flagFiring = "firing"

func firingFlag() cli.Flag {
	return &cli.StringFlag{Name: flagFiring, Value: models.FiringTopK.String(),
		Usage: "which nodes fire in a round: topk (the k nodes the cap picked, even at zero; the authors' code) or nonzero (non-zero after the cap; the paper's text)"}
}

// firingOf parses --firing.
func firingOf(c *cli.Context) (models.Firing, error) {
	f, err := models.ParseFiring(c.String(flagFiring))
	if err != nil {
		return 0, fmt.Errorf("--%s: %w", flagFiring, err)
	}
	return f, nil
}

func init() {
	flagValidators[flagFiring] = func(v string) error {
		_, err := models.ParseFiring(v)
		return err
	}
}

// removedFlags are flags of earlier versions that config files or scripts
// may still hold, with what replaced them. They fail with this message
// rather than as an unknown flag.
var removedFlags = map[string]string{
	"topk-firing":     "--topk-firing was replaced by --firing=topk|nonzero; top-k firing is now the default everywhere",
	"t3-topk-firing":  "--t3-topk-firing was replaced by --firing=topk|nonzero (one definition for every network of the experiment; top-k is the default)",
	"rnn-topk-firing": "--rnn-topk-firing was replaced by --firing=topk|nonzero (one definition for every network of the experiment; top-k is the default)",
}

// removedFlagIn returns the message of the first removed flag among the
// command-line arguments, or "".
func removedFlagIn(args []string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if msg, ok := removedFlags[name]; ok {
			return msg
		}
	}
	return ""
}

// noteFiring prints a note when the rules record another firing
// definition than the network's (a rule is meant to be used with the
// definition it was learned with), and a warning when they cannot train
// a network of their T at all (plasticity.SilentRounds).
func noteFiring(c *cli.Context, rs *plasticity.RuleSet, net *models.RNN) {
	if m := plasticity.FiringMismatch(rs, net.Firing); m != "" {
		fmt.Fprintf(c.App.ErrWriter, "note: %s (--firing=%s)\n", m, rs.Provenance.Firing)
	}
	if m := plasticity.SilentRounds(rs); m != "" {
		fmt.Fprintf(c.App.ErrWriter, "warning: --rounds=%d: %s\n", rs.Rounds, m)
	}
}
