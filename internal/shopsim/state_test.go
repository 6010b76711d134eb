package shopsim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := newFixture(t, Options{StateFile: path})
	g := f.g

	// Reads do not write the file; writes do, before answering.
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	_, err := os.Stat(path)
	g.Expect(os.IsNotExist(err)).To(BeTrue(), "a read wrote the state file")
	role := f.role("cs", "wangwang")
	a := f.account("xiaohong", "Pa55word!", role.ID)
	f.ok(http.StatusNoContent, http.MethodPut, at(wire.PathPassword, a.ID), wire.PasswordChange{Password: "N3w-Pa55word"}, nil,
		sig{header: map[string]string{wire.HeaderSource: "SubAccount/default/xiaohong"}})

	info, err := os.Stat(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))
	data, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).NotTo(ContainSubstring("N3w-Pa55word"))
	g.Expect(string(data)).NotTo(ContainSubstring("Pa55word!"))
	// No temporary files are left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(entries).To(HaveLen(1))

	// A new engine and server from the file: the accounts are there and
	// the password still checks.
	e2 := memory.NewEngine()
	loaded, err := LoadState(e2, path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(loaded).To(BeTrue())
	f2 := &fixture{t: t, g: g, clock: f.clock, engine: e2, srv: New(e2, Options{Clock: f.clock.Now, StateFile: path})}
	f2.ts = httptest.NewServer(f2.srv.Handler())
	t.Cleanup(f2.ts.Close)
	var got wire.Account
	f2.ok(http.StatusOK, http.MethodGet, at(wire.PathAccountName, "xiaohong"), nil, &got, sig{})
	g.Expect(got).To(Equal(func() wire.Account {
		a.PasswordChangedAt = got.PasswordChangedAt
		return a
	}()))
	var login wire.LoginResult
	f2.ok(http.StatusOK, http.MethodPost, wire.PathLogin, wire.LoginCheck{Name: "xiaohong", Password: "N3w-Pa55word"}, &login, sig{})
	g.Expect(login.OK).To(BeTrue())
	f2.ok(http.StatusOK, http.MethodPost, wire.PathLogin, wire.LoginCheck{Name: "xiaohong", Password: "Pa55word!"}, &login, sig{})
	g.Expect(login.OK).To(BeFalse())
	audit := e2.Audit(platform.Taobao, tbMain)
	g.Expect(audit[len(audit)-1].Source).To(Equal("SubAccount/default/xiaohong"))
	// IDs continue after the restored ones.
	b := f2.account("daming", "Pa55word!")
	g.Expect(b.ID).NotTo(Equal(a.ID))
	g.Expect(b.ID).NotTo(Equal(role.ID))

	// A failed write changes nothing; the file holds the last good state.
	expectError(t, f2.call(http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "daming", Password: "Pa55word!"}, sig{}),
		http.StatusConflict, wire.CodeNameTaken, "name")
	e3 := memory.NewEngine()
	_, err = LoadState(e3, path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e3.Accounts(platform.Taobao, tbMain)).To(HaveLen(2))
}

func TestLoadStateMissingAndBad(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	e := memory.NewEngine()
	loaded, err := LoadState(e, filepath.Join(dir, "none.json"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(loaded).To(BeFalse())

	bad := filepath.Join(dir, "bad.json")
	g.Expect(os.WriteFile(bad, []byte("{not json"), 0o600)).To(Succeed())
	_, err = LoadState(e, bad)
	g.Expect(err).To(MatchError(ContainSubstring("bad.json")))

	// A server without a state file saves nothing.
	g.Expect(New(e, Options{}).SaveState()).To(Succeed())
	// An unwritable location is reported.
	s := New(e, Options{StateFile: filepath.Join(dir, "missing-dir", "state.json")})
	g.Expect(s.SaveState()).To(HaveOccurred())
}

func TestStateFileFailureAnswers503(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "state.json")
	f := newFixture(t, Options{StateFile: path})
	r := f.call(http.MethodPost, wire.PathRoles, wire.RoleSpec{Name: "cs"}, sig{})
	d := expectError(t, r, http.StatusServiceUnavailable, wire.CodeUnavailable, "")
	f.g.Expect(d.Message).To(ContainSubstring("could not save"))
	f.g.Expect(d.Message).NotTo(ContainSubstring(path))
}

func TestConcurrentWritesCoalesced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := newFixture(t, Options{StateFile: path})
	f.g.Expect(f.engine.SetSeatQuota(platform.Taobao, tbMain, 100)).To(Succeed())
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			req := f.request(http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: fmt.Sprintf("u%02d", i), Password: "Pa55word!"}, sig{})
			resp, err := f.ts.Client().Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				errs <- resp.Status
			}
		})
	}
	wg.Wait()
	close(errs)
	var failed []string
	for e := range errs {
		failed = append(failed, e)
	}
	f.g.Expect(failed).To(BeEmpty(), strings.Join(failed, "; "))
	e2 := memory.NewEngine()
	_, err := LoadState(e2, path)
	f.g.Expect(err).NotTo(HaveOccurred())
	f.g.Expect(e2.Accounts(platform.Taobao, tbMain)).To(HaveLen(n))
}

func TestStateFileCoalescing(t *testing.T) {
	g := NewWithT(t)
	path := filepath.Join(t.TempDir(), "state.json")
	e := memory.NewEngine()
	sf := &stateFile{path: path, engine: e}
	// A caller whose ticket a finished write already covers does not write
	// again.
	g.Expect(sf.save()).To(Succeed())
	g.Expect(sf.saved).To(Equal(uint64(1)))
	sf.tickets.Add(2) // two changes announced while nobody held the lock
	g.Expect(sf.save()).To(Succeed())
	g.Expect(sf.saved).To(Equal(uint64(4)), "one write covered all announced changes")
	g.Expect(os.Remove(path)).To(Succeed())
	sf.mu.Lock()
	sf.saved = 10 // as if a concurrent write had covered the next ticket
	sf.mu.Unlock()
	g.Expect(sf.save()).To(Succeed())
	_, err := os.Stat(path)
	g.Expect(os.IsNotExist(err)).To(BeTrue(), "a covered save wrote the file again")
}
