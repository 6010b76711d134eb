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

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/controlplane"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// The envtest suite: a real API server with the CRDs and NO operator; the
// tests play the operator's part by writing the status themselves.
var (
	k8s        client.Client
	kubeconfig string
)

const waitTimeout = 20 * time.Second

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run the tests with 'make test', which builds the control plane into bin/")
		return 1
	}
	cp, err := controlplane.Start(controlplane.Options{CRDDir: filepath.Join("..", "..", "config", "crd", "bases")})
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest: %v\n", err)
		return 1
	}
	defer func() { _ = cp.Stop() }()
	cfg := cp.Config

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := shopv1alpha1.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintf(os.Stderr, "creating client: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kubectl-subaccount-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	kubeconfig = filepath.Join(dir, "kubeconfig")
	// The plugin is exercised through its real --kubeconfig path.
	if err := controlplane.WriteKubeconfig(cfg, kubeconfig); err != nil {
		fmt.Fprintf(os.Stderr, "writing kubeconfig: %v\n", err)
		return 1
	}
	return m.Run()
}

// ---- helpers ----

type result struct {
	code           int
	stdout, stderr string
}

// plugin runs the plugin in-process against the envtest API server.
func plugin(t *testing.T, ns string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--kubeconfig", kubeconfig, "-n", ns)
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

func newNamespace(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "t-" + hex.EncodeToString(b)
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return name
}

func newShop(t *testing.T, ns, name string, p shopv1alpha1.Platform, seats *shopv1alpha1.AccountQuotaStatus) *shopv1alpha1.Shop {
	t.Helper()
	s := &shopv1alpha1.Shop{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: shopv1alpha1.ShopSpec{Platform: p, MainAccount: "main-" + name,
			CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: name + "-api"}},
	}
	mustCreate(t, s)
	if seats != nil {
		s.Status.Seats = seats
		if err := k8s.Status().Update(context.Background(), s); err != nil {
			t.Fatalf("updating shop status: %v", err)
		}
	}
	return s
}

func newSubAccount(t *testing.T, ns, name, shop string, mutate func(*shopv1alpha1.SubAccount)) *shopv1alpha1.SubAccount {
	t.Helper()
	sa := &shopv1alpha1.SubAccount{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: shopv1alpha1.SubAccountSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: shop},
			AccountName: name},
	}
	var st shopv1alpha1.SubAccountStatus
	if mutate != nil {
		mutate(sa)
		st = sa.Status
	}
	mustCreate(t, sa)
	if mutate != nil {
		sa.Status = st
		if err := k8s.Status().Update(context.Background(), sa); err != nil {
			t.Fatalf("updating subaccount status: %v", err)
		}
	}
	return sa
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// operator plays the operator in the background: it polls the SubAccount
// until ready says its request is there, then applies the status change.
// The returned channel yields the outcome.
func operator(t *testing.T, ns, name string, ready func(*shopv1alpha1.SubAccount) bool, act func(*shopv1alpha1.SubAccount) error) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		sa := &shopv1alpha1.SubAccount{}
		err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, sa); err != nil {
				return false, err
			}
			return ready(sa), nil
		})
		if err == nil {
			err = act(sa)
		}
		done <- err
	}()
	return done
}

func expectOK(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
}

func expectFail(t *testing.T, r result, want string) {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("exit code %d, want 1; stdout:\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, want) {
		t.Fatalf("stderr %q does not contain %q", r.stderr, want)
	}
}

func contains(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("output does not contain %q:\n%s", w, s)
		}
	}
}

// ---- rotate ----

func TestRotate(t *testing.T) {
	ns := newNamespace(t)
	newSubAccount(t, ns, "xiaohong", "hongxing", func(sa *shopv1alpha1.SubAccount) {
		sa.Annotations = map[string]string{shopv1alpha1.AnnotationRotatePassword: "99999999999"} // a past request far ahead
		sa.Status.PasswordRevision = 2
		sa.Status.LastHandledRotation = "99999999999"
		sa.Status.SecretName = "xiaohong-credentials"
	})
	var token string
	done := operator(t, ns, "xiaohong",
		func(sa *shopv1alpha1.SubAccount) bool {
			token = sa.Annotations[shopv1alpha1.AnnotationRotatePassword]
			return token != "99999999999"
		},
		func(sa *shopv1alpha1.SubAccount) error {
			sa.Status.LastHandledRotation = token
			sa.Status.PasswordRevision = 3
			return k8s.Status().Update(context.Background(), sa)
		})
	r := plugin(t, ns, "rotate", "xiaohong")
	if err := <-done; err != nil {
		t.Fatalf("operator: %v", err)
	}
	expectOK(t, r)
	contains(t, r.stdout, "revision 3", "xiaohong-credentials")
	if token != "100000000000" {
		t.Errorf("token %q: want one past the previous request", token)
	}
}

func TestRotateTimesOutWithoutOperator(t *testing.T) {
	ns := newNamespace(t)
	newSubAccount(t, ns, "xiaohong", "hongxing", nil)
	r := plugin(t, ns, "rotate", "xiaohong", "--timeout=500ms")
	expectFail(t, r, "timed out after 500ms")
	sa := &shopv1alpha1.SubAccount{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "xiaohong"}, sa); err != nil {
		t.Fatal(err)
	}
	if sa.Annotations[shopv1alpha1.AnnotationRotatePassword] == "" {
		t.Errorf("the rotate annotation was not set")
	}
}

// ---- resend ----

func TestResend(t *testing.T) {
	ns := newNamespace(t)
	newSubAccount(t, ns, "xiaohong", "hongxing", func(sa *shopv1alpha1.SubAccount) {
		sa.Status.Verification = &shopv1alpha1.VerificationStatus{Phone: "138****8000", AttemptsLeft: 0}
	})
	done := operator(t, ns, "xiaohong",
		func(sa *shopv1alpha1.SubAccount) bool { return sa.Annotations[shopv1alpha1.AnnotationResendCode] != "" },
		func(sa *shopv1alpha1.SubAccount) error {
			sa.Status.LastHandledResend = sa.Annotations[shopv1alpha1.AnnotationResendCode]
			sa.Status.Verification = &shopv1alpha1.VerificationStatus{Phone: "139****0001", AttemptsLeft: 5}
			return k8s.Status().Update(context.Background(), sa)
		})
	r := plugin(t, ns, "resend", "xiaohong")
	if err := <-done; err != nil {
		t.Fatalf("operator: %v", err)
	}
	expectOK(t, r)
	contains(t, r.stdout, "139****0001")
}

// ---- verify ----

const pendingMsg = "an SMS code was sent to 138****8000 (5 attempts left)"

func pending(sa *shopv1alpha1.SubAccount) {
	sa.Status.Verification = &shopv1alpha1.VerificationStatus{Phone: "138****8000", AttemptsLeft: 5}
	sa.Status.Conditions = []metav1.Condition{{Type: shopv1alpha1.ConditionVerified, Status: metav1.ConditionFalse,
		Reason: shopv1alpha1.ReasonPendingVerification, Message: pendingMsg, LastTransitionTime: metav1.Now()}}
}

// consume plays the operator for verify: it waits for the Secret, checks
// it, deletes it and then (as the operator does) writes the condition.
func consume(t *testing.T, ns, name string, wantCode string, verified bool, msg string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		secret := &corev1.Secret{}
		key := client.ObjectKey{Namespace: ns, Name: name + shopv1alpha1.VerificationSecretSuffix}
		err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, key, secret)
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return err == nil, err
		})
		if err != nil {
			done <- err
			return
		}
		if got := secret.Labels[shopv1alpha1.LabelSecretRole]; got != "verification" {
			done <- fmt.Errorf("secret label %q", got)
			return
		}
		if got := string(secret.Data[shopv1alpha1.SecretKeyCode]); got != wantCode {
			done <- fmt.Errorf("secret code %q, want %q", got, wantCode)
			return
		}
		if err := k8s.Delete(ctx, secret); err != nil {
			done <- err
			return
		}
		sa := &shopv1alpha1.SubAccount{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, sa); err != nil {
			done <- err
			return
		}
		status, reason := metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification
		if verified {
			status, reason = metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded
			sa.Status.Verification.Verified = true
		} else {
			sa.Status.Verification.AttemptsLeft--
		}
		meta.SetStatusCondition(&sa.Status.Conditions, metav1.Condition{Type: shopv1alpha1.ConditionVerified,
			Status: status, Reason: reason, Message: msg})
		done <- k8s.Status().Update(ctx, sa)
	}()
	return done
}

func TestVerify(t *testing.T) {
	ns := newNamespace(t)
	newSubAccount(t, ns, "xiaohong", "hongxing", pending)
	done := consume(t, ns, "xiaohong", "654321", true, "phone verified; the account is authorised")
	r := plugin(t, ns, "verify", "xiaohong", "654321")
	if err := <-done; err != nil {
		t.Fatalf("operator: %v", err)
	}
	expectOK(t, r)
	contains(t, r.stdout, "phone verified; the account is authorised")
	if strings.Contains(r.stdout+r.stderr, "654321") {
		t.Errorf("the code was printed:\n%s%s", r.stdout, r.stderr)
	}
}

func TestVerifyWrongCode(t *testing.T) {
	ns := newNamespace(t)
	newSubAccount(t, ns, "xiaohong", "hongxing", pending)
	msg := "the platform refused the code: wrong code; " + pendingMsg
	done := consume(t, ns, "xiaohong", "111111", false, msg)
	r := plugin(t, ns, "verify", "xiaohong", "111111")
	if err := <-done; err != nil {
		t.Fatalf("operator: %v", err)
	}
	expectFail(t, r, "not verified (PendingVerification)")
	contains(t, r.stdout, "the platform refused the code")
	if strings.Contains(r.stdout+r.stderr, "111111") {
		t.Errorf("the code was printed:\n%s%s", r.stdout, r.stderr)
	}
}

func TestVerifySecretAlreadyThere(t *testing.T) {
	ns := newNamespace(t)
	newSubAccount(t, ns, "xiaohong", "hongxing", pending)
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "xiaohong-verification", Namespace: ns},
		StringData: map[string]string{"code": "1"}})
	expectFail(t, plugin(t, ns, "verify", "xiaohong", "222222"), "already exists")
}

// ---- permissions ----

func TestPermissions(t *testing.T) {
	ns := newNamespace(t)
	newShop(t, ns, "hongxing", shopv1alpha1.PlatformTaobao, nil)
	role := &shopv1alpha1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "operations", Namespace: ns},
		Spec: shopv1alpha1.RoleSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: "hongxing"},
			DisplayName: "运营", Permissions: []string{"item-edit"}},
	}
	mustCreate(t, role)
	role.Status.EffectivePermissions = []string{"item-edit", "sell"}
	if err := k8s.Status().Update(context.Background(), role); err != nil {
		t.Fatal(err)
	}
	newSubAccount(t, ns, "daming", "hongxing", func(sa *shopv1alpha1.SubAccount) {
		sa.Spec.Roles = []shopv1alpha1.LocalObjectReference{{Name: "operations"}, {Name: "missing"}}
		sa.Spec.ExtraPermissions = []string{"trade-refund"}
		sa.Status.EffectivePermissions = []string{"item-edit", "sell", "trade", "trade-refund"}
	})
	r := plugin(t, ns, "permissions", "daming")
	expectOK(t, r)
	contains(t, r.stdout,
		"sell  Item management (宝贝管理)  [role: operations]\n  item-edit  Item editing (编辑宝贝)  [role: operations]\n",
		"trade  Trade management (交易管理)  [supplementary]\n  trade-refund  Refunds (退款管理)  [supplementary]\n",
		"note: role missing not found",
		"2 from roles; 2 only from supplementary permissions: trade, trade-refund\n")

	// The operator's status.permissionSources, when written, is what is
	// shown: here a second role also grants trade, so refunds alone are
	// supplementary-only.
	newSubAccount(t, ns, "xiaohong", "hongxing", func(sa *shopv1alpha1.SubAccount) {
		sa.Spec.Roles = []shopv1alpha1.LocalObjectReference{{Name: "operations"}, {Name: "trade"}}
		sa.Spec.ExtraPermissions = []string{"trade-refund"}
		sa.Status.EffectivePermissions = []string{"item-edit", "sell", "trade", "trade-refund"}
		sa.Status.PermissionSources = &shopv1alpha1.PermissionSources{
			Roles: []shopv1alpha1.RolePermissions{
				{Name: "operations", Permissions: []string{"item-edit", "sell"}},
				{Name: "trade", Permissions: []string{"trade"}},
			},
			Supplementary: []string{"trade", "trade-refund"},
		}
	})
	r = plugin(t, ns, "permissions", "xiaohong")
	expectOK(t, r)
	contains(t, r.stdout,
		"sell  Item management (宝贝管理)  [role: operations]\n  item-edit  Item editing (编辑宝贝)  [role: operations]\n",
		"trade  Trade management (交易管理)  [role: trade, supplementary]\n  trade-refund  Refunds (退款管理)  [supplementary]\n",
		"3 from roles; 1 only from supplementary permissions: trade-refund\n")
	if strings.Contains(r.stdout, "note:") {
		t.Errorf("status sources need no Role lookups, got notes:\n%s", r.stdout)
	}

	if strings.Contains(r.stdout, "As the platform reports") {
		t.Errorf("an account without status.observedAccess shows a platform report:\n%s", r.stdout)
	}

	// Through TOP the platform reports roles and direct permissions it
	// cannot set: shown apart from the spec's, read-only, in catalog order
	// as the tree is, the high-risk ones marked, a truncated list and the
	// drift said.
	newSubAccount(t, ns, "xiaolan", "hongxing", func(sa *shopv1alpha1.SubAccount) {
		sa.Spec.Roles = []shopv1alpha1.LocalObjectReference{{Name: "operations"}}
		sa.Status.EffectivePermissions = []string{"item-edit", "sell"}
		sa.Status.ObservedAccess = &shopv1alpha1.ObservedAccess{
			Roles:       []shopv1alpha1.ObservedRole{{ID: "501", Name: "客服"}, {ID: "777"}},
			Permissions: []string{"funds", "funds-view", "phone"},
			Truncated:   true,
		}
		sa.Status.Conditions = []metav1.Condition{{Type: shopv1alpha1.ConditionDrifted, Status: metav1.ConditionTrue,
			Reason: shopv1alpha1.ReasonDriftDetected, LastTransitionTime: metav1.Now(),
			Message: "roles on the platform the spec does not list: 客服 (ID 501)"}}
	})
	r = plugin(t, ns, "permissions", "xiaolan")
	expectOK(t, r)
	contains(t, r.stdout,
		"sell  Item management (宝贝管理)  [role: operations]\n",
		"\nAs the platform reports them (read-only: its API cannot set them; a change is made in its back office):\n"+
			"  roles: 客服 (ID 501), ID 777\n"+
			"  direct permissions: 3\n"+
			"    phone  Mobile shop (手机店铺)\n"+
			"    funds  Funds (资金管理)\n"+
			"      funds-view  Funds viewing (资金查看)  [high-risk]\n"+
			"  (truncated: the platform reported more roles or permissions than the status holds)\n"+
			"  Drifted: roles on the platform the spec does not list: 客服 (ID 501)\n")
	// None reported is said as such.
	newSubAccount(t, ns, "aqiang", "hongxing", func(sa *shopv1alpha1.SubAccount) {
		sa.Status.ObservedAccess = &shopv1alpha1.ObservedAccess{}
	})
	r = plugin(t, ns, "permissions", "aqiang")
	expectOK(t, r)
	contains(t, r.stdout, "  roles: none\n  direct permissions: none\n")

	expectFail(t, plugin(t, ns, "permissions", "nobody"), `subaccount "nobody" not found`)
}

// ---- status ----

func TestStatus(t *testing.T) {
	ns := newNamespace(t)
	newShop(t, ns, "hongxing", shopv1alpha1.PlatformTaobao, &shopv1alpha1.AccountQuotaStatus{Used: 15, Total: 15, Managed: 4, Waiting: 2})
	newShop(t, ns, "lanhua", shopv1alpha1.PlatformDouyin, nil)
	newSubAccount(t, ns, "xiaohong", "hongxing", func(sa *shopv1alpha1.SubAccount) {
		sa.Status.LoginName = "main-hongxing:xiaohong"
		sa.Status.Conditions = []metav1.Condition{{Type: shopv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: shopv1alpha1.ReasonSucceeded, Message: "ok", LastTransitionTime: metav1.Now()}}
		sa.Status.Presence = &shopv1alpha1.PresenceStatus{Current: shopv1alpha1.PresenceBreak}
		sa.Spec.Roles = []shopv1alpha1.LocalObjectReference{{Name: "customer-service"}, {Name: "finance"}}
	})
	newSubAccount(t, ns, "daming", "lanhua", func(sa *shopv1alpha1.SubAccount) {
		sa.Spec.Disabled = true
		sa.Status.Verification = &shopv1alpha1.VerificationStatus{Phone: "138****8000"}
	})

	r := plugin(t, ns, "status")
	expectOK(t, r)
	lines := strings.Split(r.stdout, "\n")
	if !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "xiaohong") || !strings.HasPrefix(lines[2], "daming") {
		t.Fatalf("unexpected table:\n%s", r.stdout)
	}
	if f := strings.Fields(lines[1]); strings.Join(f, " ") != "xiaohong hongxing main-hongxing:xiaohong customer-service,finance True Succeeded Break - false" {
		t.Errorf("row %q", lines[1])
	}
	if f := strings.Fields(lines[2]); strings.Join(f, " ") != "daming lanhua - - Unknown - - false true" {
		t.Errorf("row %q", lines[2])
	}
	contains(t, r.stdout, "SEATS USED/TOTAL")
	hasRow(t, r.stdout, "hongxing taobao 15/15 4 2 - -")
	hasRow(t, r.stdout, "lanhua douyin - - - - -")

	r = plugin(t, ns, "status", "--shop", "lanhua")
	expectOK(t, r)
	if strings.Contains(r.stdout, "xiaohong") || strings.Contains(r.stdout, "hongxing") {
		t.Errorf("--shop lanhua shows another shop:\n%s", r.stdout)
	}
	hasRow(t, r.stdout, "lanhua douyin - - - - -")

	expectFail(t, plugin(t, ns, "status", "--shop", "nope"), `shop "nope" not found`)
}

func hasRow(t *testing.T, out, want string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(l), " ") == want {
			return
		}
	}
	t.Errorf("no row %q in:\n%s", want, out)
}

// ---- usage errors (no API server needed, but harmless with one) ----

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no command given"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"verify", "x"}, "verify takes 2 argument(s), got 1"},
		{[]string{"rotate"}, "rotate takes 1 argument(s), got 0"},
		{[]string{"status", "--timeout=0s"}, "--timeout must be positive"},
		{[]string{"status", "--nope"}, "flag provided but not defined"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), tc.args, &out, &errb); code != 1 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: code %d, stderr %q; want 1 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &out); code != 0 || !strings.Contains(out.String(), "Usage:") {
		t.Errorf("--help: code %d, output %q", code, out.String())
	}
}

// TestKubeconfigFromEnvironment: kubectl refuses --kubeconfig before a
// plugin's name, so KUBECONFIG is how most users point the plugin at a
// cluster (make dev prints an export line for it); without either, the
// error says where the flag goes.
func TestKubeconfigFromEnvironment(t *testing.T) {
	ns := newNamespace(t)
	newShop(t, ns, "hongxing", shopv1alpha1.PlatformTaobao, nil)
	newSubAccount(t, ns, "xiaohong", "hongxing", nil)
	// No ~/.kube/config to fall back on.
	t.Setenv("HOME", t.TempDir())

	t.Setenv("KUBECONFIG", kubeconfig)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"status", "-n", ns}, &out, &errb); code != 0 || !strings.Contains(out.String(), "xiaohong") {
		t.Errorf("status with KUBECONFIG: code %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}

	t.Setenv("KUBECONFIG", "")
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"status", "-n", ns}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "set KUBECONFIG, or put --kubeconfig PATH after the subcommand") {
		t.Errorf("status without a kubeconfig: code %d, stderr %q", code, errb.String())
	}

	out.Reset()
	if code := run(context.Background(), []string{"--help"}, &out, &out); code != 0 ||
		!strings.Contains(out.String(), "'kubectl subaccount status --kubeconfig k', or export KUBECONFIG=k") {
		t.Errorf("--help does not say where --kubeconfig goes: %q", out.String())
	}
}

// ---- tree rendering (pure) ----

func taobao(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.For(platform.Taobao)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRenderTreeNesting(t *testing.T) {
	c := taobao(t)
	got := renderTree(c, []string{"sm-tbd-visit", "sm", "sell", "sm-design", "phone"}, map[string][]string{
		"sell":         {"role: ops"},
		"sm":           {"role: ops", "supplementary", "role: ops", "role: design"},
		"sm-design":    {"supplementary"},
		"sm-tbd-visit": {"supplementary"},
	})
	want := "" +
		"sell  Item management (宝贝管理)  [role: ops]\n" +
		"  sm  Shop management (店铺管理)  [role: ops, role: design, supplementary]\n" +
		"    sm-design  Shop decoration (店铺装修)  [supplementary]\n" +
		"      sm-tbd-visit  Decoration viewing (装修查看)  [supplementary]\n" +
		"phone  Mobile shop (手机店铺)\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderTreeSkipsMissingAncestors(t *testing.T) {
	c := taobao(t)
	// sm-design's parent sm is not listed: it hangs under sell directly.
	got := renderTree(c, []string{"sm-design", "sell", "zz-unknown"}, nil)
	want := "" +
		"sell  Item management (宝贝管理)\n" +
		"  sm-design  Shop decoration (店铺装修)\n" +
		"zz-unknown  (not in the taobao catalog)\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := renderTree(c, []string{"sm-design"}, nil); got != "sm-design  Shop decoration (店铺装修)\n" {
		t.Errorf("orphan: got %q", got)
	}
	if got := renderTree(c, nil, nil); got != "" {
		t.Errorf("empty: got %q", got)
	}
}

func TestToken(t *testing.T) {
	k := &cli{now: func() time.Time { return time.Unix(1000, 0) }}
	for _, tc := range []struct {
		used []string
		want string
	}{
		{nil, "1000"},
		{[]string{"", "999"}, "1000"},
		{[]string{"1000"}, "1001"},
		{[]string{"1005", "not-a-number"}, "1006"},
	} {
		if got := k.token(tc.used...); got != tc.want {
			t.Errorf("token(%v) = %s, want %s", tc.used, got, tc.want)
		}
	}
}
