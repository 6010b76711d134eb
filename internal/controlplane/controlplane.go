// Package controlplane starts a local Kubernetes control plane, etcd and
// kube-apiserver through controller-runtime's envtest, for everything that
// runs the operator without a cluster: 'make dev' (cmd/dev), the benchmark
// (hack/bench), the end-to-end and reliability harness, the chart test,
// and the envtest suites. It also writes kubeconfigs for it, and says how
// to run kube-controller-manager's garbage collector and namespace
// controller against it (the reliability suite's deletions need them).
//
// Every binary is taken by its full path from one directory (Options.
// AssetsDir, the directory 'make envtest' links as bin/k8s/...), so that
// no TEST_ASSET_* variable or PATH entry can slip in another build.
package controlplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The binaries of a control plane directory.
const (
	Etcd              = "etcd"
	APIServer         = "kube-apiserver"
	Kubectl           = "kubectl"
	ControllerManager = "kube-controller-manager"
)

// AssetsEnv names the directory of the binaries when Options.AssetsDir is
// empty; the Makefile sets it.
const AssetsEnv = "KUBEBUILDER_ASSETS"

// startTimeoutEnv is envtest's own setting for how long etcd and
// kube-apiserver may take to start; it wins over defaultStartTimeout.
const startTimeoutEnv = "KUBEBUILDER_CONTROLPLANE_START_TIMEOUT"

// defaultStartTimeout is how long each process may take to start when
// startTimeoutEnv is unset.
const defaultStartTimeout = 2 * time.Minute

// Options configure Start.
type Options struct {
	// AssetsDir holds etcd and kube-apiserver (and kubectl, and
	// kube-controller-manager where it is run). Empty is $KUBEBUILDER_ASSETS;
	// a relative path is taken from the working directory.
	AssetsDir string
	// CRDDir holds CRDs to install; Start returns once each is served.
	// Empty installs none (the chart test installs them itself).
	CRDDir string
	// Kubectl is the kubectl that goes with the control plane; empty is
	// AssetsDir/kubectl.
	Kubectl string
	// Scheme is the scheme the CRDs are installed with; nil is
	// client-go's.
	Scheme *runtime.Scheme
}

// ControlPlane is a running etcd and kube-apiserver.
type ControlPlane struct {
	// Config reaches the API server as an admin (system:masters).
	Config *rest.Config

	env       *envtest.Environment
	assetsDir string
	kubectl   string
}

// Start starts etcd and kube-apiserver from opts.AssetsDir and installs the
// CRDs of opts.CRDDir. When it fails after the processes started (the CRDs
// did not install, say) it stops them again before it returns.
func Start(opts Options) (*ControlPlane, error) {
	assets, err := assetsDir(opts.AssetsDir)
	if err != nil {
		return nil, err
	}
	for _, b := range []string{Etcd, APIServer} {
		if !IsExecutable(filepath.Join(assets, b)) {
			return nil, fmt.Errorf("%s is not an executable: the control plane binaries are built by 'make envtest' into bin/k8s/", filepath.Join(assets, b))
		}
	}
	kubectl := opts.Kubectl
	if kubectl == "" {
		kubectl = filepath.Join(assets, Kubectl)
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets, Scheme: opts.Scheme}
	if os.Getenv(startTimeoutEnv) == "" {
		// envtest gives etcd and kube-apiserver 20s each; on a loaded 2-core
		// machine (CI beside other work) kube-apiserver alone has taken longer.
		env.ControlPlaneStartTimeout = defaultStartTimeout
	}
	if opts.CRDDir != "" {
		env.CRDDirectoryPaths = []string{opts.CRDDir}
		env.ErrorIfCRDPathMissing = true
	}
	env.ControlPlane.GetAPIServer().Path = filepath.Join(assets, APIServer)
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(assets, Etcd)}
	env.ControlPlane.KubectlPath = kubectl
	cfg, err := env.Start()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("starting the control plane from %s: %w", assets, err), stop(env))
	}
	return &ControlPlane{Config: cfg, env: env, assetsDir: assets, kubectl: kubectl}, nil
}

// assetsDir is dir, else $KUBEBUILDER_ASSETS, made absolute.
func assetsDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv(AssetsEnv)
	}
	if dir == "" {
		return "", fmt.Errorf("no control plane binaries: %s is not set and no directory was given; 'make envtest' builds them into bin/k8s/ and prints the export line", AssetsEnv)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("the control plane binaries directory %s: %w", dir, err)
	}
	return abs, nil
}

// IsExecutable reports whether path is a regular file someone may execute.
func IsExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// Stop stops kube-apiserver and etcd and removes their files.
func (cp *ControlPlane) Stop() error { return stop(cp.env) }

func stop(env *envtest.Environment) error {
	if err := env.Stop(); err != nil {
		return fmt.Errorf("stopping the control plane: %w", err)
	}
	return nil
}

// AssetsDir is the directory the binaries were taken from.
func (cp *ControlPlane) AssetsDir() string { return cp.assetsDir }

// KubectlPath is the kubectl that goes with the control plane.
func (cp *ControlPlane) KubectlPath() string { return cp.kubectl }

// AddAdmin adds a user called name in system:masters and returns a config
// that authenticates as it. A process that runs as a user of its own (the
// benchmark's manager, say) is queued apart from the others by the API
// server's priority and fairness, as in a cluster.
func (cp *ControlPlane) AddAdmin(name string) (*rest.Config, error) {
	user, err := cp.env.AddUser(envtest.User{Name: name, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding the admin user %s: %w", name, err)
	}
	return user.Config(), nil
}

// AddUser adds a user called name in groups, outside system:masters: what
// it may do is what RBAC grants it, and the API server's priority and
// fairness classifies its requests by name and groups as it would a
// cluster's (a service account's name and groups put it in the
// service-accounts FlowSchema, say).
func (cp *ControlPlane) AddUser(name string, groups []string) (*rest.Config, error) {
	user, err := cp.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding the user %s: %w", name, err)
	}
	return user.Config(), nil
}

// kubeconfigName names the one cluster, user and context of a kubeconfig
// written here.
const kubeconfigName = "local"

// Kubeconfig renders cfg (a client certificate or a bearer token) as a
// kubeconfig whose one context is cfg's, in namespace default.
func Kubeconfig(cfg *rest.Config) ([]byte, error) {
	data, err := clientcmd.Write(kubeconfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("rendering the kubeconfig: %w", err)
	}
	return data, nil
}

// WriteKubeconfig writes Kubeconfig(cfg) to path (mode 0600: it holds a
// client key), creating its directory.
func WriteKubeconfig(cfg *rest.Config, path string) error {
	if err := clientcmd.WriteToFile(kubeconfig(cfg), path); err != nil {
		return fmt.Errorf("writing the kubeconfig %s: %w", path, err)
	}
	return nil
}

func kubeconfig(cfg *rest.Config) clientcmdapi.Config {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[kubeconfigName] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[kubeconfigName] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken,
	}
	kc.Contexts[kubeconfigName] = &clientcmdapi.Context{Cluster: kubeconfigName, AuthInfo: kubeconfigName, Namespace: "default"}
	kc.CurrentContext = kubeconfigName
	return *kc
}

// ControllerManagerArgs are kube-controller-manager's flags to run, with
// the admin kubeconfig at kubeconfig, only the garbage collector and the
// namespace controller, which a bare control plane lacks: owner
// references, foreground deletion and namespace deletion then work as in a
// cluster. No leader election, no serving port.
func ControllerManagerArgs(kubeconfig string) []string {
	return []string{
		"--kubeconfig", kubeconfig,
		"--leader-elect=false",
		"--controllers=garbage-collector-controller,namespace-controller",
		"--secure-port=0",
		"--use-service-account-credentials=false",
	}
}

// ControllerManagerStarted reports whether kube-controller-manager's output
// (run with ControllerManagerArgs) says that the namespace controller has
// started and the garbage collector has synced its monitors.
func ControllerManagerStarted(output []byte) bool {
	s := string(output)
	return strings.Contains(s, "Starting namespace controller") && strings.Contains(s, "Proceeding to collect garbage")
}
