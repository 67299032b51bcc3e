package cli

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/agentctl/agentctl/pkg/audit"
)

// adminFlags is audit.flags in the admin config: when the behavioural
// flags are raised. Unset fields keep audit.DefaultFlagConfig.
type adminFlags struct {
	// Off turns every flag off.
	Off bool `yaml:"off"`
	// Denials and WriteBurst are a count within a window (count 0: off).
	Denials    *adminThreshold `yaml:"denials"`
	WriteBurst *adminThreshold `yaml:"writeBurst"`
	// NewTarget and NewClass turn those flags on or off.
	NewTarget *bool `yaml:"newTarget"`
	NewClass  *bool `yaml:"newClass"`
}

type adminThreshold struct {
	Count  int    `yaml:"count"`
	Window string `yaml:"window"`
}

func (t *adminThreshold) threshold(key string, def audit.Threshold) (audit.Threshold, error) {
	if t == nil {
		return def, nil
	}
	out := audit.Threshold{Count: t.Count, Window: def.Window}
	if t.Count < 0 {
		return out, fmt.Errorf("%s.count %d is negative", key, t.Count)
	}
	if t.Window != "" {
		w, err := time.ParseDuration(t.Window)
		if err != nil || w <= 0 {
			return out, fmt.Errorf("%s.window %q is not a positive duration (10m, 1h)", key, t.Window)
		}
		out.Window = w
	}
	return out, nil
}

// config is the tracker's configuration these settings make.
func (a *adminFlags) config() (audit.FlagConfig, error) {
	cfg := audit.DefaultFlagConfig()
	var err error
	if cfg.Denials, err = a.Denials.threshold("denials", cfg.Denials); err != nil {
		return cfg, err
	}
	if cfg.Writes, err = a.WriteBurst.threshold("writeBurst", cfg.Writes); err != nil {
		return cfg, err
	}
	if a.NewTarget != nil {
		cfg.NewTarget = *a.NewTarget
	}
	if a.NewClass != nil {
		cfg.NewClass = *a.NewClass
	}
	return cfg, nil
}

func (a *adminFlags) validate() error {
	_, err := a.config()
	return err
}

// flagTracker is the tracker of the behavioural flags over the audit log
// at logPath, its summary beside the lockout state; nil when the admin
// config turns the flags off.
func flagTracker(f *Factory, logPath string) (*audit.Tracker, error) {
	admin, err := loadAdmin(f)
	if err != nil {
		return nil, err
	}
	if admin.Audit.Flags.Off {
		return nil, nil
	}
	cfg, err := admin.Audit.Flags.config()
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: audit.flags: %w", filepath.Join(f.adminDir(), "config.yaml"), err)}
	}
	return &audit.Tracker{Log: logPath, State: filepath.Join(stateDir(f), "flags-state.json"), Config: cfg}, nil
}
