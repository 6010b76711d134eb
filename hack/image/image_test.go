package main

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// repoRoot is the repository's root, from this package's directory.
const repoRoot = "../.."

// TestImage reads back what 'make image' wrote ('make test-image' runs it
// with IMAGE_LAYOUT, IMAGE_TARBALL and IMAGE_NAME set) as a registry client
// or a container engine would, and checks what a cluster depends on: the
// entrypoint, the non-root user, no shell, the labels, and a binary that
// runs. Building the manager statically takes minutes from a cold cache,
// so plain 'go test ./...' leaves this to make.
func TestImage(t *testing.T) {
	layoutDir, tarPath, ref := os.Getenv("IMAGE_LAYOUT"), os.Getenv("IMAGE_TARBALL"), os.Getenv("IMAGE_NAME")
	if layoutDir == "" || tarPath == "" || ref == "" {
		t.Skip("checks the image 'make image' writes: run 'make test-image' (sets IMAGE_LAYOUT, IMAGE_TARBALL, IMAGE_NAME)")
	}
	g := NewWithT(t)
	dir := t.TempDir()

	// The OCI layout: one image, named by its ref.name annotation.
	idx, err := layout.ImageIndexFromPath(layoutDir)
	g.Expect(err).NotTo(HaveOccurred())
	manifest, err := idx.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(manifest.Manifests).To(HaveLen(1))
	g.Expect(manifest.Manifests[0].Annotations).To(HaveKeyWithValue("org.opencontainers.image.ref.name", ref))
	img, err := idx.Image(manifest.Manifests[0].Digest)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(check(img)).To(BeEmpty())

	cfg, err := img.ConfigFile()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.Config.Entrypoint).To(Equal([]string{"/manager"}))
	g.Expect(cfg.Config.User).To(Equal("65532:65532"))
	g.Expect(cfg.OS).To(Equal("linux"))
	labels := cfg.Config.Labels
	_, tag, _ := strings.Cut(ref[strings.LastIndex(ref, "/"):], ":")
	g.Expect(labels).To(And(
		HaveKeyWithValue("org.opencontainers.image.version", tag),
		HaveKeyWithValue("org.opencontainers.image.source", "https://github.com/subaccount-operator/subaccount-operator"),
		HaveKeyWithValue("org.opencontainers.image.licenses", "Apache-2.0"),
		HaveKeyWithValue("org.opencontainers.image.revision", MatchRegexp(`^([0-9a-f]{40}|unknown)$`)),
	))

	// The tarball holds the same image (config and layer; its manifest is
	// Docker's, so its digest differs) under the same name.
	named, err := name.NewTag(ref)
	g.Expect(err).NotTo(HaveOccurred())
	fromTar, err := tarball.ImageFromPath(tarPath, &named)
	g.Expect(err).NotTo(HaveOccurred())
	configName, err := img.ConfigName()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fromTar.ConfigName()).To(Equal(configName))
	want, err := img.Digest()
	g.Expect(err).NotTo(HaveOccurred())

	// The binary taken out of the image: static, built by the toolchain
	// this test runs on (go1.27.3 under make), and it runs.
	files, err := listFiles(img)
	g.Expect(err).NotTo(HaveOccurred())
	extracted := filepath.Join(dir, "manager")
	g.Expect(os.WriteFile(extracted, files["/manager"].body, 0o755)).To(Succeed())
	info, err := buildinfo.ReadFile(extracted)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.GoVersion).To(Equal(runtime.Version()))
	g.Expect(info.Settings).To(ContainElement(debugSetting("CGO_ENABLED", "0")))
	if cfg.Architecture == runtime.GOARCH {
		help, err := exec.Command(extracted, "--help").CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), "manager --help: %s", help)
		g.Expect(string(help)).To(ContainSubstring("-platform-driver"))
	}

	// The same binary and labels give the same image: a fixed time and order.
	created, err := time.Parse(time.RFC3339, labels["org.opencontainers.image.created"])
	g.Expect(err).NotTo(HaveOccurred())
	again, _, err := build(options{binary: extracted, version: labels["org.opencontainers.image.version"],
		revision: labels["org.opencontainers.image.revision"], source: labels["org.opencontainers.image.source"],
		licenses: labels["org.opencontainers.image.licenses"], created: created})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.Digest()).To(Equal(want))
}

// TestCheckFindsProblems keeps check honest: an image with a shell, a
// second program, the root user and no labels is refused for each.
func TestCheckFindsProblems(t *testing.T) {
	g := NewWithT(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
	}{{"bin/sh", 0o755}, {"usr/bin/curl", 0o755}, {"etc/passwd", 0o644}} {
		g.Expect(tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: 1, Typeflag: tar.TypeReg})).To(Succeed())
		_, err := tw.Write([]byte("x"))
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(tw.Close()).To(Succeed())
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	g.Expect(err).NotTo(HaveOccurred())
	img, err := mutate.AppendLayers(empty.Image, layer)
	g.Expect(err).NotTo(HaveOccurred())
	img, err = mutate.Config(img, v1.Config{Entrypoint: []string{"/bin/sh"}, User: "0"})
	g.Expect(err).NotTo(HaveOccurred())

	problems := strings.Join(check(img), "\n")
	for _, want := range []string{
		`entrypoint is ["/bin/sh"]`,
		`user is "0"`,
		"working directory",
		"platform is",
		"label org.opencontainers.image.revision is missing",
		"/manager is not an executable file",
		"/bin/sh is in the image: no shell may be",
		"/usr/bin/curl is executable",
		"/etc/passwd has no entry for 65532",
	} {
		g.Expect(problems).To(ContainSubstring(want))
	}
}

// TestBuildRefusesACgoBinary: a binary linked against libc would start in
// no container of this image; build says so instead of writing one.
func TestBuildRefusesACgoBinary(t *testing.T) {
	g := NewWithT(t)
	self, err := os.Executable()
	g.Expect(err).NotTo(HaveOccurred())
	info, err := buildinfo.ReadFile(self)
	g.Expect(err).NotTo(HaveOccurred())
	for _, s := range info.Settings {
		if s.Key == "CGO_ENABLED" && s.Value == "0" {
			t.Skip("this test binary is itself static; nothing to refuse")
		}
	}
	_, _, err = build(options{binary: self, created: time.Unix(0, 0)})
	g.Expect(err).To(MatchError(ContainSubstring("must be built with CGO_ENABLED=0 GOOS=linux")))
}

// TestImageNameAgrees: the chart's default image, config/manager (hence
// dist/install.yaml) and the Makefile's IMG are one name, so what
// 'make image' writes is what an install pulls.
func TestImageNameAgrees(t *testing.T) {
	g := NewWithT(t)
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(repoRoot, rel))
		g.Expect(err).NotTo(HaveOccurred())
		return string(b)
	}
	one := func(text, pattern string) string {
		m := regexp.MustCompile(pattern).FindStringSubmatch(text)
		g.Expect(m).To(HaveLen(2), "no match for %s", pattern)
		return m[1]
	}
	repository := one(read("Makefile"), `(?m)^IMAGE_REPOSITORY \?= (\S+)$`)
	appVersion := one(read("charts/subaccount-operator/Chart.yaml"), `(?m)^appVersion: "?([^"\s]+)"?$`)
	g.Expect(repository).To(ContainSubstring("/"))

	values := read("charts/subaccount-operator/values.yaml")
	g.Expect(one(values, `(?m)^  repository: (\S+)$`)).To(Equal(repository))
	g.Expect(one(values, `(?m)^  tag: (\S+)$`)).To(Equal(`""`), "the chart's tag defaults to its appVersion")

	kustomization := read("config/manager/kustomization.yaml")
	g.Expect(one(kustomization, `(?m)^  newName: (\S+)$`)).To(Equal(repository))
	g.Expect(one(kustomization, `(?m)^  newTag: "?([^"\s]+)"?$`)).To(Equal(appVersion))
}

func debugSetting(key, value string) any {
	return And(HaveField("Key", key), HaveField("Value", value))
}
