// Command image builds the manager's container image without a container
// engine and without pulling a base image ('make image'): one layer holding
// the static manager binary and the /etc/passwd and /etc/group entries of
// the non-root user 65532, written as an OCI image layout and as a tarball
// that 'docker load', 'podman load' and 'kind load image-archive' read.
// go-containerregistry writes both; the Dockerfile stays for people who
// build with Docker, but this is the route the tests check.
//
// The image has no shell and no package manager, like distroless/static,
// and no CA bundle: the manager carries Mozilla's roots
// (golang.org/x/crypto/x509roots/fallback), used when the system has none,
// and SSL_CERT_FILE points it at a mounted bundle for a private CA.
package main

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// entrypoint is where the manager binary lives in the image; the chart
	// and config/manager run it as the container's command.
	entrypoint = "/manager"
	// nonRoot is distroless's "nonroot" user and group, which the chart's
	// securityContext (runAsUser/runAsGroup 65532) expects.
	nonRoot = 65532
	user    = "65532:65532"
)

// requiredLabels are the OCI annotations every image carries
// (org.opencontainers.image.*), checked by check.
var requiredLabels = []string{"source", "version", "revision", "licenses", "created", "title", "description"}

type options struct {
	binary   string // the manager, built with CGO_ENABLED=0 GOOS=linux
	name     string // the image reference, e.g. ghcr.io/org/repo:0.1.0
	version  string
	revision string
	source   string
	licenses string
	created  time.Time // fixed (the commit's time), so a rebuild is byte-identical
	layout   string    // OCI image layout directory to write ("" = none)
	tarball  string    // docker/podman-loadable tarball to write ("" = none)
}

func main() {
	var o options
	var created string
	flag.StringVar(&o.binary, "binary", "", "the manager binary (static: CGO_ENABLED=0 GOOS=linux)")
	flag.StringVar(&o.name, "name", "", "image reference, e.g. ghcr.io/subaccount-operator/subaccount-operator:0.1.0")
	flag.StringVar(&o.version, "version", "", "org.opencontainers.image.version")
	flag.StringVar(&o.revision, "revision", "", "org.opencontainers.image.revision (the git commit)")
	flag.StringVar(&o.source, "source", "https://github.com/subaccount-operator/subaccount-operator", "org.opencontainers.image.source")
	flag.StringVar(&o.licenses, "licenses", "Apache-2.0", "org.opencontainers.image.licenses (SPDX)")
	flag.StringVar(&created, "created", "", "creation time, RFC 3339 (default: the Unix epoch, for reproducible builds)")
	flag.StringVar(&o.layout, "layout", "", "write an OCI image layout to this directory (replaced)")
	flag.StringVar(&o.tarball, "tarball", "", "write a 'docker load' tarball to this file")
	flag.Parse()
	if created != "" {
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			fail(fmt.Errorf("-created %q: %w", created, err))
		}
		o.created = t.UTC()
	} else {
		o.created = time.Unix(0, 0).UTC()
	}
	if err := run(o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "image:", err)
	os.Exit(1)
}

func run(o options) error {
	if o.binary == "" || o.name == "" || o.version == "" || o.revision == "" {
		return errors.New("-binary, -name, -version and -revision are required")
	}
	if o.layout == "" && o.tarball == "" {
		return errors.New("nothing to write: give -layout, -tarball or both")
	}
	ref, err := name.ParseReference(o.name)
	if err != nil {
		return fmt.Errorf("image name %q: %w", o.name, err)
	}
	img, goVersion, err := build(o)
	if err != nil {
		return err
	}
	// Read back what was built before writing it anywhere: a wrong image is
	// never left where the installer's name points.
	if problems := check(img); len(problems) > 0 {
		return fmt.Errorf("the built image fails its checks:\n  %s", strings.Join(problems, "\n  "))
	}
	if o.layout != "" {
		if err := writeLayout(o.layout, ref, img); err != nil {
			return err
		}
	}
	if o.tarball != "" {
		if err := tarball.WriteToFile(o.tarball, ref, img); err != nil {
			return fmt.Errorf("writing %s: %w", o.tarball, err)
		}
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("image digest: %w", err)
	}
	fmt.Printf("image: %s@%s (manager built by %s)\n", ref.Name(), digest, goVersion)
	for _, p := range []string{o.layout, o.tarball} {
		if p != "" {
			fmt.Printf("image: wrote %s\n", p)
		}
	}
	return nil
}

// writeLayout writes img as the only image of a fresh OCI layout at dir,
// tagged with ref (annotation org.opencontainers.image.ref.name), which
// 'crane push', 'skopeo copy oci:DIR' and 'oras' read.
func writeLayout(dir string, ref name.Reference, img v1.Image) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clearing %s: %w", dir, err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("creating the OCI layout %s: %w", dir, err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref.Name(),
	})); err != nil {
		return fmt.Errorf("writing the image into %s: %w", dir, err)
	}
	return nil
}

// build assembles the image from the manager binary; it also returns the Go
// version that built the binary.
func build(o options) (v1.Image, string, error) {
	bin, err := os.ReadFile(o.binary)
	if err != nil {
		return nil, "", fmt.Errorf("reading the manager binary: %w", err)
	}
	info, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		return nil, "", fmt.Errorf("%s is not a Go binary with build information: %w", o.binary, err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// A cgo binary needs a libc the image does not have; it would fail only
	// when started in a cluster.
	if settings["CGO_ENABLED"] != "0" || settings["GOOS"] != "linux" {
		return nil, "", fmt.Errorf("%s must be built with CGO_ENABLED=0 GOOS=linux (it has CGO_ENABLED=%q GOOS=%q)",
			o.binary, settings["CGO_ENABLED"], settings["GOOS"])
	}
	arch := settings["GOARCH"]

	layerTar, err := rootFS(bin, o.created)
	if err != nil {
		return nil, "", err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, "", fmt.Errorf("making the layer: %w", err)
	}

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: o.created},
			CreatedBy: "hack/image: " + entrypoint + " (" + info.GoVersion + "), /etc/passwd, /etc/group",
			Comment:   "built without a container engine by go-containerregistry",
		},
	})
	if err != nil {
		return nil, "", fmt.Errorf("adding the layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, "", fmt.Errorf("reading the image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = arch
	cfg.Created = v1.Time{Time: o.created}
	cfg.Config = v1.Config{
		Entrypoint: []string{entrypoint},
		User:       user,
		WorkingDir: "/",
		Labels: map[string]string{
			"org.opencontainers.image.title":       "subaccount-operator",
			"org.opencontainers.image.description": "Kubernetes operator for shop staff sub-accounts (Taobao/Tmall, Pinduoduo, Douyin Shop)",
			"org.opencontainers.image.source":      o.source,
			"org.opencontainers.image.version":     o.version,
			"org.opencontainers.image.revision":    o.revision,
			"org.opencontainers.image.licenses":    o.licenses,
			"org.opencontainers.image.created":     o.created.Format(time.RFC3339),
		},
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("writing the image config: %w", err)
	}
	return img, info.GoVersion, nil
}

// rootFS is the image's only layer: the directories distroless/static has
// that the manager may use, the users, and the binary. Entries are in a
// fixed order with a fixed time, so the same binary gives the same digest.
func rootFS(bin []byte, mtime time.Time) ([]byte, error) {
	passwd := "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group := "root:x:0:\nnonroot:x:65532:\n"
	entries := []struct {
		hdr  tar.Header
		body []byte
	}{
		{tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, nil},
		{tar.Header{Typeflag: tar.TypeReg, Name: "etc/group", Mode: 0o644}, []byte(group)},
		{tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644}, []byte(passwd)},
		{tar.Header{Typeflag: tar.TypeDir, Name: "home/", Mode: 0o755}, nil},
		{tar.Header{Typeflag: tar.TypeDir, Name: "home/nonroot/", Mode: 0o700, Uid: nonRoot, Gid: nonRoot}, nil},
		{tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(entrypoint, "/"), Mode: 0o755}, bin},
		// Go's os.TempDir; the chart mounts the root read-only, so this is
		// for 'docker run'.
		{tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777}, nil},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		h.Size = int64(len(e.body))
		h.ModTime = mtime
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", h.Name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing the layer: %w", err)
	}
	return buf.Bytes(), nil
}

// shells are the names of command interpreters; none may be in the image.
var shells = []string{"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "toybox"}

// check reads an image back and lists what is wrong with it: the
// entrypoint, the user, the working directory and the labels in its config,
// and in its filesystem any shell or any executable but the manager.
func check(img v1.Image) []string {
	var problems []string
	cfg, err := img.ConfigFile()
	if err != nil {
		return []string{fmt.Sprintf("reading the config: %v", err)}
	}
	c := cfg.Config
	if !slices.Equal(c.Entrypoint, []string{entrypoint}) {
		problems = append(problems, fmt.Sprintf("entrypoint is %q, want [%q]", c.Entrypoint, entrypoint))
	}
	if len(c.Cmd) > 0 {
		problems = append(problems, fmt.Sprintf("cmd is %q, want none (the chart passes the flags)", c.Cmd))
	}
	if c.User != user {
		problems = append(problems, fmt.Sprintf("user is %q, want %q (non-root)", c.User, user))
	}
	if c.WorkingDir != "/" {
		problems = append(problems, fmt.Sprintf("working directory is %q, want /", c.WorkingDir))
	}
	if cfg.OS != "linux" || cfg.Architecture == "" {
		problems = append(problems, fmt.Sprintf("platform is %s/%s, want linux/<arch>", cfg.OS, cfg.Architecture))
	}
	for _, l := range requiredLabels {
		if c.Labels["org.opencontainers.image."+l] == "" {
			problems = append(problems, "label org.opencontainers.image."+l+" is missing")
		}
	}

	files, err := listFiles(img)
	if err != nil {
		return append(problems, err.Error())
	}
	if f, ok := files[entrypoint]; !ok || f.Typeflag != tar.TypeReg || f.Mode&0o111 == 0 {
		problems = append(problems, entrypoint+" is not an executable file in the image")
	}
	for p, f := range files {
		if slices.Contains(shells, path.Base(p)) {
			problems = append(problems, fmt.Sprintf("%s is in the image: no shell may be", p))
		} else if p != entrypoint && f.Typeflag != tar.TypeDir && f.Mode&0o111 != 0 {
			problems = append(problems, fmt.Sprintf("%s is executable: the manager must be the only program", p))
		}
	}
	if f, ok := files["/etc/passwd"]; !ok || !strings.Contains(string(f.body), ":65532:65532:") {
		problems = append(problems, "/etc/passwd has no entry for 65532")
	}
	slices.Sort(problems)
	return problems
}

type file struct {
	tar.Header
	body []byte
}

// listFiles reads the image's flattened filesystem (as a container would
// see it), keyed by absolute path; the contents are kept for small files
// and the manager.
func listFiles(img v1.Image) (map[string]file, error) {
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the image's filesystem: %w", err)
		}
		p := path.Clean("/" + h.Name)
		f := file{Header: *h}
		if h.Typeflag == tar.TypeReg && (h.Size < 1<<20 || p == entrypoint) {
			if f.body, err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("reading %s from the image: %w", p, err)
			}
		}
		files[p] = f
	}
}
