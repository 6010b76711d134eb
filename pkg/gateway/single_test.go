package gateway

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// rolesOffice answers ListRoles and CreateRole; a create waits for
// release, so a test can hold a write open.
type rolesOffice struct {
	Unsupported
	writing chan struct{} // closed when a create has started
	release chan struct{} // a create returns once closed
	read    chan struct{} // gets a value when ListRoles runs
}

func (o *rolesOffice) CreateRole(_ context.Context, spec RoleSpec, _ string) (Role, error) {
	close(o.writing)
	<-o.release
	return Role{ID: "1", RoleSpec: spec}, nil
}

func (o *rolesOffice) ListRoles(context.Context) ([]Role, error) {
	o.read <- struct{}{}
	return []Role{}, nil
}

// lockSpy is a write lock that says when someone waits for it.
type lockSpy struct {
	sync.Mutex
	waiting chan struct{}
}

func (l *lockSpy) Lock() {
	select {
	case l.waiting <- struct{}{}:
	default:
	}
	l.Mutex.Lock()
}

func send(t *testing.T, url string, shop Shop, creds Credentials, method, path string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(method, url+wire.ShopPrefix(shop.Platform, shop.MainAccount)+path, bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0
	}
	wire.SignRequest(req, creds.AppKey, creds.AppSecret, creds.AccessToken, body, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// SingleShop serves its one shop, signed with its credentials, and no
// other.
func TestSingleShop(t *testing.T) {
	g := NewWithT(t)
	office := &rolesOffice{read: make(chan struct{}, 1)}
	ts := httptest.NewServer(New(SingleShop(testShop, testCreds, office), Options{}))
	t.Cleanup(ts.Close)
	g.Expect(send(t, ts.URL, testShop, testCreds, http.MethodGet, wire.PathRoles, nil)).To(Equal(http.StatusOK))
	<-office.read
	other := Shop{Platform: Pinduoduo, MainAccount: testShop.MainAccount}
	g.Expect(send(t, ts.URL, other, testCreds, http.MethodGet, wire.PathRoles, nil)).To(Equal(http.StatusUnauthorized))
	wrong := testCreds
	wrong.AccessToken = "someone-else"
	g.Expect(send(t, ts.URL, testShop, wrong, http.MethodGet, wire.PathRoles, nil)).To(Equal(http.StatusUnauthorized))
	g.Expect(office.read).To(BeEmpty(), "a refused request reached the back office")
}

// With LockReads a read waits for the write under way; without, it goes
// ahead of it.
func TestLockReads(t *testing.T) {
	for _, lockReads := range []bool{true, false} {
		g := NewWithT(t)
		office := &rolesOffice{writing: make(chan struct{}), release: make(chan struct{}), read: make(chan struct{}, 1)}
		lock := &lockSpy{waiting: make(chan struct{}, 1)}
		ts := httptest.NewServer(New(SingleShop(testShop, testCreds, office), Options{WriteLock: lock, LockReads: lockReads}))
		wrote := make(chan int, 1)
		go func() {
			wrote <- send(t, ts.URL, testShop, testCreds, http.MethodPost, wire.PathRoles, []byte(`{"name":"客服","permissions":["chat"]}`))
		}()
		<-office.writing
		<-lock.waiting // the write's own Lock
		readDone := make(chan int, 1)
		go func() { readDone <- send(t, ts.URL, testShop, testCreds, http.MethodGet, wire.PathRoles, nil) }()
		select {
		case <-lock.waiting:
			g.Expect(lockReads).To(BeTrue(), "a read took the write lock without LockReads")
			g.Expect(office.read).To(BeEmpty(), "the read ran during the write")
			close(office.release)
			<-office.read
		case <-office.read:
			g.Expect(lockReads).To(BeFalse(), "a read ran while a write held the lock")
			close(office.release)
		}
		g.Expect(<-wrote).To(Equal(http.StatusCreated))
		g.Expect(<-readDone).To(Equal(http.StatusOK))
		ts.Close()
	}
}
