package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

const exampleConfig = "../../hack/shopsim.example.yaml"

var hongxing = platform.Credentials{AppKey: "12345678", AppSecret: "demo-app-secret", AccessToken: "demo-session-token"}

func noEnv(string) string { return "" }

func TestExampleConfig(t *testing.T) {
	g := NewWithT(t)
	shops, err := shopsim.LoadConfig(exampleConfig, noEnv)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(shops).To(HaveLen(3))
	platforms := map[platform.Name]bool{}
	for _, s := range shops {
		platforms[s.Platform] = true
		g.Expect(s.SeatQuota).To(BeNumerically(">", 0))
	}
	g.Expect(platforms).To(HaveLen(3), "one shop per platform")
	g.Expect(shops[0].Platform).To(Equal(platform.Taobao))
	g.Expect(shops[0].MainAccount).To(Equal("hongxing"))
	g.Expect(shops[0].Credentials).To(Equal(hongxing))

	// The engine accepts them all.
	e := memory.NewEngine()
	g.Expect(shopsim.AddShops(e, shops, discard())).To(Succeed())
	g.Expect(e.Shops()).To(HaveLen(3))
}

func TestConfigCredentialsFromEnv(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		g.Expect(os.WriteFile(p, []byte(body), 0o600)).To(Succeed())
		return p
	}
	env := map[string]string{"TB_SECRET": "secret-from-env", "TB_TOKEN": "token-from-env"}
	getenv := func(k string) string { return env[k] }

	shops, err := shopsim.LoadConfig(write(`
shops:
  - platform: taobao
    mainAccount: m
    seatQuota: 2
    appKey: k
    appSecretEnv: TB_SECRET
    accessTokenEnv: TB_TOKEN
`), getenv)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(shops[0].Credentials).To(Equal(platform.Credentials{AppKey: "k", AppSecret: "secret-from-env", AccessToken: "token-from-env"}))

	for _, tt := range []struct{ name, body, msg string }{
		{"both", "shops: [{platform: taobao, mainAccount: m, appKey: k, appSecret: literal-secret, appSecretEnv: TB_SECRET, accessToken: t}]", "not both"},
		{"unset env", "shops: [{platform: taobao, mainAccount: m, appKey: k, appSecretEnv: NOPE, accessToken: t}]", "$NOPE"},
		{"missing", "shops: [{platform: taobao, mainAccount: m, appKey: k, accessToken: t}]", "appSecret (or appSecretEnv) is required"},
		{"unknown field", "shops: [{platform: taobao, mainAccount: m, appKey: k, appSecret: s, accessToken: t, secret: x}]", "unknown field"},
	} {
		_, err := shopsim.LoadConfig(write(tt.body), getenv)
		g.Expect(err).To(MatchError(ContainSubstring(tt.msg)), tt.name)
		g.Expect(err.Error()).NotTo(ContainSubstring("literal-secret"), tt.name)
		g.Expect(err.Error()).NotTo(ContainSubstring("secret-from-env"), tt.name)
	}
}

func TestFlags(t *testing.T) {
	g := NewWithT(t)
	f, err := parseFlags(nil, io.Discard, noEnv)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.listen).To(Equal("127.0.0.1:8089"))
	g.Expect(f.adminToken).To(BeEmpty())
	g.Expect(f.showSMS).To(BeFalse(), "codes on the page only when asked")

	f, err = parseFlags([]string{"--latency=250ms", "--error-rate=0.5", "--drop-rate=0.1", "--rate-limit=3", "--show-sms-codes"}, io.Discard,
		func(k string) string { return map[string]string{adminTokenEnv: "from-env"}[k] })
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.faults.Latency).To(Equal(250 * time.Millisecond))
	g.Expect(f.faults.ErrorRate).To(Equal(0.5))
	g.Expect(f.faults.DropRate).To(Equal(0.1))
	g.Expect(f.faults.RateLimit).To(Equal(3.0))
	g.Expect(f.adminToken).To(Equal("from-env"))
	g.Expect(f.showSMS).To(BeTrue())

	for _, bad := range [][]string{{"--error-rate=2"}, {"--drop-rate=-1"}, {"--rate-limit=-1"}, {"extra"}} {
		_, err := parseFlags(bad, io.Discard, noEnv)
		g.Expect(err).To(HaveOccurred(), "%v", bad)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

// start runs the command until the returned stop is called; it returns the
// base URL and the output so far.
func start(t *testing.T, args ...string) (base string, stdout, stderr *syncBuffer, stop func() error) {
	t.Helper()
	g := NewWithT(t)
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"--listen=127.0.0.1:0"}, args...), stdout, stderr, noEnv) }()
	g.Eventually(func() string { return stdout.String() }).WithTimeout(10*time.Second).Should(MatchRegexp(`listening on http://`),
		"stderr: %s", stderr)
	base = listenRE.FindStringSubmatch(stdout.String())[1]
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return base, stdout, stderr, stop
}

func signed(t *testing.T, method, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	wire.SignRequest(req, hongxing.AppKey, hongxing.AppSecret, hongxing.AccessToken, body, time.Now())
	return req
}

func TestRunServesPersistsAndRestarts(t *testing.T) {
	g := NewWithT(t)
	state := filepath.Join(t.TempDir(), "state.json")
	base, stdout, stderr, stop := start(t, "--config="+exampleConfig, "--state-file="+state)
	g.Expect(stdout.String()).To(ContainSubstring("shop taobao/hongxing"))
	g.Expect(stdout.String()).To(ContainSubstring("shop pinduoduo/拼多多小店"))
	g.Expect(stdout.String()).To(ContainSubstring("admin endpoints disabled"))

	prefix := base + wire.ShopPrefix(platform.Taobao, "hongxing")
	body, _ := json.Marshal(wire.CreateAccount{Name: "xiaohong", Password: "Pa55word!"})
	resp, err := http.DefaultClient.Do(signed(t, http.MethodPost, prefix+wire.PathAccounts, body))
	g.Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusCreated))

	resp, err = http.Get(base + "/")
	g.Expect(err).NotTo(HaveOccurred())
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	g.Expect(string(page)).To(ContainSubstring("hongxing:xiaohong"))

	g.Expect(stop()).To(Succeed())
	info, err := os.Stat(state)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))
	for _, out := range []string{stdout.String(), stderr.String()} {
		for _, secret := range []string{"demo-app-secret", "demo-session-token", "demo-pdd-client-secret", "demo-douyin-access-token", "Pa55word!"} {
			g.Expect(out).NotTo(ContainSubstring(secret))
		}
	}

	// Restarted from the state file: the account is there and its password
	// still logs in; the config's shops are not added twice.
	base, stdout, _, stop = start(t, "--config="+exampleConfig, "--state-file="+state, "--admin-token=tok")
	g.Expect(strings.Count(stdout.String(), "shop taobao/hongxing")).To(Equal(1))
	g.Expect(stdout.String()).NotTo(ContainSubstring("admin endpoints disabled"))
	prefix = base + wire.ShopPrefix(platform.Taobao, "hongxing")
	body, _ = json.Marshal(wire.LoginCheck{Name: "hongxing:xiaohong", Password: "Pa55word!"})
	resp, err = http.DefaultClient.Do(signed(t, http.MethodPost, prefix+wire.PathLogin, body))
	g.Expect(err).NotTo(HaveOccurred())
	var login wire.LoginResult
	g.Expect(json.NewDecoder(resp.Body).Decode(&login)).To(Succeed())
	_ = resp.Body.Close()
	g.Expect(login.OK).To(BeTrue())
	g.Expect(stop()).To(Succeed())
}

func TestRunFaultFlagsAndBadConfig(t *testing.T) {
	g := NewWithT(t)
	base, stdout, _, stop := start(t, "--config="+exampleConfig, "--error-rate=1")
	g.Expect(stdout.String()).To(ContainSubstring("faults: "))
	resp, err := http.DefaultClient.Do(signed(t, http.MethodGet, base+wire.ShopPrefix(platform.Taobao, "hongxing")+wire.PathShop, nil))
	g.Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusServiceUnavailable))
	g.Expect(stop()).To(Succeed())

	err = run(context.Background(), []string{"--listen=127.0.0.1:0", "--config=" + filepath.Join(t.TempDir(), "none.yaml")}, io.Discard, io.Discard, noEnv)
	g.Expect(err).To(MatchError(ContainSubstring("config")))
	err = run(context.Background(), []string{"--listen=127.0.0.1:0", "--state-file=" + filepath.Join(t.TempDir(), "no-dir", "s.json")}, io.Discard, io.Discard, noEnv)
	g.Expect(err).To(HaveOccurred())
}

// A request whose headers exceed maxHeaderBytes is refused before the
// handler runs (net/http's default would let 1 MiB through per request).
func TestRunRefusesLargeHeaders(t *testing.T) {
	g := NewWithT(t)
	base, _, stderr, _ := start(t, "--config="+exampleConfig)
	g.Expect(stderr.String()).NotTo(ContainSubstring("WARNING"))
	req := signed(t, http.MethodGet, base+wire.ShopPrefix(platform.Taobao, "hongxing")+wire.PathShop, nil)
	req.Header.Set("X-Padding", strings.Repeat("p", 2*maxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusRequestHeaderFieldsTooLarge))
	// A normal request still passes.
	resp, err = http.DefaultClient.Do(signed(t, http.MethodGet, base+wire.ShopPrefix(platform.Taobao, "hongxing")+wire.PathShop, nil))
	g.Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
}

// Listening on every interface is warned about on stderr and in the log.
func TestRunWarnsWhenNotLoopback(t *testing.T) {
	g := NewWithT(t)
	_, _, stderr, stop := start(t, "--listen=0.0.0.0:0")
	g.Expect(stderr.String()).To(ContainSubstring("WARNING: shopsim is listening on "))
	g.Expect(stderr.String()).To(ContainSubstring("not a loopback address"))
	g.Expect(stop()).To(Succeed())
}

func TestStateFileShopsWinOverConfig(t *testing.T) {
	g := NewWithT(t)
	e := memory.NewEngine()
	other := platform.Credentials{AppKey: "k", AppSecret: "rotated-secret", AccessToken: "t"}
	g.Expect(e.AddShop(memory.ShopSetup{Platform: platform.Taobao, MainAccount: "hongxing", Credentials: other, SeatQuota: 1})).To(Succeed())
	shops, err := shopsim.LoadConfig(exampleConfig, noEnv)
	g.Expect(err).NotTo(HaveOccurred())
	var logs syncBuffer
	g.Expect(shopsim.AddShops(e, shops, newLogger(&logs))).To(Succeed())
	got, _ := e.ShopCredentials(platform.Taobao, "hongxing")
	g.Expect(got).To(Equal(other))
	g.Expect(logs.String()).To(ContainSubstring("keeping the state file's"))
	g.Expect(logs.String()).NotTo(ContainSubstring("rotated-secret"))
	g.Expect(logs.String()).NotTo(ContainSubstring("demo-app-secret"))
	g.Expect(e.Shops()).To(HaveLen(3))
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
