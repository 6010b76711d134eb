package controlplane_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/controlplane"
)

var crdDir = filepath.Join("..", "..", "config", "crd", "bases")

// assets is $KUBEBUILDER_ASSETS; the tests that start a control plane are
// skipped without it ('make test' sets it).
func assets(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(controlplane.AssetsEnv)
	if dir == "" {
		t.Skip(controlplane.AssetsEnv + " is not set: run 'make test' (it builds the control plane into bin/k8s)")
	}
	return dir
}

func TestStartRefusesMissingBinaries(t *testing.T) {
	g := NewWithT(t)
	t.Setenv(controlplane.AssetsEnv, "")
	_, err := controlplane.Start(controlplane.Options{})
	g.Expect(err).To(MatchError(ContainSubstring(controlplane.AssetsEnv + " is not set")))

	empty := t.TempDir()
	_, err = controlplane.Start(controlplane.Options{AssetsDir: empty})
	g.Expect(err).To(MatchError(ContainSubstring(filepath.Join(empty, "etcd") + " is not an executable")))

	// Present but not executable is no better.
	g.Expect(os.WriteFile(filepath.Join(empty, "etcd"), []byte("#!/bin/sh\n"), 0o600)).To(Succeed())
	_, err = controlplane.Start(controlplane.Options{AssetsDir: empty})
	g.Expect(err).To(MatchError(ContainSubstring(filepath.Join(empty, "etcd") + " is not an executable")))
}

func TestWriteKubeconfigRoundTrips(t *testing.T) {
	g := NewWithT(t)
	cfg := &rest.Config{Host: "https://127.0.0.1:6443", BearerToken: "t0ken",
		TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca"), CertData: []byte("cert"), KeyData: []byte("key")}}
	path := filepath.Join(t.TempDir(), "sub", "kubeconfig")
	g.Expect(controlplane.WriteKubeconfig(cfg, path)).To(Succeed())

	fi, err := os.Stat(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o600)), "it holds a client key")

	loaded, err := clientcmd.LoadFromFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(loaded.Contexts[loaded.CurrentContext].Namespace).To(Equal("default"))
	back, err := clientcmd.BuildConfigFromFlags("", path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(back.Host).To(Equal(cfg.Host))
	g.Expect(back.BearerToken).To(Equal(cfg.BearerToken))
	g.Expect(back.CAData).To(Equal(cfg.CAData))
	g.Expect(back.CertData).To(Equal(cfg.CertData))
	g.Expect(back.KeyData).To(Equal(cfg.KeyData))

	data, err := controlplane.Kubeconfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	written, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(data).To(Equal(written), "Kubeconfig is what WriteKubeconfig writes")
}

func TestControllerManagerArgsAndStarted(t *testing.T) {
	g := NewWithT(t)
	args := controlplane.ControllerManagerArgs("/k/config")
	g.Expect(args).To(ContainElements("--kubeconfig", "/k/config", "--leader-elect=false",
		"--controllers=garbage-collector-controller,namespace-controller"))
	g.Expect(controlplane.ControllerManagerStarted([]byte("I1 Starting namespace controller\n"))).To(BeFalse(), "the garbage collector has not synced")
	g.Expect(controlplane.ControllerManagerStarted([]byte("I1 Proceeding to collect garbage\n"))).To(BeFalse())
	g.Expect(controlplane.ControllerManagerStarted([]byte("I1 Starting namespace controller\nI2 Proceeding to collect garbage\n"))).To(BeTrue())
}

// TestStartServesTheCRDsAndAdmins starts a control plane with the
// project's CRDs: they are served, an added admin authenticates as itself
// in system:masters through a written kubeconfig, and after Stop nothing
// answers.
func TestStartServesTheCRDsAndAdmins(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(shopv1alpha1.AddToScheme(scheme)).To(Succeed())

	cp, err := controlplane.Start(controlplane.Options{AssetsDir: assets(t), CRDDir: crdDir, Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cp.Stop()
		}
	})
	g.Expect(cp.KubectlPath()).To(Equal(filepath.Join(cp.AssetsDir(), controlplane.Kubectl)))

	ctx := context.Background()
	c, err := client.New(cp.Config, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	for _, list := range []client.ObjectList{&shopv1alpha1.ShopList{}, &shopv1alpha1.RoleList{}, &shopv1alpha1.SubAccountList{}} {
		g.Expect(c.List(ctx, list, client.InNamespace("default"))).To(Succeed(), "%T is served", list)
	}

	admin, err := cp.AddAdmin("someone")
	g.Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(t.TempDir(), "kubeconfig")
	g.Expect(controlplane.WriteKubeconfig(admin, path)).To(Succeed())
	fromFile, err := clientcmd.BuildConfigFromFlags("", path)
	g.Expect(err).NotTo(HaveOccurred())
	ac, err := client.New(fromFile, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	review := &authenticationv1.SelfSubjectReview{}
	g.Expect(ac.Create(ctx, review)).To(Succeed())
	g.Expect(review.Status.UserInfo.Username).To(Equal("someone"))
	g.Expect(review.Status.UserInfo.Groups).To(ContainElement("system:masters"))
	g.Expect(ac.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "made-by-someone"}})).To(Succeed())

	// A user outside system:masters has its name and groups, and only
	// what RBAC grants it (nothing here).
	sa, err := cp.AddUser("system:serviceaccount:ops:robot", []string{"system:serviceaccounts", "system:authenticated"})
	g.Expect(err).NotTo(HaveOccurred())
	sc, err := client.New(sa, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	review = &authenticationv1.SelfSubjectReview{}
	g.Expect(sc.Create(ctx, review)).To(Succeed())
	g.Expect(review.Status.UserInfo.Username).To(Equal("system:serviceaccount:ops:robot"))
	g.Expect(review.Status.UserInfo.Groups).To(ContainElement("system:serviceaccounts"))
	g.Expect(review.Status.UserInfo.Groups).NotTo(ContainElement("system:masters"))
	g.Expect(apierrors.IsForbidden(sc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "made-by-robot"}}))).To(BeTrue())

	g.Expect(cp.Stop()).To(Succeed())
	stopped = true
	g.Expect(ac.List(ctx, &corev1.NamespaceList{})).NotTo(Succeed(), "the API server is gone")
}

// TestFailedStartStopsWhatItStarted: CRDs the API server refuses fail
// Start after etcd and kube-apiserver are up; Start stops them again.
func TestFailedStartStopsWhatItStarted(t *testing.T) {
	g := NewWithT(t)
	dir := assets(t)
	bad := t.TempDir()
	// Its name is not <plural>.<group> and it has no versions.
	g.Expect(os.WriteFile(filepath.Join(bad, "bad.yaml"), []byte(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: bad
spec:
  group: example.com
  names: {kind: Bad, plural: bads}
  scope: Namespaced
  versions: []
`), 0o600)).To(Succeed())

	cp, err := controlplane.Start(controlplane.Options{AssetsDir: dir, CRDDir: bad})
	if err == nil {
		_ = cp.Stop()
	}
	abs, _ := filepath.Abs(dir)
	g.Expect(err).To(MatchError(ContainSubstring("starting the control plane from " + abs)))
	g.Expect(children(t, controlplane.Etcd, controlplane.APIServer)).To(BeEmpty())
}

// children lists this process's child processes that run one of names.
func children(t *testing.T, names ...string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to list child processes: %v", err)
	}
	me := strconv.Itoa(os.Getpid())
	var found []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		s := string(stat)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 || fields[1] != me {
			continue
		}
		for _, n := range names {
			// comm is at most 15 characters: kube-apiserver fits.
			if s[open+1:end] == n {
				found = append(found, e.Name()+" "+n)
			}
		}
	}
	return found
}
