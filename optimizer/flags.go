package optimizer

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// Flags returns one flag per option of Config, with the reference's defaults; the
// training command includes them and calls ConfigFromCLI.
func Flags() []cli.Flag {
	d := DefaultConfig()
	n := d.NP
	return []cli.Flag{
		&cli.StringFlag{Name: "optimizer", Value: d.Name, Usage: "optimizer: neuroplastic, sgd, adam or adamw"},
		&cli.Float64Flag{Name: "lr", Value: d.LR, Usage: "learning rate"},
		&cli.Float64Flag{Name: "weight-decay", Value: d.WeightDecay, Usage: "weight decay (SGD/Adam: coupled L2, AdamW: decoupled, NeuroPlastic: see --np-decoupled-wd)"},
		&cli.Float64Flag{Name: "momentum", Value: d.Momentum, Usage: "SGD momentum"},
		&cli.Float64Flag{Name: "beta1", Value: d.Beta1, Usage: "Adam/AdamW beta1"},
		&cli.Float64Flag{Name: "beta2", Value: d.Beta2, Usage: "Adam/AdamW beta2"},
		&cli.Float64Flag{Name: "adam-eps", Value: d.Eps, Usage: "Adam/AdamW epsilon (added after the square root)"},
		&cli.BoolFlag{Name: "skip-nonfinite", Value: d.SkipNonFinite, Usage: "skip steps whose gradients contain NaN/Inf (counted) instead of failing"},

		&cli.StringFlag{Name: "np-mode", Value: n.Mode, Usage: "NeuroPlastic mode: rule_based or ablation_grad_only"},
		&cli.Float64Flag{Name: "np-trace-decay", Value: n.TraceDecay, Usage: "decay of the activity trace a"},
		&cli.Float64Flag{Name: "np-momentum-decay", Value: n.MomentumDecay, Usage: "decay of the raw momentum m"},
		&cli.Float64Flag{Name: "np-variance-decay", Value: n.VarianceDecay, Usage: "decay of the raw variance v"},
		&cli.Float64Flag{Name: "np-weight-activity", Value: n.WeightActivity, Usage: "weight of the activity signal std(a)"},
		&cli.Float64Flag{Name: "np-weight-grad", Value: n.WeightGrad, Usage: "weight of the gradient signal std(|g|)"},
		&cli.Float64Flag{Name: "np-weight-memory", Value: n.WeightMemory, Usage: "weight of the memory signal std(|m|/(sqrt(v)+eps))"},
		&cli.Float64Flag{Name: "np-min-alpha", Value: n.MinAlpha, Usage: "lower clamp of the plasticity coefficient"},
		&cli.Float64Flag{Name: "np-max-alpha", Value: n.MaxAlpha, Usage: "upper clamp of the plasticity coefficient"},
		&cli.Float64Flag{Name: "np-plasticity-scale", Value: n.PlasticityScale, Usage: "plasticity scale of the full-minus-gradient coefficient"},
		&cli.IntFlag{Name: "np-warmup-epochs", Value: n.WarmupEpochs, Usage: "epochs of linear warm-up from the gradient-only coefficient (0 = none)"},
		&cli.BoolFlag{Name: "np-param-wise", Value: n.ParamWise, Usage: "parameter-wise coefficient (false: one mean coefficient per tensor)"},
		&cli.Float64Flag{Name: "np-max-update-norm", Value: n.MaxUpdateNorm, Usage: "homeostatic norm clip of the update"},
		&cli.Float64Flag{Name: "np-adaptation-rate", Value: n.AdaptationRate, Usage: "homeostatic RMS gain adaptation rate"},
		&cli.Float64Flag{Name: "np-target-rms", Value: n.TargetRMS, Usage: "homeostatic target update RMS"},
		&cli.Float64Flag{Name: "np-target-rms-early", Value: n.TargetRMSEarly, Usage: "target-RMS factor of the first third of the parameters"},
		&cli.Float64Flag{Name: "np-target-rms-middle", Value: n.TargetRMSMiddle, Usage: "target-RMS factor of the middle third"},
		&cli.Float64Flag{Name: "np-target-rms-late", Value: n.TargetRMSLate, Usage: "target-RMS factor of the last third"},
		&cli.BoolFlag{Name: "np-decoupled-wd", Value: n.DecoupledWD, Usage: "decoupled weight decay p -= lr_eff*wd*p (default: coupled u += wd*p)"},
		&cli.StringFlag{Name: "np-lr-controller", Value: n.Controller, Usage: "learning-rate controller: off, global, per_group or classifier_only"},
		&cli.Float64Flag{Name: "np-controller-alpha", Value: n.ControllerAlpha, Usage: "controller gain on the log(alpha/ag) signal"},
		&cli.Float64Flag{Name: "np-controller-min", Value: n.ControllerMin, Usage: "lower clamp of the learning-rate multiplier"},
		&cli.Float64Flag{Name: "np-controller-max", Value: n.ControllerMax, Usage: "upper clamp of the learning-rate multiplier"},
		&cli.StringFlag{Name: "np-hybrid-base", Value: n.HybridBase, Usage: "update base: classic, adamw or sgd_momentum"},
		&cli.StringFlag{Name: "np-modulation-target", Value: n.ModulationTarget, Usage: "hybrid modulation target: gain, momentum or trust"},
		&cli.Float64Flag{Name: "np-modulation-strength", Value: n.ModulationStrength, Usage: "hybrid modulation strength"},
		&cli.Float64Flag{Name: "np-modulation-max-ratio", Value: n.ModulationMaxRatio, Usage: "hybrid modulation limit ||d|| <= ratio*||base||"},
		&cli.StringFlag{Name: "np-layer-scope", Value: n.LayerScope, Usage: "hybrid layer scope: all, conv_only, classifier_only (head_only), early_blocks, late_blocks (late)"},
		&cli.StringFlag{Name: "np-phase-scope", Value: n.PhaseScope, Usage: "hybrid phase scope: full, early, middle or late (by epoch/total epochs)"},
		&cli.StringFlag{Name: "np-modulation-scope", Value: n.ModulationScope, Usage: "alias of the reference: sets --np-layer-scope when that is all"},
		&cli.StringFlag{Name: "np-modulation-schedule", Value: n.ModulationSchedule, Usage: "alias of the reference: none, warmup (phase early) or late (phase late), used when --np-phase-scope is full"},
		&cli.Float64Flag{Name: "np-base-momentum", Value: n.BaseMomentum, Usage: "hybrid base momentum (adamw beta1, sgd_momentum mu)"},
		&cli.Float64Flag{Name: "np-base-beta2", Value: n.BaseBeta2, Usage: "hybrid adamw base beta2"},
		&cli.StringFlag{Name: "np-residual", Value: n.Residual, Usage: "residual branch of the classic base: none, bounded or orthogonal"},
		&cli.Float64Flag{Name: "np-residual-max-ratio", Value: n.ResidualMaxRatio, Usage: "bounded residual limit ||d|| <= ratio*||g||"},
		&cli.Float64Flag{Name: "np-orthogonal-lambda", Value: n.OrthogonalLambda, Usage: "orthogonal residual strength"},
		&cli.Float64Flag{Name: "np-orthogonal-max-ratio", Value: n.OrthogonalMaxRatio, Usage: "orthogonal residual limit ||d|| <= ratio*||g||"},
		&cli.StringFlag{Name: "np-orthogonal-norm", Value: n.OrthogonalNorm, Usage: "orthogonal residual normalisation: none or match_grad_norm"},
		&cli.StringFlag{Name: "np-orthogonal-schedule", Value: n.OrthogonalSchedule, Usage: "orthogonal residual schedule: constant, late or cosine"},
		&cli.IntFlag{Name: "np-total-epochs", Value: n.TotalEpochs, Usage: "total epochs behind the progress of phase scopes and orthogonal schedules: 0 = --epochs; 1 = as the authors' runner (progress = epoch)"},
	}
}

// ConfigFromCLI reads the flags of Flags and validates the result; errors
// name the offending flag.
func ConfigFromCLI(c *cli.Context) (Config, error) {
	cfg := Config{
		Name:          c.String("optimizer"),
		LR:            c.Float64("lr"),
		WeightDecay:   c.Float64("weight-decay"),
		Momentum:      c.Float64("momentum"),
		Beta1:         c.Float64("beta1"),
		Beta2:         c.Float64("beta2"),
		Eps:           c.Float64("adam-eps"),
		SkipNonFinite: c.Bool("skip-nonfinite"),
		NP: NPConfig{
			Mode:               c.String("np-mode"),
			TraceDecay:         c.Float64("np-trace-decay"),
			MomentumDecay:      c.Float64("np-momentum-decay"),
			VarianceDecay:      c.Float64("np-variance-decay"),
			WeightActivity:     c.Float64("np-weight-activity"),
			WeightGrad:         c.Float64("np-weight-grad"),
			WeightMemory:       c.Float64("np-weight-memory"),
			MinAlpha:           c.Float64("np-min-alpha"),
			MaxAlpha:           c.Float64("np-max-alpha"),
			PlasticityScale:    c.Float64("np-plasticity-scale"),
			WarmupEpochs:       c.Int("np-warmup-epochs"),
			ParamWise:          c.Bool("np-param-wise"),
			MaxUpdateNorm:      c.Float64("np-max-update-norm"),
			AdaptationRate:     c.Float64("np-adaptation-rate"),
			TargetRMS:          c.Float64("np-target-rms"),
			TargetRMSEarly:     c.Float64("np-target-rms-early"),
			TargetRMSMiddle:    c.Float64("np-target-rms-middle"),
			TargetRMSLate:      c.Float64("np-target-rms-late"),
			DecoupledWD:        c.Bool("np-decoupled-wd"),
			Controller:         c.String("np-lr-controller"),
			ControllerAlpha:    c.Float64("np-controller-alpha"),
			ControllerMin:      c.Float64("np-controller-min"),
			ControllerMax:      c.Float64("np-controller-max"),
			HybridBase:         c.String("np-hybrid-base"),
			ModulationTarget:   c.String("np-modulation-target"),
			ModulationStrength: c.Float64("np-modulation-strength"),
			ModulationMaxRatio: c.Float64("np-modulation-max-ratio"),
			LayerScope:         c.String("np-layer-scope"),
			PhaseScope:         c.String("np-phase-scope"),
			ModulationScope:    c.String("np-modulation-scope"),
			ModulationSchedule: c.String("np-modulation-schedule"),
			BaseMomentum:       c.Float64("np-base-momentum"),
			BaseBeta2:          c.Float64("np-base-beta2"),
			Residual:           c.String("np-residual"),
			ResidualMaxRatio:   c.Float64("np-residual-max-ratio"),
			OrthogonalLambda:   c.Float64("np-orthogonal-lambda"),
			OrthogonalMaxRatio: c.Float64("np-orthogonal-max-ratio"),
			OrthogonalNorm:     c.String("np-orthogonal-norm"),
			OrthogonalSchedule: c.String("np-orthogonal-schedule"),
			TotalEpochs:        c.Int("np-total-epochs"),
		},
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("optimizer flags: %w", err)
	}
	return cfg, nil
}
