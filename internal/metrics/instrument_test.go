/*
Copyright 2026 The subaccount-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// stubClient answers every call with err after delay.
type stubClient struct {
	err   error
	delay time.Duration
	// clock, when set, is the fake clock (nanoseconds) the call advances.
	clock *atomic.Int64
	caps  *platform.Capabilities
}

func (s *stubClient) Capabilities() platform.Capabilities {
	if s.caps == nil {
		return platform.FullCapabilities()
	}
	return *s.caps
}

func (s *stubClient) do() error {
	if s.clock != nil {
		s.clock.Add(int64(s.delay)) // the call takes delay on the test clock
	}
	return s.err
}

func (s *stubClient) ShopInfo(context.Context) (platform.ShopInfo, error) {
	return platform.ShopInfo{}, s.do()
}
func (s *stubClient) Permissions(context.Context) ([]platform.Permission, error) { return nil, s.do() }
func (s *stubClient) ListRoles(context.Context) ([]platform.Role, error)         { return nil, s.do() }
func (s *stubClient) GetRole(context.Context, string) (platform.Role, error) {
	return platform.Role{}, s.do()
}
func (s *stubClient) CreateRole(context.Context, platform.RoleSpec, string) (platform.Role, error) {
	return platform.Role{}, s.do()
}
func (s *stubClient) UpdateRole(context.Context, string, platform.RoleSpec) (platform.Role, error) {
	return platform.Role{}, s.do()
}
func (s *stubClient) DeleteRole(context.Context, string) error { return s.do() }
func (s *stubClient) ListAccounts(context.Context, platform.ListOptions) (platform.AccountPage, error) {
	return platform.AccountPage{}, s.do()
}
func (s *stubClient) GetAccount(context.Context, string) (platform.Account, error) {
	return platform.Account{}, s.do()
}
func (s *stubClient) FindAccount(context.Context, string) (platform.Account, error) {
	return platform.Account{}, s.do()
}
func (s *stubClient) CreateAccount(context.Context, platform.CreateAccount, string) (platform.Account, error) {
	return platform.Account{}, s.do()
}
func (s *stubClient) UpdateAccount(context.Context, string, platform.AccountState) (platform.Account, error) {
	return platform.Account{}, s.do()
}
func (s *stubClient) SetPassword(context.Context, string, string) error { return s.do() }
func (s *stubClient) DeleteAccount(context.Context, string) error       { return s.do() }
func (s *stubClient) CheckCredentials(context.Context, string, string) (bool, error) {
	return false, s.do()
}
func (s *stubClient) VerifyAccount(context.Context, string, string) (platform.Account, error) {
	return platform.Account{}, s.do()
}
func (s *stubClient) ResendVerification(context.Context, string) (platform.Account, error) {
	return platform.Account{}, s.do()
}
func (s *stubClient) RequestCode(context.Context, platform.CodeRequest, string) (platform.Verification, error) {
	return platform.Verification{}, s.do()
}
func (s *stubClient) ChangePhone(context.Context, string, platform.VerificationCode) (platform.Account, error) {
	return platform.Account{}, s.do()
}
func (s *stubClient) SetSeatCapacity(context.Context, string, int32, platform.SubAccountLogin) (platform.Account, error) {
	return platform.Account{}, s.do()
}

// stubFactory hands out one stubClient.
func stubFactory(c *stubClient) platform.Factory {
	return platform.FactoryFunc(func(context.Context, platform.ShopConfig) (platform.Client, error) { return c, nil })
}

// shopConfig is a shop in namespace ns, with credentials that must never
// show up in a label.
func shopConfig(ns, name string) platform.ShopConfig {
	return platform.ShopConfig{
		Key: ns + "/" + name, Platform: platform.Taobao, MainAccount: "main-" + name,
		Credentials: platform.Credentials{AppKey: "key-SECRET", AppSecret: "secret-SECRET", AccessToken: "token-SECRET"},
	}
}

// histogram returns the sample count and sum of the series of the
// histogram name in controller-runtime's registry whose labels include want.
func histogram(t *testing.T, name string, want map[string]string) (uint64, float64) {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var count uint64
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue series
				}
			}
			count += m.GetHistogram().GetSampleCount()
			sum += m.GetHistogram().GetSampleSum()
		}
	}
	return count, sum
}

func TestResult(t *testing.T) {
	cases := map[string]error{
		"ok":              nil,
		"not_found":       platform.ErrNotFound,
		"name_taken":      platform.NewError(platform.ErrNameTaken, "name", "taken"),
		"invalid":         fmt.Errorf("creating: %w", platform.NewError(platform.ErrInvalid, "phone", "bad")),
		"unauthorized":    platform.ErrUnauthorized,
		"forbidden":       platform.ErrForbidden,
		"rate_limited":    &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: time.Second},
		"quota_exhausted": platform.ErrQuotaExhausted,
		"conflict":        platform.ErrConflict,
		"not_supported":   platform.ErrNotSupported,
		"transient":       platform.ErrTransient,
		"other":           errors.New("connection refused"),
	}
	for want, err := range cases {
		if got := Result(err); got != want {
			t.Errorf("Result(%v) = %q, want %q", err, got, want)
		}
	}
	if got := Result(context.Canceled); got != ResultOther {
		t.Errorf("Result(context.Canceled) = %q, want other", got)
	}
}

// Each call is counted once under its result: ok, or its error's kind.
func TestInstrumentFactoryCountsResults(t *testing.T) {
	ns := freshNamespace("ns-results")
	stub := &stubClient{}
	cfg := shopConfig(ns, "hongxing")
	c, err := InstrumentFactory(stubFactory(stub)).ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		err    error
		result string
	}{
		{nil, "ok"},
		{nil, "ok"},
		{platform.NewError(platform.ErrUnauthorized, "", "bad token"), "unauthorized"},
		{fmt.Errorf("wrapped: %w", platform.ErrRateLimited), "rate_limited"},
		{platform.ErrTransient, "transient"},
		{errors.New("dial tcp: connection refused"), "other"},
	}
	for _, call := range calls {
		stub.err = call.err
		if _, err := c.ShopInfo(context.Background()); !errors.Is(err, call.err) {
			t.Fatalf("ShopInfo returned %v, want the inner error %v", err, call.err)
		}
	}
	want := map[string]float64{"ok": 2, "unauthorized": 1, "rate_limited": 1, "transient": 1, "other": 1, "not_found": 0}
	for result, n := range want {
		got := testutil.ToFloat64(platformCalls.WithLabelValues(ns, "hongxing", "taobao", "ShopInfo", result))
		if got != n {
			t.Errorf("calls{result=%q} = %v, want %v", result, got, n)
		}
	}
	if count, _ := histogram(t, PlatformCallDurationName, map[string]string{"namespace": ns, "method": "ShopInfo"}); count != 6 {
		t.Errorf("duration histogram has %d samples, want 6", count)
	}
}

// Durations are observed per method and result.
func TestInstrumentFactoryObservesDurations(t *testing.T) {
	ns := freshNamespace("ns-durations")
	var clock atomic.Int64
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	now = func() time.Time { return start.Add(time.Duration(clock.Load())) }
	t.Cleanup(func() { now = time.Now })
	stub := &stubClient{delay: 30 * time.Millisecond, err: platform.ErrNotFound, clock: &clock}
	c, err := InstrumentFactory(stubFactory(stub)).ClientFor(context.Background(), shopConfig(ns, "hongxing"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, _ = c.FindAccount(context.Background(), "xiaohong")
	}
	count, sum := histogram(t, PlatformCallDurationName, map[string]string{
		"namespace": ns, "shop": "hongxing", "platform": "taobao", "method": "FindAccount", "result": "not_found"})
	if count != 2 {
		t.Fatalf("FindAccount duration samples = %d, want 2", count)
	}
	if math.Abs(sum-0.06) > 1e-9 {
		t.Errorf("FindAccount durations sum to %vs, want 0.06s", sum)
	}
}

// Every method of platform.Client is instrumented under its own name.
func TestInstrumentFactoryCoversEveryMethod(t *testing.T) {
	ns := freshNamespace("ns-methods")
	c, err := InstrumentFactory(stubFactory(&stubClient{})).ClientFor(context.Background(), shopConfig(ns, "hongxing"))
	if err != nil {
		t.Fatal(err)
	}
	iface := reflect.TypeFor[platform.Client]()
	v := reflect.ValueOf(c)
	for i := range iface.NumMethod() {
		m := iface.Method(i)
		fn := v.MethodByName(m.Name)
		args := make([]reflect.Value, fn.Type().NumIn())
		args[0] = reflect.ValueOf(context.Background())
		for j := 1; j < len(args); j++ {
			args[j] = reflect.Zero(fn.Type().In(j))
		}
		fn.Call(args)
		if got := testutil.ToFloat64(platformCalls.WithLabelValues(ns, "hongxing", "taobao", m.Name, "ok")); got != 1 {
			t.Errorf("calls{method=%q} = %v after one call, want 1", m.Name, got)
		}
	}
}

// The decorator passes on what the driver can do, also behind the limiter,
// and passes ClientFor errors on unchanged.
func TestInstrumentFactoryPassesCapabilities(t *testing.T) {
	ns := freshNamespace("ns-caps")
	caps := platform.FullCapabilities()
	caps.CreateAccount, caps.UpdateRole = false, false
	stub := &stubClient{caps: &caps}
	for name, f := range map[string]platform.Factory{
		"InstrumentFactory": InstrumentFactory(stubFactory(stub)),
		"LimitedFactory":    LimitedFactory(stubFactory(stub)),
	} {
		c, err := f.ClientFor(context.Background(), shopConfig(ns, "hongxing"))
		if err != nil {
			t.Fatal(err)
		}
		if got := platform.CapabilitiesOf(c); got != caps {
			t.Errorf("%s: CapabilitiesOf = %+v, want the driver's %+v", name, got, caps)
		}
	}
	boom := errors.New("no such shop")
	f := InstrumentFactory(platform.FactoryFunc(func(context.Context, platform.ShopConfig) (platform.Client, error) { return nil, boom }))
	if c, err := f.ClientFor(context.Background(), shopConfig(ns, "x")); !errors.Is(err, boom) || c != nil {
		t.Errorf("ClientFor = %v, %v; want nil, the inner error", c, err)
	}
}

// LimitedFactory observes each wait for the shop's token bucket, and the
// call durations exclude those waits.
func TestLimitedFactoryObservesWaits(t *testing.T) {
	ns := freshNamespace("ns-wait")
	cfg := shopConfig(ns, "hongxing")
	cfg.RequestsPerSecond, cfg.Burst = 20, 1 // a token every 50ms
	c, err := LimitedFactory(stubFactory(&stubClient{})).ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.ListRoles(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	count, waited := histogram(t, RateLimitWaitName, map[string]string{"namespace": ns, "shop": "hongxing"})
	if count != 3 {
		t.Fatalf("wait samples = %d, want 3", count)
	}
	if waited < 0.06 {
		t.Errorf("waits sum to %vs, want about 0.1s (two calls after the burst)", waited)
	}
	count, took := histogram(t, PlatformCallDurationName, map[string]string{"namespace": ns, "method": "ListRoles"})
	if count != 3 {
		t.Fatalf("duration samples = %d, want 3", count)
	}
	if took > 0.03 {
		t.Errorf("call durations sum to %vs: they include the rate-limit wait", took)
	}
}

// ObserveRateLimitWait splits the shop key into namespace and shop.
func TestObserveRateLimitWait(t *testing.T) {
	ns := freshNamespace("ns-observe")
	ObserveRateLimitWait(ns+"/hongxing", 250*time.Millisecond)
	bare := freshNamespace("no-namespace") // a key without a slash
	ObserveRateLimitWait(bare, 0)
	if count, sum := histogram(t, RateLimitWaitName, map[string]string{"namespace": ns, "shop": "hongxing"}); count != 1 || sum != 0.25 {
		t.Errorf("wait of %s/hongxing: %d samples summing to %v, want 1 and 0.25", ns, count, sum)
	}
	if count, _ := histogram(t, RateLimitWaitName, map[string]string{"namespace": "", "shop": bare}); count != 1 {
		t.Errorf("wait of a key without namespace: %d samples, want 1", count)
	}
}

func TestDriftCorrected(t *testing.T) {
	ns := freshNamespace("ns-drift")
	DriftCorrected(ns, "hongxing", "Role")
	DriftCorrected(ns, "hongxing", "SubAccount")
	DriftCorrected(ns, "hongxing", "SubAccount")
	if got := testutil.ToFloat64(driftCorrections.WithLabelValues(ns, "hongxing", "SubAccount")); got != 2 {
		t.Errorf("SubAccount drift corrections = %v, want 2", got)
	}
	if got := testutil.ToFloat64(driftCorrections.WithLabelValues(ns, "hongxing", "Role")); got != 1 {
		t.Errorf("Role drift corrections = %v, want 1", got)
	}
}

// No label value holds a credential, and the metric names pass promlint.
func TestNoSecretsInLabels(t *testing.T) {
	ns := freshNamespace("ns-secrets")
	cfg := shopConfig(ns, "hongxing")
	c, err := LimitedFactory(stubFactory(&stubClient{})).ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetPassword(context.Background(), "id-1", "password-SECRET")
	_, _ = c.CheckCredentials(context.Background(), "xiaohong", "password-SECRET")
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "SECRET") {
					t.Errorf("%s has label %s=%q", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	problems, err := testutil.GatherAndLint(ctrlmetrics.Registry, PlatformCallsName, PlatformCallDurationName, RateLimitWaitName)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// namespaceSeq numbers the namespaces the tests count under: the metrics
// are global, and under go test -count=N each run must count afresh.
var namespaceSeq atomic.Int64

func freshNamespace(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, namespaceSeq.Add(1))
}
