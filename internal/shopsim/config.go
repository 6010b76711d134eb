package shopsim

import (
	"fmt"
	"log/slog"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// config is the --config file.
type config struct {
	Shops []shopConfig `json:"shops"`
}

// shopConfig is one shop of the config. Each credential is given either
// literally or as the name of an environment variable (…Env).
type shopConfig struct {
	Platform    platform.Name `json:"platform"`
	MainAccount string        `json:"mainAccount"`
	MainPhone   string        `json:"mainPhone,omitempty"`
	SeatQuota   int32         `json:"seatQuota"`
	// PhoneVerification, on Douyin, is BeforeCreate (the default: the code
	// first) or AfterCreate (the account first, as gateways of the
	// protocol's first revision do).
	PhoneVerification platform.PhoneVerification `json:"phoneVerification,omitempty"`
	AppKey            string                     `json:"appKey,omitempty"`
	AppKeyEnv         string                     `json:"appKeyEnv,omitempty"`
	AppSecret         string                     `json:"appSecret,omitempty"`
	AppSecretEnv      string                     `json:"appSecretEnv,omitempty"`
	AccessToken       string                     `json:"accessToken,omitempty"`
	AccessTokenEnv    string                     `json:"accessTokenEnv,omitempty"`
	// ServiceOff and SeatLedger (Taobao shops only): the sub-account
	// service not switched on yet, and the seats given, claimed and bought
	// (seatQuota is then claimed plus bought).
	ServiceOff bool        `json:"serviceOff,omitempty"`
	SeatLedger *seatLedger `json:"seatLedger,omitempty"`
}

// seatLedger is a Taobao shop's seats in the config.
type seatLedger struct {
	FreeGiven   int32 `json:"freeGiven"`
	FreeClaimed int32 `json:"freeClaimed"`
	Bought      int32 `json:"bought"`
}

// LoadConfig reads the config and resolves the credentials. Errors name
// the shop and the field, never a credential's value.
func LoadConfig(path string, getenv func(string) string) ([]memory.ShopSetup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var cfg config
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	out := make([]memory.ShopSetup, 0, len(cfg.Shops))
	for i, s := range cfg.Shops {
		where := fmt.Sprintf("config %s: shops[%d] (%s/%s)", path, i, s.Platform, s.MainAccount)
		var creds platform.Credentials
		for _, c := range []struct {
			name       string
			value, env string
			dst        *string
		}{
			{"appKey", s.AppKey, s.AppKeyEnv, &creds.AppKey},
			{"appSecret", s.AppSecret, s.AppSecretEnv, &creds.AppSecret},
			{"accessToken", s.AccessToken, s.AccessTokenEnv, &creds.AccessToken},
		} {
			switch {
			case c.value != "" && c.env != "":
				return nil, fmt.Errorf("%s: give %s or %sEnv, not both", where, c.name, c.name)
			case c.env != "":
				*c.dst = getenv(c.env)
				if *c.dst == "" {
					return nil, fmt.Errorf("%s: %sEnv names $%s, which is empty or unset", where, c.name, c.env)
				}
			case c.value != "":
				*c.dst = c.value
			default:
				return nil, fmt.Errorf("%s: %s (or %sEnv) is required", where, c.name, c.name)
			}
		}
		setup := memory.ShopSetup{Platform: s.Platform, MainAccount: s.MainAccount, MainPhone: s.MainPhone,
			Credentials: creds, SeatQuota: s.SeatQuota, PhoneVerification: s.PhoneVerification,
			ServiceOff: s.ServiceOff}
		if l := s.SeatLedger; l != nil {
			setup.SeatLedger = &platform.SeatLedger{FreeGiven: l.FreeGiven, FreeClaimed: l.FreeClaimed, Bought: l.Bought}
		}
		out = append(out, setup)
	}
	return out, nil
}

// AddShops adds the shops the engine does not have yet; shops it has (from
// the state file) are kept as they are.
func AddShops(engine *memory.Engine, shops []memory.ShopSetup, log *slog.Logger) error {
	for _, s := range shops {
		if current, ok := engine.ShopCredentials(s.Platform, s.MainAccount); ok {
			if current != s.Credentials {
				log.Warn("the state file's credentials for this shop differ from the config's; keeping the state file's",
					"platform", s.Platform, "mainAccount", s.MainAccount)
			}
			continue
		}
		if err := engine.AddShop(s); err != nil {
			return fmt.Errorf("adding shop %s/%s: %w", s.Platform, s.MainAccount, err)
		}
	}
	return nil
}
