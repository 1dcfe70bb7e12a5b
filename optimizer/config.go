package optimizer

import (
	"fmt"
	"math"
	"strings"

	paramerr "github.com/plasticity-lab/plastic/internal/param"
)

// Optimizer names accepted in Config.Name (flag --optimizer).
const (
	NameNeuroPlastic = "neuroplastic"
	NameSGD          = "sgd"
	NameAdam         = "adam"
	NameAdamW        = "adamw"
)

// NeuroPlastic modes (flag --np-mode).
const (
	ModeRuleBased = "rule_based"
	ModeGradOnly  = "ablation_grad_only"
)

// Learning-rate controller settings (flag --np-lr-controller).
const (
	ControllerOff            = "off"
	ControllerGlobal         = "global"
	ControllerPerGroup       = "per_group"
	ControllerClassifierOnly = "classifier_only"
)

// Update bases (flag --np-hybrid-base).
const (
	BaseClassic     = "classic"
	BaseAdamW       = "adamw"
	BaseSGDMomentum = "sgd_momentum"
)

// Modulation targets of the hybrid bases (flag --np-modulation-target).
const (
	TargetGain     = "gain"
	TargetMomentum = "momentum"
	TargetTrust    = "trust"
)

// Layer scopes of the hybrid modulation (flag --np-layer-scope). The
// reference's aliases head_only (= classifier_only) and late (= late_blocks)
// are accepted and normalised by New.
const (
	ScopeAll            = "all"
	ScopeConvOnly       = "conv_only"
	ScopeClassifierOnly = "classifier_only"
	ScopeEarlyBlocks    = "early_blocks"
	ScopeLateBlocks     = "late_blocks"
)

// Phase scopes of the hybrid modulation (flag --np-phase-scope).
const (
	PhaseFull   = "full"
	PhaseEarly  = "early"
	PhaseMiddle = "middle"
	PhaseLate   = "late"
)

// Residual branches of the classic base (flag --np-residual).
const (
	ResidualNone       = "none"
	ResidualBounded    = "bounded"
	ResidualOrthogonal = "orthogonal"
)

// Orthogonal-residual normalisations and schedules.
const (
	OrthNormNone     = "none"
	OrthNormMatch    = "match_grad_norm"
	ScheduleConstant = "constant"
	ScheduleLate     = "late"
	ScheduleCosine   = "cosine"
)

// NPConfig holds every option of the NeuroPlastic rule (docs/neuroplastic.md);
// DefaultConfig gives the reference's defaults.
// Each field names its command-line flag.
type NPConfig struct {
	Mode string // --np-mode: rule_based | ablation_grad_only

	// Trace decays (steps 1-2).
	TraceDecay    float64 // --np-trace-decay (0.95)
	MomentumDecay float64 // --np-momentum-decay (0.9)
	VarianceDecay float64 // --np-variance-decay (0.99)

	// Signal weights of the full coefficient (step 5).
	WeightActivity float64 // --np-weight-activity (0.4)
	WeightGrad     float64 // --np-weight-grad (0.4)
	WeightMemory   float64 // --np-weight-memory (0.2)

	MinAlpha        float64 // --np-min-alpha (0.2)
	MaxAlpha        float64 // --np-max-alpha (2.0)
	PlasticityScale float64 // --np-plasticity-scale (1.0)
	WarmupEpochs    int     // --np-warmup-epochs (0 = no warm-up)
	ParamWise       bool    // --np-param-wise (true); false = scalar (mean) coefficient per tensor

	// Homeostatic stabilization (step 10).
	MaxUpdateNorm   float64 // --np-max-update-norm (1.0)
	AdaptationRate  float64 // --np-adaptation-rate (0.01)
	TargetRMS       float64 // --np-target-rms (0.02)
	TargetRMSEarly  float64 // --np-target-rms-early (1.0), factor for the first third
	TargetRMSMiddle float64 // --np-target-rms-middle (1.0)
	TargetRMSLate   float64 // --np-target-rms-late (1.0)

	DecoupledWD bool // --np-decoupled-wd (false = coupled, u += wd*p)

	// Learning-rate controller (step 8).
	Controller      string  // --np-lr-controller: off | global | per_group | classifier_only
	ControllerAlpha float64 // --np-controller-alpha (0.1)
	ControllerMin   float64 // --np-controller-min (0.8)
	ControllerMax   float64 // --np-controller-max (1.2)

	// Hybrid bases (step 7).
	HybridBase         string  // --np-hybrid-base: classic | adamw | sgd_momentum
	ModulationTarget   string  // --np-modulation-target: gain | momentum | trust
	ModulationStrength float64 // --np-modulation-strength (0.15)
	ModulationMaxRatio float64 // --np-modulation-max-ratio (0.25)
	LayerScope         string  // --np-layer-scope: all | conv_only | classifier_only (head_only) | early_blocks | late_blocks (late)
	PhaseScope         string  // --np-phase-scope: full | early | middle | late
	ModulationScope    string  // --np-modulation-scope: alias, sets the layer scope when that is "all"
	ModulationSchedule string  // --np-modulation-schedule: none (= constant, the reference's spelling) | warmup | late; alias, sets the phase scope (early/late) when that is "full"
	BaseMomentum       float64 // --np-base-momentum (0.9)
	BaseBeta2          float64 // --np-base-beta2 (0.999)

	// Residual branches of the classic base.
	Residual           string  // --np-residual: none | bounded | orthogonal
	ResidualMaxRatio   float64 // --np-residual-max-ratio (0.5)
	OrthogonalLambda   float64 // --np-orthogonal-lambda (0.1)
	OrthogonalMaxRatio float64 // --np-orthogonal-max-ratio (0.5)
	OrthogonalNorm     string  // --np-orthogonal-norm: none | match_grad_norm
	OrthogonalSchedule string  // --np-orthogonal-schedule: constant | late | cosine

	// TotalEpochs fixes total_epochs in progress = epoch/total_epochs (phase
	// scopes, orthogonal schedules): 0 = the trainer's number of epochs
	// (SetTotalEpochs); N >= 1 = N whatever the trainer says. 1 reproduces the
	// authors' runner, which never sets it (progress = epoch).
	TotalEpochs int // --np-total-epochs (0)
}

// Config selects and configures one optimizer.
type Config struct {
	Name          string  // --optimizer: neuroplastic | sgd | adam | adamw
	LR            float64 // --lr
	WeightDecay   float64 // --weight-decay (all optimizers)
	Momentum      float64 // --momentum (SGD)
	Beta1         float64 // --beta1 (Adam, AdamW)
	Beta2         float64 // --beta2 (Adam, AdamW)
	Eps           float64 // --adam-eps (Adam, AdamW)
	SkipNonFinite bool    // --skip-nonfinite: skip a step with NaN/Inf gradients instead of failing

	NP NPConfig
}

// DefaultConfig returns NeuroPlastic with the reference's defaults and the usual
// PyTorch defaults for the baselines (momentum 0.9, betas 0.9/0.999, eps 1e-8).
func DefaultConfig() Config {
	return Config{
		Name:        NameNeuroPlastic,
		LR:          0.01,
		WeightDecay: 0,
		Momentum:    0.9,
		Beta1:       0.9,
		Beta2:       0.999,
		Eps:         1e-8,
		NP: NPConfig{
			Mode:               ModeRuleBased,
			TraceDecay:         0.95,
			MomentumDecay:      0.9,
			VarianceDecay:      0.99,
			WeightActivity:     0.4,
			WeightGrad:         0.4,
			WeightMemory:       0.2,
			MinAlpha:           0.2,
			MaxAlpha:           2.0,
			PlasticityScale:    1.0,
			WarmupEpochs:       0,
			ParamWise:          true,
			MaxUpdateNorm:      1.0,
			AdaptationRate:     0.01,
			TargetRMS:          0.02,
			TargetRMSEarly:     1.0,
			TargetRMSMiddle:    1.0,
			TargetRMSLate:      1.0,
			DecoupledWD:        false,
			Controller:         ControllerOff,
			ControllerAlpha:    0.1,
			ControllerMin:      0.8,
			ControllerMax:      1.2,
			HybridBase:         BaseClassic,
			ModulationTarget:   TargetGain,
			ModulationStrength: 0.15,
			ModulationMaxRatio: 0.25,
			LayerScope:         ScopeAll,
			PhaseScope:         PhaseFull,
			ModulationScope:    ScopeAll,
			ModulationSchedule: "none",
			BaseMomentum:       0.9,
			BaseBeta2:          0.999,
			Residual:           ResidualNone,
			ResidualMaxRatio:   0.5,
			OrthogonalLambda:   0.1,
			OrthogonalMaxRatio: 0.5,
			OrthogonalNorm:     OrthNormNone,
			OrthogonalSchedule: ScheduleConstant,
		},
	}
}

// invalid is the error of a bad option, named as its flag in flags.go
// (the command line shows it as --name).
func invalid(name, format string, a ...any) error {
	return fmt.Errorf("invalid %w", paramerr.Errorf(name, format, a...))
}

func oneOf(flag, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return invalid(flag, "%q: want one of %s", v, strings.Join(allowed, ", "))
}

func finite(flag string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return invalid(flag, "%v: must be finite", v)
	}
	return nil
}

func nonNeg(flag string, v float64) error {
	if err := finite(flag, v); err != nil {
		return err
	}
	if v < 0 {
		return invalid(flag, "%v: must be >= 0", v)
	}
	return nil
}

func positive(flag string, v float64) error {
	if err := finite(flag, v); err != nil {
		return err
	}
	if v <= 0 {
		return invalid(flag, "%v: must be > 0", v)
	}
	return nil
}

// unitOpen checks 0 <= v < 1 (a decay or beta).
func unitOpen(flag string, v float64) error {
	if err := finite(flag, v); err != nil {
		return err
	}
	if v < 0 || v >= 1 {
		return invalid(flag, "%v: must be in [0, 1)", v)
	}
	return nil
}

// Validate checks every option and returns an error naming the first bad
// one (a param.Error with the option's flag name, e.g. "np-min-alpha"). It also normalises the aliases of the NeuroPlastic scopes.
func (c *Config) Validate() error {
	if err := oneOf("optimizer", c.Name, NameNeuroPlastic, NameSGD, NameAdam, NameAdamW); err != nil {
		return err
	}
	if err := positive("lr", c.LR); err != nil {
		return err
	}
	if err := nonNeg("weight-decay", c.WeightDecay); err != nil {
		return err
	}
	switch c.Name {
	case NameSGD:
		return unitOpen("momentum", c.Momentum)
	case NameAdam, NameAdamW:
		if err := unitOpen("beta1", c.Beta1); err != nil {
			return err
		}
		if err := unitOpen("beta2", c.Beta2); err != nil {
			return err
		}
		return positive("adam-eps", c.Eps)
	}
	return c.NP.validate()
}

func (n *NPConfig) validate() error {
	if err := oneOf("np-mode", n.Mode, ModeRuleBased, ModeGradOnly); err != nil {
		return err
	}
	for _, d := range []struct {
		flag string
		v    float64
	}{{"np-trace-decay", n.TraceDecay}, {"np-momentum-decay", n.MomentumDecay}, {"np-variance-decay", n.VarianceDecay},
		{"np-base-momentum", n.BaseMomentum}, {"np-base-beta2", n.BaseBeta2}} {
		if err := unitOpen(d.flag, d.v); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		flag string
		v    float64
	}{{"np-weight-activity", n.WeightActivity}, {"np-weight-grad", n.WeightGrad}, {"np-weight-memory", n.WeightMemory},
		{"np-plasticity-scale", n.PlasticityScale}, {"np-adaptation-rate", n.AdaptationRate},
		{"np-target-rms-early", n.TargetRMSEarly}, {"np-target-rms-middle", n.TargetRMSMiddle}, {"np-target-rms-late", n.TargetRMSLate},
		{"np-controller-alpha", n.ControllerAlpha}, {"np-modulation-strength", n.ModulationStrength},
		{"np-orthogonal-lambda", n.OrthogonalLambda}, {"np-min-alpha", n.MinAlpha}} {
		if err := nonNeg(d.flag, d.v); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		flag string
		v    float64
	}{{"np-max-alpha", n.MaxAlpha}, {"np-max-update-norm", n.MaxUpdateNorm}, {"np-target-rms", n.TargetRMS},
		{"np-controller-min", n.ControllerMin}, {"np-controller-max", n.ControllerMax},
		{"np-modulation-max-ratio", n.ModulationMaxRatio}, {"np-residual-max-ratio", n.ResidualMaxRatio},
		{"np-orthogonal-max-ratio", n.OrthogonalMaxRatio}} {
		if err := positive(d.flag, d.v); err != nil {
			return err
		}
	}
	if n.MinAlpha >= n.MaxAlpha {
		return invalid("np-min-alpha", "%v: must be below np-max-alpha %v", n.MinAlpha, n.MaxAlpha)
	}
	if n.ControllerMin > n.ControllerMax {
		return invalid("np-controller-min", "%v: must not exceed np-controller-max %v", n.ControllerMin, n.ControllerMax)
	}
	if n.WarmupEpochs < 0 {
		return invalid("np-warmup-epochs", "%d: must be >= 0", n.WarmupEpochs)
	}
	if n.TotalEpochs < 0 {
		return invalid("np-total-epochs", "%d: must be >= 0 (0 = the trainer's epochs)", n.TotalEpochs)
	}
	if err := oneOf("np-lr-controller", n.Controller, ControllerOff, ControllerGlobal, ControllerPerGroup, ControllerClassifierOnly); err != nil {
		return err
	}
	if err := oneOf("np-hybrid-base", n.HybridBase, BaseClassic, BaseAdamW, BaseSGDMomentum); err != nil {
		return err
	}
	if err := oneOf("np-modulation-target", n.ModulationTarget, TargetGain, TargetMomentum, TargetTrust); err != nil {
		return err
	}
	scopes := []string{ScopeAll, ScopeConvOnly, ScopeClassifierOnly, "head_only", ScopeEarlyBlocks, ScopeLateBlocks, "late"}
	if err := oneOf("np-layer-scope", n.LayerScope, scopes...); err != nil {
		return err
	}
	if err := oneOf("np-modulation-scope", n.ModulationScope, scopes...); err != nil {
		return err
	}
	if err := oneOf("np-phase-scope", n.PhaseScope, PhaseFull, PhaseEarly, PhaseMiddle, PhaseLate); err != nil {
		return err
	}
	if err := oneOf("np-modulation-schedule", n.ModulationSchedule, "none", "constant", "warmup", "late"); err != nil {
		return err
	}
	if err := oneOf("np-residual", n.Residual, ResidualNone, ResidualBounded, ResidualOrthogonal); err != nil {
		return err
	}
	if err := oneOf("np-orthogonal-norm", n.OrthogonalNorm, OrthNormNone, OrthNormMatch); err != nil {
		return err
	}
	if err := oneOf("np-orthogonal-schedule", n.OrthogonalSchedule, ScheduleConstant, ScheduleLate, ScheduleCosine); err != nil {
		return err
	}
	if n.Residual != ResidualNone && n.HybridBase != BaseClassic {
		return invalid("np-residual", "%q: residual branches apply to np-hybrid-base classic only, not %q", n.Residual, n.HybridBase)
	}
	// Aliases of the reference.
	n.LayerScope = canonicalScope(n.LayerScope)
	n.ModulationScope = canonicalScope(n.ModulationScope)
	if n.LayerScope == ScopeAll {
		n.LayerScope = n.ModulationScope
	}
	if n.PhaseScope == PhaseFull {
		switch n.ModulationSchedule {
		case "warmup":
			n.PhaseScope = PhaseEarly
		case "late":
			n.PhaseScope = PhaseLate
		}
	}
	return nil
}

func canonicalScope(s string) string {
	switch s {
	case "head_only":
		return ScopeClassifierOnly
	case "late":
		return ScopeLateBlocks
	}
	return s
}
