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

package controller

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	gomegatypes "github.com/onsi/gomega/types"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/controlplane"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// The envtest suite: a real kube-apiserver and etcd (built by
// hack/envtest-assets.sh), the three controllers in a manager, and the
// in-memory platform engine that enforces the platforms' rules.
var (
	k8s    client.Client // uncached, to see exactly what the API server holds
	engine *memory.Engine
	scheme = runtime.NewScheme()
	// restConfig reaches the control plane (for the tests' own managers).
	restConfig *rest.Config
	// suiteManager is the manager of the suite, for tests that start
	// managers of their own and put the suite's state metrics back.
	suiteManager ctrl.Manager
)

// shardLabel puts a test's objects in the shard of a manager the test
// starts (TestShards); the suite's manager leaves every object carrying it
// alone (suiteScope).
const shardLabel = "test.subaccount.io/shard"

// suiteScope is the suite manager's scope: every namespace, every object
// without shardLabel.
func suiteScope() (Scope, error) {
	return ParseScope("", "!"+shardLabel)
}

const (
	timeout  = 20 * time.Second
	interval = 50 * time.Millisecond
	// testBatchDelay is the status batch delay of the suite's manager:
	// short, so seat and member counts follow quickly, yet long enough to
	// batch a burst.
	testBatchDelay = 200 * time.Millisecond
)

// TestMain runs the tests; the control plane is started only when the
// first test that needs it asks (useEnvtest), so the pure tests run with a
// plain 'go test' and no KUBEBUILDER_ASSETS.
func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(shopv1alpha1.AddToScheme(scheme))
	code := m.Run()
	if err := suite.stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// requireEnvtestVar, when set (make test sets it), makes a test that needs
// the control plane fail without KUBEBUILDER_ASSETS instead of skipping, so
// CI can never skip the envtest tests silently.
const requireEnvtestVar = "REQUIRE_ENVTEST"

// suite is the control plane and manager the envtest tests share, started
// once by the first of them.
var suite sharedSuite

type sharedSuite struct {
	once   sync.Once
	err    error
	cp     *controlplane.ControlPlane
	cancel context.CancelFunc
	done   chan error
}

// useEnvtest starts the shared control plane and manager unless they run
// already. Without KUBEBUILDER_ASSETS the test is skipped, or fails when
// REQUIRE_ENVTEST is set.
func useEnvtest(t *testing.T) {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		msg := "KUBEBUILDER_ASSETS is not set: this test needs the control plane; run it with 'make test', which builds the control plane into bin/"
		if os.Getenv(requireEnvtestVar) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	suite.once.Do(func() { suite.err = suite.start() })
	if suite.err != nil {
		t.Fatalf("the shared control plane did not start: %v", suite.err)
	}
}

func (s *sharedSuite) start() error {
	cp, err := controlplane.Start(controlplane.Options{CRDDir: filepath.Join("..", "..", "config", "crd", "bases")})
	if err != nil {
		return fmt.Errorf("starting envtest: %w", err)
	}
	s.cp = cp
	cfg := cp.Config
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	restConfig = cfg
	scope, err := suiteScope()
	if err != nil {
		return err
	}
	cacheOpts, err := scope.CacheOptions()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cacheOpts,
		Controller:             config.Controller{SkipNameValidation: ptrTo(true)},
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	// The platform reads the same clock as the controllers, so moving it
	// moves code expiry and send limits too.
	engine = memory.NewEngine(memory.WithClock(testNow))
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	suiteManager = mgr
	if err := Setup(ctx, mgr, platform.NewLimitedFactory(shopInfoCounter{capabilityFactory{engine.Factory()}}), WithClock(testNow),
		WithStatusBatchDelay(testBatchDelay), WithScope(scope)); err != nil {
		return fmt.Errorf("setting up controllers: %w", err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- mgr.Start(ctx) }()
	return nil
}

// stop stops the manager and the control plane, if they were started.
func (s *sharedSuite) stop() error {
	if s.cp == nil {
		return nil
	}
	var errs []error
	if s.cancel != nil {
		s.cancel()
	}
	if s.done != nil {
		if err := <-s.done; err != nil {
			errs = append(errs, fmt.Errorf("manager: %w", err))
		}
	}
	if err := s.cp.Stop(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE") != "" {
		return -2
	}
	return 2 // errors only: the reconcilers' expected errors would drown the output
}

func ptrTo[T any](v T) *T { return &v }

// clockOffset shifts the controllers' clock; tests move it instead of
// waiting for a schedule boundary.
var clockOffset atomic.Int64

func testNow() time.Time { return time.Now().Add(time.Duration(clockOffset.Load())) }

// setClock makes the controllers' clock read at, running on from there, and
// puts it back when the test ends.
func setClock(t *testing.T, at time.Time) {
	t.Helper()
	clockOffset.Store(int64(time.Until(at)))
	t.Cleanup(func() { clockOffset.Store(0) })
}

// ---- fixtures ----

// newNamespace creates a namespace of its own for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	useEnvtest(t)
	name := "t-" + randomSuffix()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return name
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// testShop is a Shop on the engine and in the cluster.
type testShop struct {
	ns, name, main string
	platform       platform.Name
	creds          platform.Credentials
}

// newShop registers a shop with the engine (quota seats) and creates its
// credentials Secret and Shop in ns; mutate adjusts the Shop before create.
func newShop(t *testing.T, ns string, p platform.Name, quota int32, mutate func(*shopv1alpha1.Shop)) testShop {
	t.Helper()
	return newShopWith(t, ns, "shop", "main-"+randomSuffix(), p, quota, mutate)
}

// newShopNamed is a Taobao shop with a given name and main account.
func newShopNamed(t *testing.T, ns, name, main string) testShop {
	t.Helper()
	return newShopWith(t, ns, name, main, platform.Taobao, 10, nil)
}

func newShopWith(t *testing.T, ns, name, main string, p platform.Name, quota int32, mutate func(*shopv1alpha1.Shop)) testShop {
	t.Helper()
	ts := testShop{ns: ns, name: name, main: main, platform: p,
		creds: platform.Credentials{AppKey: "ak-" + randomSuffix(), AppSecret: "as-" + randomSuffix(), AccessToken: "at-" + randomSuffix()}}
	if err := engine.AddShop(memory.ShopSetup{Platform: p, MainAccount: ts.main, Credentials: ts.creds, SeatQuota: quota}); err != nil {
		t.Fatalf("adding shop to engine: %v", err)
	}
	ts.createIn(t, ns, mutate)
	return ts
}

// createIn creates the Shop and its API Secret in ns. Called again with
// another namespace, it makes a second Shop naming the same platform shop.
func (ts testShop) createIn(t *testing.T, ns string, mutate func(*shopv1alpha1.Shop)) {
	t.Helper()
	name := ts.name
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-api", Labels: map[string]string{shopv1alpha1.LabelSecretRole: "shop-api"}},
		StringData: map[string]string{
			shopv1alpha1.SecretKeyAppKey: ts.creds.AppKey, shopv1alpha1.SecretKeyAppSecret: ts.creds.AppSecret,
			shopv1alpha1.SecretKeyAccessToken: ts.creds.AccessToken,
		},
	}
	create(t, secret)
	shop := &shopv1alpha1.Shop{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ts.name},
		Spec: shopv1alpha1.ShopSpec{
			Platform: shopv1alpha1.Platform(ts.platform), MainAccount: ts.main,
			CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: name + "-api"},
			RateLimit:            shopv1alpha1.RateLimit{RequestsPerSecond: 1000, Burst: 1000},
		},
	}
	if mutate != nil {
		mutate(shop)
	}
	create(t, shop)
}

// client is a platform client for the shop, standing in for someone working
// in the merchant back office.
func (ts testShop) client(t *testing.T) platform.Client {
	t.Helper()
	c, err := engine.Factory().ClientFor(context.Background(), platform.ShopConfig{Platform: ts.platform, MainAccount: ts.main, Credentials: ts.creds})
	if err != nil {
		t.Fatalf("platform client: %v", err)
	}
	return c
}

// account returns the shop's platform account with the given name.
func (ts testShop) account(t *testing.T, name string) (platform.Account, bool) {
	t.Helper()
	for _, a := range engine.Accounts(ts.platform, ts.main) {
		if a.Name == name {
			return a, true
		}
	}
	return platform.Account{}, false
}

func newRole(ns, name, display string, tmpl shopv1alpha1.RoleTemplate, perms ...string) *shopv1alpha1.Role {
	return &shopv1alpha1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: shopv1alpha1.RoleSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: "shop"},
			DisplayName: display, Template: tmpl, Permissions: perms},
	}
}

func newSubAccount(ns, name string, roles ...string) *shopv1alpha1.SubAccount {
	sa := &shopv1alpha1.SubAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       shopv1alpha1.SubAccountSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: "shop"}, AccountName: name},
	}
	for _, r := range roles {
		sa.Spec.Roles = append(sa.Spec.Roles, shopv1alpha1.LocalObjectReference{Name: r})
	}
	return sa
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// update re-reads obj, applies mutate and writes it, retrying on conflicts.
func update[T client.Object](t *testing.T, obj T, mutate func(T)) {
	t.Helper()
	NewWithT(t).Eventually(func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		return k8s.Update(context.Background(), obj)
	}, timeout, interval).Should(Succeed())
}

// ---- waiting on outcomes ----

// kstatusOf computes the kstatus of obj as GitOps tools would.
func kstatusOf(obj client.Object) (status.Status, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return "", err
	}
	res, err := status.Compute(&unstructured.Unstructured{Object: u})
	if err != nil {
		return "", err
	}
	return res.Status, nil
}

// waitCurrent waits until obj is Ready for its current generation and
// kstatus calls it Current, as a GitOps health check would. (kstatus alone
// calls an object with no status at all Current.)
func waitCurrent(t *testing.T, obj client.Object) {
	t.Helper()
	NewWithT(t).Eventually(func() (status.Status, error) {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return "", err
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return "", err
		}
		gen, _, _ := unstructured.NestedInt64(u, "status", "observedGeneration")
		conds, _, _ := unstructured.NestedSlice(u, "status", "conditions")
		ready := false
		for _, c := range conds {
			m, _ := c.(map[string]any)
			ready = ready || (m["type"] == shopv1alpha1.ConditionReady && m["status"] == string(metav1.ConditionTrue))
		}
		if !ready || gen != obj.GetGeneration() {
			return status.InProgressStatus, nil
		}
		return kstatusOf(obj)
	}, timeout, interval).Should(Equal(status.CurrentStatus), func() string {
		return fmt.Sprintf("%T %s never became Current: %s", obj, obj.GetName(), conditionsOf(obj))
	})
}

// waitCondition waits until obj's condition has the status and reason.
func waitCondition(t *testing.T, obj conditioned, condType string, want metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var found metav1.Condition
	NewWithT(t).Eventually(func() bool {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return false
		}
		for _, c := range obj.GetConditions() {
			if c.Type == condType {
				found = c
				return c.Status == want && c.Reason == reason
			}
		}
		return false
	}, timeout, interval).Should(BeTrue(), func() string {
		return fmt.Sprintf("%T %s: want %s=%s/%s, have %s", obj, obj.GetName(), condType, want, reason, conditionsOf(obj))
	})
	return found
}

func conditionsOf(obj client.Object) string {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err.Error()
	}
	conds, _, _ := unstructured.NestedSlice(u, "status", "conditions")
	s := ""
	for _, c := range conds {
		m, _ := c.(map[string]any)
		s += fmt.Sprintf("[%v=%v %v: %v] ", m["type"], m["status"], m["reason"], m["message"])
	}
	return s
}

// waitGone waits until obj no longer exists.
func waitGone(t *testing.T, obj client.Object) {
	t.Helper()
	NewWithT(t).Eventually(func() bool {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		return client.IgnoreNotFound(err) == nil && err != nil
	}, timeout, interval).Should(BeTrue(), func() string {
		return fmt.Sprintf("%T %s was never deleted: %s", obj, obj.GetName(), conditionsOf(obj))
	})
}

// secretOf returns the SubAccount's credentials Secret.
func secretOf(t *testing.T, sa *shopv1alpha1.SubAccount) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: sa.Namespace, Name: sa.CredentialsSecretName()}, s); err != nil {
		t.Fatalf("reading credentials Secret: %v", err)
	}
	return s
}

// eventsFor lists the Events regarding obj.
// eventuallyEvents waits until obj's Events satisfy matcher: the recorder
// writes an Event from a queue of its own, after the reconcile that
// recorded it has ended.
func eventuallyEvents(t *testing.T, obj client.Object, matcher gomegatypes.GomegaMatcher) {
	t.Helper()
	NewWithT(t).Eventually(func() []eventsv1.Event { return eventsFor(t, obj) }, timeout, interval).Should(matcher)
}

func eventsFor(t *testing.T, obj client.Object) []eventsv1.Event {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(obj.GetNamespace())); err != nil {
		t.Fatalf("listing events: %v", err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.UID == obj.GetUID() {
			out = append(out, e)
		}
	}
	return out
}
