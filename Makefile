## Go toolchain
# Shipped binaries are built with go1.27.3: go1.26.8 (this machine's own Go)
# has known vulnerabilities in crypto/x509, net/http, crypto/tls and
# html/template (docs/reliability.md). The go command fetches this toolchain
# from the module proxy on first use (about 10 seconds); go.mod names it too,
# for machines whose go command may switch toolchains by itself.
GOTOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN

## Tool Versions (pinned)
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
HELM_VERSION ?= v3.22.0
CRD_REF_DOCS_VERSION ?= v0.3.0
GOVULNCHECK_VERSION ?= v1.9.0
# Versions of the envtest control plane hack/envtest-assets.sh builds from source
# (passed to it as K8S_VERSION / ETCD_VERSION); where it can download, it takes
# setup-envtest's release binaries of the same Kubernetes minor version instead.
ENVTEST_K8S_VERSION ?= 1.37.1
ENVTEST_ETCD_VERSION ?= 3.7.3
# controller-runtime's setup-envtest, same minor version as controller-runtime in go.mod.
SETUP_ENVTEST_VERSION ?= v0.25.1

# Location to install tools and binaries to (defined early: used in prerequisites).
LOCALBIN ?= $(CURDIR)/bin

# The manager image: 'make image' writes it (no container engine needed), the
# chart (values.yaml image.repository, tag = its appVersion) and config/manager
# (hence dist/install.yaml) point at it; hack/image's test checks they agree.
IMAGE_REPOSITORY ?= ghcr.io/subaccount-operator/subaccount-operator
VERSION ?= $(shell sed -n 's/^appVersion: *"*\([^"]*\)"*$$/\1/p' charts/subaccount-operator/Chart.yaml)
IMG ?= $(IMAGE_REPOSITORY):$(VERSION)
# The architecture of the image 'make image' builds (amd64, arm64, ...).
IMAGE_ARCH ?= $(shell go env GOARCH)

# CONTAINER_TOOL defines the container tool to be used for building images.
# (docker by default; podman works too.)
CONTAINER_TOOL ?= docker

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

# The help target prints out all targets with their descriptions organized
# beneath their categories. The categories are represented by '##@' and the
# target descriptions by '##'.

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate WebhookConfiguration, ClusterRole and CustomResourceDefinition objects.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./..." output:crd:artifacts:config=config/crd/bases
	go run ./hack/chartsync

.PHONY: chart
chart: manifests ## Copy the generated CRDs and RBAC, the alerts and the dashboard of config/ into the Helm chart charts/subaccount-operator (manifests does it too).

.PHONY: api-docs
api-docs: crd-ref-docs ## Generate the API reference docs/api.md from api/v1alpha1 with crd-ref-docs.
	$(CRD_REF_DOCS) --source-path=./api/v1alpha1 --config=hack/crd-ref-docs.yaml --renderer=markdown --output-path=docs/api.md --log-level=WARN

.PHONY: generate
generate: controller-gen ## Generate code containing DeepCopy, DeepCopyInto, and DeepCopyObject method implementations.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

# Go files checked by 'lint' (everything except build output and local state).
GO_SOURCES = find . -type f -name '*.go' -not -path './.git/*' -not -path './bin/*' -not -path './dist/*' -not -path './tmp/*' -not -path './.dev/*' -not -path './vendor/*'

.PHONY: lint
lint: ## Offline lint: fail on files gofmt would change, then go vet.
	@unformatted="$$($(GO_SOURCES) -print0 | xargs -0 -r gofmt -l)"; \
	if [ -n "$$unformatted" ]; then \
		echo "lint: these files are not gofmt-formatted (run 'make fmt'):"; \
		echo "$$unformatted" | sed 's/^/  /'; \
		exit 1; \
	fi; \
	echo "lint: gofmt OK"
	go vet ./...

# Files written by 'make manifests generate'; 'make verify' fails when they differ from git.
GENERATED_PATHS = config/crd/bases config/rbac/role.yaml config/webhook ':(glob)**/zz_generated.*.go'
# The chart's copies of config/ (hack/chartsync, run by 'make manifests') and the API reference ('make api-docs').
GENERATED_PATHS += charts/subaccount-operator/templates/crds charts/subaccount-operator/templates/rbac charts/subaccount-operator/files docs/api.md
verify: api-docs

.PHONY: verify
verify: manifests generate ## Regenerate manifests and code, then fail if the committed generated files are stale.
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "verify: not a git work tree; cannot compare generated files" >&2; exit 1; }
	@if ! git diff --exit-code --quiet -- $(GENERATED_PATHS); then \
		echo "verify: FAILED - generated files are stale (they changed after 'make manifests generate'):" >&2; \
		git --no-pager diff --stat -- $(GENERATED_PATHS) >&2; \
		echo "verify: run 'make manifests generate' and commit the result." >&2; \
		exit 1; \
	fi
	@untracked="$$(git ls-files --others --exclude-standard -- $(GENERATED_PATHS))"; \
	if [ -n "$$untracked" ]; then \
		echo "verify: FAILED - generated files are not committed:" >&2; \
		echo "$$untracked" | sed 's/^/  /' >&2; \
		echo "verify: run 'make manifests generate' and 'git add' them." >&2; \
		exit 1; \
	fi
	@echo "verify: generated files are up to date"

.PHONY: envtest
envtest: $(LOCALBIN) ## Download (setup-envtest) or build etcd, kube-apiserver, kubectl and link them into bin/k8s (a build takes minutes, once); prints export lines for KUBEBUILDER_ASSETS/KUBECTL (use with eval).
	@assets="$$($(ENVTEST_ASSETS_SCRIPT))"; \
	if [ "$$assets" != "$(ENVTEST_ASSETS_DIR)" ]; then \
		echo "envtest: hack/envtest-assets.sh returned '$$assets', expected '$(ENVTEST_ASSETS_DIR)'" >&2; \
		exit 1; \
	fi; \
	echo "export KUBEBUILDER_ASSETS=$$assets"; \
	echo "export KUBECTL=$$assets/kubectl"

# REQUIRE_ENVTEST=1: a controller test that needs the control plane fails
# instead of skipping when it cannot have one (a plain 'go test' skips it).
.PHONY: test
test: manifests generate fmt vet envtest ## Run tests (envtest, with kubectl from bin/k8s first on PATH).
	REQUIRE_ENVTEST=1 KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS_DIR)" KUBECTL="$(ENVTEST_ASSETS_DIR)/kubectl" PATH="$(ENVTEST_ASSETS_DIR):$$PATH" \
		go test ./... -coverprofile cover.out

.PHONY: test-e2e
test-e2e: manifests envtest ## Run the end-to-end suite: the built manager and shopsim against a local control plane, driven with kubectl.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS_DIR)" KUBECTL="$(ENVTEST_ASSETS_DIR)/kubectl" \
		go test -tags e2e ./test/e2e/ -count=1 -v -timeout 15m

# The reliability suite's size: full (default; 'make test-reliability') or small
# (the bounded form .ci/run uses, a few minutes on 2 cores).
RELIABILITY_SCALE ?= full

.PHONY: test-reliability
test-reliability: manifests envtest-controller-manager ## Run the reliability suite (issue 6): crashes, platform faults, bad credentials, drift, HA, deletion under pressure, secret hygiene. RELIABILITY_SCALE=small for the bounded form.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS_DIR)" KUBECTL="$(ENVTEST_ASSETS_DIR)/kubectl" RELIABILITY_SCALE="$(RELIABILITY_SCALE)" \
		go test -tags reliability ./test/reliability/ -count=1 -v -timeout 60m

.PHONY: envtest-controller-manager
envtest-controller-manager: $(LOCALBIN) ## Build/link kube-controller-manager into bin/k8s too (garbage collector and namespace controller, for test-reliability; slow the first time).
	@WITH_CONTROLLER_MANAGER=1 $(ENVTEST_ASSETS_SCRIPT) >/dev/null

.PHONY: test-chart
test-chart: helm envtest ## Test the Helm chart: lint, render (defaults, every value), compare with config/, apply to a local control plane.
	HELM="$(HELM)" KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS_DIR)" KUBECTL="$(ENVTEST_ASSETS_DIR)/kubectl" \
		go test ./test/chart/ -count=1 -v -timeout 10m

# The vulnerability database govulncheck reads: GOVULNDB when set (e.g.
# https://vuln.go.dev or a file:// mirror of it), else one built once into the
# per-user cache from golang.org/x/vulndb at VULNDB_VERSION, which the module
# proxy serves (hack/vulncheck). A newer VULNDB_VERSION is a newer database.
GOVULNDB ?=
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018

.PHONY: vulncheck
vulncheck: govulncheck ## Fail on known vulnerabilities reachable from the code (govulncheck, offline; accepted ones with their reason in hack/vulncheck-accepted.txt).
	go run ./hack/vulncheck -govulncheck "$(GOVULNCHECK)" -db "$(GOVULNDB)" -vulndb-version "$(VULNDB_VERSION)" -accepted hack/vulncheck-accepted.txt ./...

# How long 'make fuzz' runs each fuzz target (a go test -fuzztime value).
FUZZTIME ?= 10s

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (default 10s) each; a new one must be listed here.
	go test -run='^$$' -fuzz='^FuzzExpand$$' -fuzztime=$(FUZZTIME) ./internal/platform/catalog/
	go test -run='^$$' -fuzz='^FuzzErrorResponse$$' -fuzztime=$(FUZZTIME) ./internal/platform/gateway/
	go test -run='^$$' -fuzz='^FuzzErrorFrom$$' -fuzztime=$(FUZZTIME) ./internal/platform/gateway/wire/
	go test -run='^$$' -fuzz='^FuzzVerifyRequest$$' -fuzztime=$(FUZZTIME) ./internal/platform/gateway/wire/
	go test -run='^$$' -fuzz='^FuzzParseEnvelope$$' -fuzztime=$(FUZZTIME) ./internal/platform/taobao/top/
	go test -run='^$$' -fuzz='^FuzzVerifySignature$$' -fuzztime=$(FUZZTIME) ./internal/platform/taobao/top/
	go test -run='^$$' -fuzz='^FuzzStringToSignIsInjective$$' -fuzztime=$(FUZZTIME) ./internal/platform/gateway/wire/
	go test -run='^$$' -fuzz='^FuzzParseEndpoint$$' -fuzztime=$(FUZZTIME) ./internal/platform/
	go test -run='^$$' -fuzz='^FuzzSchedule$$' -fuzztime=$(FUZZTIME) ./internal/schedule/
	go test -run='^$$' -fuzz='^FuzzAPIRequest$$' -fuzztime=$(FUZZTIME) ./internal/shopsim/
	go test -run='^$$' -fuzz='^FuzzTOPRequest$$' -fuzztime=$(FUZZTIME) ./internal/shopsim/

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build manager binary.
	go build -o bin/manager ./cmd
	go build -o bin/kubectl-subaccount ./cmd/kubectl-subaccount

.PHONY: run
run: manifests generate fmt vet ## Run a controller from your host (against the cluster in ~/.kube/config).
	go run ./cmd

.PHONY: bench
bench: manifests envtest ## Benchmark the operator (issue 7): wave, steady state, fairness, floor; one table per latency (docs/benchmarks.md). BENCH_ARGS="--workload 10k --latency 0,20ms"; quick: BENCH_ARGS="--shops 3 --per-shop 10 --backlog 30 --steady-intervals 1".
	@# Built binaries, not 'go run': the bench runs its manager (the manager as it ships, with
	@# the bench's instruments) as a process of its own.
	go build -o bin/bench ./hack/bench
	go build -o bin/bench-manager ./hack/bench/manager
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS_DIR)" bin/bench $(or $(BENCH_ARGS),--workload 1k)

.PHONY: dev
dev: manifests envtest ## Run the operator and its samples on a local control plane (no cluster needed; Ctrl-C stops). DEV_ARGS=--once exits when Ready.
	@# A built binary, not 'go run': go run exits 1 on Ctrl-C even when the program stops cleanly.
	go build -o $(LOCALBIN)/dev ./cmd/dev
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS_DIR)" exec $(LOCALBIN)/dev $(DEV_ARGS)

.PHONY: image
image: ## Build the manager image without a container engine: an OCI layout in dist/image and dist/image.tar (docker/podman load), named IMG; the route the tests check.
	@# Static (no libc in the image), reproducible paths, built by the Go above.
	mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) go build -trimpath -ldflags="-s -w" -o dist/manager-linux-$(IMAGE_ARCH) ./cmd
	go run ./hack/image -binary dist/manager-linux-$(IMAGE_ARCH) -name $(IMG) -version $(VERSION) \
		-revision "$$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
		-created "$$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)" \
		-layout dist/image -tarball dist/image.tar

.PHONY: test-image
test-image: image ## Build the image with 'make image', then read it back and check it (entrypoint, user 65532, no shell, labels, the binary runs).
	IMAGE_LAYOUT=$(CURDIR)/dist/image IMAGE_TARBALL=$(CURDIR)/dist/image.tar IMAGE_NAME=$(IMG) \
		go test ./hack/image/ -count=1 -run '^TestImage$$' -v

.PHONY: docker-build
docker-build: ## Build docker image with the manager (needs Docker or CONTAINER_TOOL; 'make image' needs neither).
	$(CONTAINER_TOOL) build -t ${IMG} .

.PHONY: docker-push
docker-push: ## Push docker image with the manager.
	$(CONTAINER_TOOL) push ${IMG}

.PHONY: build-installer
build-installer: manifests generate kustomize ## Generate a consolidated YAML with CRDs and deployment in dist/install.yaml.
	@# The image is set in a copy of config/, so the committed kustomization stays as it is.
	mkdir -p dist
	tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; cp -R config "$$tmp/"; \
	(cd "$$tmp/config/manager" && $(KUSTOMIZE) edit set image controller=${IMG}); \
	$(KUSTOMIZE) build "$$tmp/config/default" > dist/install.yaml

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize kubectl ## Install CRDs into the K8s cluster specified in ~/.kube/config.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply -f -

.PHONY: uninstall
uninstall: manifests kustomize kubectl ## Uninstall CRDs from the K8s cluster specified in ~/.kube/config. Call with ignore-not-found=true to ignore resource not found errors during deletion.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize kubectl ## Deploy controller to the K8s cluster specified in ~/.kube/config.
	cd config/manager && $(KUSTOMIZE) edit set image controller=${IMG}
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply -f -

.PHONY: undeploy
undeploy: kustomize kubectl ## Undeploy controller from the K8s cluster specified in ~/.kube/config. Call with ignore-not-found=true to ignore resource not found errors during deletion.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

## envtest control plane (etcd, kube-apiserver, kubectl), downloaded or built by hack/envtest-assets.sh
ENVTEST_ASSETS_DIR = $(LOCALBIN)/k8s/$(ENVTEST_K8S_VERSION)-etcd-$(ENVTEST_ETCD_VERSION)
# Serialise concurrent builds of the assets when flock(1) is available.
FLOCK := $(shell command -v flock 2>/dev/null)
ENVTEST_ASSETS_SCRIPT = K8S_VERSION=$(ENVTEST_K8S_VERSION) ETCD_VERSION=$(ENVTEST_ETCD_VERSION) SETUP_ENVTEST_VERSION=$(SETUP_ENVTEST_VERSION) \
	$(if $(FLOCK),$(FLOCK) $(LOCALBIN)/.envtest-assets.lock) bash hack/envtest-assets.sh $(LOCALBIN)

## Tool Binaries
# kubectl defaults to the one built for envtest; override with KUBECTL=kubectl to use your own.
KUBECTL ?= $(ENVTEST_ASSETS_DIR)/kubectl
KUSTOMIZE ?= $(LOCALBIN)/kustomize
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
HELM ?= $(LOCALBIN)/helm
CRD_REF_DOCS ?= $(LOCALBIN)/crd-ref-docs
GOVULNCHECK ?= $(LOCALBIN)/govulncheck

.PHONY: kubectl
kubectl: $(LOCALBIN) ## Ensure KUBECTL is usable (builds the envtest assets when it is the default bin/k8s kubectl).
	@if [ "$(KUBECTL)" = "$(ENVTEST_ASSETS_DIR)/kubectl" ]; then \
		$(ENVTEST_ASSETS_SCRIPT) >/dev/null; \
	elif ! command -v "$(KUBECTL)" >/dev/null 2>&1; then \
		echo "kubectl: KUBECTL=$(KUBECTL) is not an executable" >&2; exit 1; \
	fi

.PHONY: kustomize
kustomize: $(LOCALBIN) ## Download kustomize locally if necessary.
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: controller-gen
controller-gen: $(LOCALBIN) ## Download controller-gen locally if necessary.
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: helm
helm: $(LOCALBIN) ## Build helm locally if necessary (from the Go module proxy; several minutes the first time).
	$(call go-install-tool,$(HELM),helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

.PHONY: govulncheck
govulncheck: $(LOCALBIN) ## Build govulncheck locally if necessary.
	$(call go-install-tool,$(GOVULNCHECK),golang.org/x/vuln/cmd/govulncheck,$(GOVULNCHECK_VERSION))

.PHONY: crd-ref-docs
crd-ref-docs: $(LOCALBIN) ## Build crd-ref-docs locally if necessary.
	$(call go-install-tool,$(CRD_REF_DOCS),github.com/elastic/crd-ref-docs,$(CRD_REF_DOCS_VERSION))

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist.
# The binary is kept as <name>-<version> and <name> is a relative symlink to it, so bumping a
# version above re-installs and switching back is instant.
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f $(1) || true ;\
GOBIN=$(LOCALBIN) go install $${package} ;\
mv $(1) $(1)-$(3) ;\
} ;\
ln -sf $(notdir $(1))-$(3) $(1)
endef
