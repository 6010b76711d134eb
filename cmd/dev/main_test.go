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
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// syncBuffer is a bytes.Buffer safe for the operator's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The dev program's job with --once semantics, in-process: the control
// plane starts, the operator makes every sample Ready, the written
// kubeconfig works as the dev-admin user while it runs, no secret value is
// printed, and afterwards the control plane is gone and the kubeconfig
// removed.
func TestRunOnceMakesSamplesReady(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run the tests with 'make test', which builds the control plane into bin/")
	}
	logs := &syncBuffer{}
	ctrl.SetLogger(zap.New(zap.WriteTo(logs), zap.UseDevMode(true)))
	out := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("output:\n%s\noperator logs:\n%s", out, logs)
		}
	})

	kubeconfigPath := filepath.Join(t.TempDir(), "dev", "kubeconfig")
	var kubeconfig []byte
	var secretValues []string
	onReady := func(ctx context.Context) error {
		var err error
		if kubeconfig, err = os.ReadFile(kubeconfigPath); err != nil {
			t.Errorf("reading the kubeconfig: %v", err)
			return nil
		}
		if fi, err := os.Stat(kubeconfigPath); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("kubeconfig mode = %v, want 0600 (it holds a client key)", fi.Mode().Perm())
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
		if err != nil {
			t.Errorf("loading the kubeconfig: %v", err)
			return nil
		}
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		if err != nil {
			t.Errorf("client from the kubeconfig: %v", err)
			return nil
		}

		review := &authenticationv1.SelfSubjectReview{}
		if err := c.Create(ctx, review); err != nil {
			t.Errorf("SelfSubjectReview: %v", err)
		} else if u := review.Status.UserInfo; u.Username != devUser || !contains(u.Groups, "system:masters") {
			t.Errorf("the kubeconfig authenticates as %q %v, want %s in system:masters", u.Username, u.Groups, devUser)
		}

		subaccounts := &shopv1alpha1.SubAccountList{}
		if err := c.List(ctx, subaccounts, client.InNamespace(devNamespace)); err != nil {
			t.Errorf("listing SubAccounts with the kubeconfig: %v", err)
			return nil
		}
		names := []string{}
		for _, sa := range subaccounts.Items {
			names = append(names, sa.Name)
			if !isReady(sa.Status.Conditions) {
				t.Errorf("SubAccount %s is not Ready: %+v", sa.Name, sa.Status.Conditions)
			}
			secret := &corev1.Secret{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: devNamespace, Name: sa.CredentialsSecretName()}, secret); err != nil {
				t.Errorf("credentials Secret of %s: %v", sa.Name, err)
				continue
			}
			if len(secret.Data["password"]) == 0 {
				t.Errorf("Secret %s has no password", secret.Name)
			}
			secretValues = append(secretValues, string(secret.Data["password"]))
		}
		// xiaoli-*: the Staff sample's accounts, one per shop.
		const want = "aqiang,daming,xiaohong,xiaolan,xiaoli-hongxing,xiaoli-pdd-xiaodian,xiaomei"
		if got := strings.Join(names, ","); got != want {
			t.Errorf("SubAccounts = %s, want %s", got, want)
		}

		shops := &shopv1alpha1.ShopList{}
		roles := &shopv1alpha1.RoleList{}
		if err := c.List(ctx, shops, client.InNamespace(devNamespace)); err != nil {
			t.Errorf("listing Shops: %v", err)
		}
		if err := c.List(ctx, roles, client.InNamespace(devNamespace)); err != nil {
			t.Errorf("listing Roles: %v", err)
		}
		if len(shops.Items) != 3 || len(roles.Items) != 5 {
			t.Errorf("%d Shops and %d Roles, want 3 and 5", len(shops.Items), len(roles.Items))
		}
		for _, s := range shops.Items {
			if !isReady(s.Status.Conditions) {
				t.Errorf("Shop %s is not Ready: %+v", s.Name, s.Status.Conditions)
			}
		}
		for _, r := range roles.Items {
			if !isReady(r.Status.Conditions) {
				t.Errorf("Role %s is not Ready: %+v", r.Name, r.Status.Conditions)
			}
		}
		verifyOwnDouyinAgent(ctx, t, c, out, logs)
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := run(ctx, options{
		AssetsDir:     assets,
		CRDDir:        filepath.Join("..", "..", "config", "crd", "bases"),
		SamplesDir:    filepath.Join("..", "..", "config", "samples"),
		KubeconfigOut: kubeconfigPath,
		Once:          true,
		Timeout:       2 * time.Minute,
		ShopsimConfig: filepath.Join("..", "..", "hack", "shopsim.example.yaml"),
		ShopsimListen: "127.0.0.1:0", // a free port: 8089 may be taken by a 'make dev'
		Out:           out,
		OnReady:       onReady,
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if kubeconfig == nil {
		t.Fatal("OnReady was not called")
	}

	printed := out.String()
	for _, want := range []string{
		"Everything is Ready",
		"Shop/hongxing", "Role/customer-service", "Role/operations", "SubAccount/xiaohong", "SubAccount/daming",
		"Shop/doudian", "SubAccount/xiaomei", "Shop/pdd-xiaodian", "SubAccount/aqiang",
		// The Douyin agent's code, handed over by make dev standing in for her phone.
		"handed the SMS code texted to 138****8021 over in Secret xiaomei-verification",
		"--kubeconfig " + kubeconfigPath + " get shopstaff",
		"--kubeconfig " + kubeconfigPath + " get subaccounts -o wide",
		"get secret xiaohong-credentials -o jsonpath='{.data.username}' | base64 -d",
		"get shop hongxing -o jsonpath='{range .status.departments[*]}{.path}",
		"Control plane stopped.",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, v := range append(secretValues, "demo-app-secret", "demo-session-token") {
		if strings.Contains(printed, v) || strings.Contains(logs.String(), v) {
			t.Errorf("a secret value was printed")
		}
	}

	if _, err := os.Stat(kubeconfigPath); !os.IsNotExist(err) {
		t.Errorf("the kubeconfig was not removed on exit: %v", err)
	}
	// The control plane is stopped: the kubeconfig written no longer connects.
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 2 * time.Second
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err == nil {
		err = c.List(context.Background(), &shopv1alpha1.SubAccountList{})
	}
	if err == nil {
		t.Error("the API server still answers after run returned")
	}
}

// verifyOwnDouyinAgent is a user adding a Douyin agent of their own under
// make dev: the code shopsim texts her phone is printed (marked as the
// simulator's) and shown on shopsim's page, the printed command hands it
// over, and she is verified. The operator's logs never hold the code.
func verifyOwnDouyinAgent(ctx context.Context, t *testing.T, c client.Client, out, logs *syncBuffer) {
	t.Helper()
	sa := &shopv1alpha1.SubAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: devNamespace, Name: "xiaoli"},
		Spec: shopv1alpha1.SubAccountSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: "doudian"}, AccountName: "xiaoli",
			Phone: "13800138099", Roles: []shopv1alpha1.LocalObjectReference{{Name: "douyin-customer-service"}}},
	}
	if err := c.Create(ctx, sa); err != nil {
		t.Errorf("creating the user's own SubAccount: %v", err)
		return
	}
	codeLine := regexp.MustCompile(`\[shopsim SMS, a simulated phone\] code ([0-9]{6}) texted to 138\*\*\*\*8099 at `)
	handOver := regexp.MustCompile(`(?m)^ +(.* create secret generic -n default xiaoli-verification --from-literal=code=([0-9]{6}) && .* label secret -n default xiaoli-verification shop.subaccount.io/secret=verification)$`)
	var code, command string
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		m, h := codeLine.FindStringSubmatch(out.String()), handOver.FindStringSubmatch(out.String())
		if m == nil || h == nil {
			return false, nil
		}
		code, command = m[1], h[1]
		if h[2] != code {
			return false, fmt.Errorf("the hand-over command has code %s, the SMS line %s", h[2], code)
		}
		return true, nil
	})
	if err != nil {
		t.Errorf("make dev did not print the code texted to xiaoli's phone with its hand-over command: %v", err)
		return
	}
	if !strings.Contains(out.String(), "or: kubectl subaccount verify xiaoli "+code+" -n default --kubeconfig ") {
		t.Errorf("no kubectl subaccount verify line for xiaoli")
	}

	// shopsim's page shows it too, as its simulated phones'.
	shopsimURL := regexp.MustCompile(`shopsim at (http://[0-9.:]+)`).FindStringSubmatch(out.String())
	if shopsimURL == nil {
		t.Errorf("no shopsim URL in the output")
	} else if resp, err := http.Get(shopsimURL[1] + "/"); err != nil {
		t.Errorf("shopsim's page: %v", err)
	} else {
		page, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if !regexp.MustCompile(`<td>138\*\*\*\*8099</td><td class="code">`+code+`</td>`).Match(page) ||
			!strings.Contains(string(page), "Simulated phones") {
			t.Errorf("shopsim's page does not show xiaoli's code as a simulated phone's")
		}
	}

	// The printed command, run as printed, verifies her.
	if b, err := exec.CommandContext(ctx, "sh", "-c", command).CombinedOutput(); err != nil {
		t.Errorf("%s: %v: %s", command, err, b)
		return
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(sa), sa); err != nil {
			return false, nil
		}
		return sa.Status.Verification != nil && sa.Status.Verification.Verified, nil
	})
	if err != nil {
		t.Errorf("xiaoli was not verified with the printed code: %+v", sa.Status.Conditions)
	}
	if regexp.MustCompile(`(^|[^0-9])` + code + `([^0-9]|$)`).MatchString(logs.String()) {
		t.Errorf("the operator's logs hold the SMS code")
	}
}

func isReady(conds []metav1.Condition) bool {
	for _, c := range conds {
		if c.Type == shopv1alpha1.ConditionReady {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sample builds an object of the operator's API with a Ready condition
// (status "" for none) observed at observedGen.
func sample(kind, name string, generation int64, ready metav1.ConditionStatus, observedGen int64) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(shopv1alpha1.GroupVersion.WithKind(kind))
	u.SetNamespace(devNamespace)
	u.SetName(name)
	u.SetGeneration(generation)
	if ready != "" {
		_ = unstructured.SetNestedField(u.Object, observedGen, "status", "observedGeneration")
		_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{
			"type": "Ready", "status": string(ready), "reason": "Waiting", "message": "shop not ready",
			"lastTransitionTime": "2026-01-01T00:00:00Z",
		}}, "status", "conditions")
	}
	return u
}

func TestWaitReady(t *testing.T) {
	secret := &unstructured.Unstructured{}
	secret.SetAPIVersion("v1")
	secret.SetKind("Secret")
	secret.SetNamespace(devNamespace)
	secret.SetName("api") // not of the operator's API: not waited for, even if absent

	t.Run("all ready", func(t *testing.T) {
		objs := []*unstructured.Unstructured{
			sample("Shop", "s", 1, metav1.ConditionTrue, 1),
			sample("Role", "r", 2, metav1.ConditionTrue, 2),
			secret,
		}
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs[0].DeepCopy(), objs[1].DeepCopy()).Build()
		out := &bytes.Buffer{}
		if err := waitReady(context.Background(), c, objs, time.Second, out); err != nil {
			t.Fatalf("waitReady: %v\n%s", err, out)
		}
		for _, want := range []string{"Waiting for 2 resources", "Shop/s", "Role/r"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("times out naming what is not ready", func(t *testing.T) {
		objs := []*unstructured.Unstructured{
			sample("Shop", "s", 1, metav1.ConditionTrue, 1),
			sample("Role", "r", 1, metav1.ConditionFalse, 1),
			sample("SubAccount", "stale", 3, metav1.ConditionTrue, 2),
			sample("SubAccount", "new", 1, "", 0),
			sample("SubAccount", "gone", 1, metav1.ConditionTrue, 1),
			secret,
		}
		c := fake.NewClientBuilder().WithScheme(scheme).
			WithObjects(objs[0].DeepCopy(), objs[1].DeepCopy(), objs[2].DeepCopy(), objs[3].DeepCopy()).Build()
		start := time.Now()
		err := waitReady(context.Background(), c, objs, 300*time.Millisecond, &bytes.Buffer{})
		if err == nil {
			t.Fatal("waitReady succeeded")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s for a 300ms timeout", d)
		}
		msg := err.Error()
		for _, want := range []string{
			"not Ready within 300ms",
			"Role/r (Ready=False Waiting: shop not ready)",
			"SubAccount/stale (Ready for generation 2, not yet for 3)",
			"SubAccount/new (no Ready condition yet)",
			"SubAccount/gone (cannot read it:",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q: %s", want, msg)
			}
		}
		if strings.Contains(msg, "Shop/s") || strings.Contains(msg, "Secret") {
			t.Errorf("error names a Ready or foreign object: %s", msg)
		}
	})

	t.Run("stops with its context", func(t *testing.T) {
		objs := []*unstructured.Unstructured{sample("Shop", "s", 1, "", 0)}
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs[0].DeepCopy()).Build()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := waitReady(ctx, c, objs, time.Minute, &bytes.Buffer{}); err != context.DeadlineExceeded {
			t.Fatalf("err = %v, want the context's", err)
		}
	})
}

func TestRunChecksOptionsBeforeStarting(t *testing.T) {
	base := options{
		AssetsDir: t.TempDir(), CRDDir: "crds", SamplesDir: "samples",
		KubeconfigOut: filepath.Join(t.TempDir(), "kubeconfig"), Timeout: time.Minute, Out: &bytes.Buffer{},
		ShopsimConfig: "shops.yaml", ShopsimListen: "127.0.0.1:0",
	}
	for name, tc := range map[string]struct {
		mutate func(*options)
		want   string
	}{
		"no binaries":      {func(*options) {}, "run 'make dev'"},
		"no timeout":       {func(o *options) { o.Timeout = 0 }, "timeout must be positive"},
		"no kubeconfig":    {func(o *options) { o.KubeconfigOut = "" }, "no kubeconfig output path"},
		"no shopsim":       {func(o *options) { o.ShopsimListen = "" }, "shopsim"},
		"no assets at all": {func(o *options) { o.AssetsDir = "" }, "run 'make dev'"},
	} {
		t.Run(name, func(t *testing.T) {
			o := base
			tc.mutate(&o)
			err := run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", "/opt/assets")
	opts, zapOpts, err := parseFlags(flag.NewFlagSet("dev", flag.ContinueOnError),
		[]string{"--once", "--timeout=5s", "--kubeconfig-out=/tmp/kc", "--shopsim-listen=127.0.0.1:9999", "--zap-log-level=error"})
	if err != nil {
		t.Fatal(err)
	}
	if !opts.Once || opts.Timeout != 5*time.Second || opts.KubeconfigOut != "/tmp/kc" || opts.ShopsimListen != "127.0.0.1:9999" || opts.AssetsDir != "/opt/assets" {
		t.Errorf("options = %+v", opts)
	}
	if zapOpts == nil {
		t.Error("no zap options")
	}
	root := moduleRoot()
	if _, err := os.Stat(filepath.Join(root, "config", "samples", "kustomization.yaml")); err != nil {
		t.Errorf("module root %s has no samples: %v", root, err)
	}

	opts, _, err = parseFlags(flag.NewFlagSet("dev", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Once || opts.Timeout != 2*time.Minute || opts.ShopsimListen != "127.0.0.1:8089" ||
		opts.KubeconfigOut != displayPath(filepath.Join(root, ".dev", "kubeconfig")) {
		t.Errorf("defaults = %+v", opts)
	}
	if _, _, err := parseFlags(flag.NewFlagSet("dev", flag.ContinueOnError), []string{"extra"}); err == nil {
		t.Error("a stray argument was accepted")
	}
}
