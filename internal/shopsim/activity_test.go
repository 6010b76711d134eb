package shopsim

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// shopsim records a sub-account's sign-in, the admin API injects activity,
// and GET /activity pages the feed; the feed survives a restart.
func TestActivityFeedAndAdmin(t *testing.T) {
	path := t.TempDir() + "/state.json"
	f := newFixture(t, Options{AdminToken: adminToken, StateFile: path})
	g := f.g
	a := f.account("xiaohong", "s3cret-pass")
	f.account("xiaolan", "s3cret-pass")

	var list wire.ActivityList
	f.ok(http.StatusOK, http.MethodGet, wire.PathActivity, nil, &list, sig{})
	g.Expect(list.Items).To(BeEmpty())

	signIn := `{"platform":"taobao","mainAccount":"` + tbMain + `","login":"xiaohong","password":"%s"}`
	r := f.admin(http.MethodPost, AdminPathSignIn, adminToken, strings.Replace(signIn, "%s", "Hunter2-guess", 1))
	expectError(t, r, http.StatusUnauthorized, wire.CodeUnauthorized, "login")
	g.Expect(string(r.body)).NotTo(ContainSubstring("Hunter2"), "the password is not echoed")
	r = f.admin(http.MethodPost, AdminPathSignIn, adminToken, strings.Replace(signIn, "%s", "s3cret-pass", 1))
	g.Expect(r.status).To(Equal(http.StatusNoContent), string(r.body))
	f.clock.Advance(time.Minute)
	r = f.admin(http.MethodPost, AdminPathActivity, adminToken, `{"platform":"taobao","mainAccount":"`+tbMain+
		`","accountName":"xiaolan","kind":"Operation","operation":"item.update","target":"item 6123"}`)
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	r = f.admin(http.MethodPost, AdminPathActivity, adminToken, `{"platform":"taobao","mainAccount":"`+tbMain+
		`","accountName":"xiaolan","kind":"Presence","presence":"Break","time":"2020-01-01T00:00:00Z"}`)
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))

	// Refused: no token, an unknown account, a bad kind, unknown fields.
	g.Expect(f.admin(http.MethodPost, AdminPathActivity, "", `{}`).status).To(Equal(http.StatusUnauthorized))
	expectError(t, f.admin(http.MethodPost, AdminPathActivity, adminToken, `{"platform":"taobao","mainAccount":"`+tbMain+
		`","accountName":"nobody","kind":"Login"}`), http.StatusNotFound, wire.CodeNotFound, "account")
	expectError(t, f.admin(http.MethodPost, AdminPathActivity, adminToken, `{"platform":"taobao","mainAccount":"`+tbMain+
		`","accountName":"xiaolan","kind":"Dance"}`), http.StatusUnprocessableEntity, wire.CodeInvalid, "kind")
	expectError(t, f.admin(http.MethodPost, AdminPathActivity, adminToken, `{"extra":1}`), http.StatusUnprocessableEntity, wire.CodeInvalid, "")
	g.Expect(f.admin(http.MethodGet, AdminPathActivity, adminToken, "").status).To(Equal(http.StatusMethodNotAllowed))

	f.ok(http.StatusOK, http.MethodGet, wire.PathActivity, nil, &list, sig{})
	g.Expect(list.Next).To(BeEmpty())
	g.Expect(list.Items).To(HaveExactElements(
		And(HaveField("Kind", platform.ActivityPresence), HaveField("Presence", "Break"), HaveField("AccountName", "xiaolan")),
		And(HaveField("Kind", platform.ActivityLogin), HaveField("AccountID", a.ID), HaveField("Time", t0)),
		And(HaveField("Kind", platform.ActivityOperation), HaveField("Operation", "item.update"), HaveField("Target", "item 6123")),
	))

	// One entry a page, bounded in time, one account.
	q := url.Values{"limit": {"1"}, "since": {"2024-01-01T00:00:00Z"}}
	f.ok(http.StatusOK, http.MethodGet, wire.PathActivity+"?"+q.Encode(), nil, &list, sig{})
	g.Expect(list.Items).To(HaveExactElements(HaveField("Kind", platform.ActivityLogin)))
	g.Expect(list.Next).NotTo(BeEmpty())
	q.Set("cursor", list.Next)
	f.ok(http.StatusOK, http.MethodGet, wire.PathActivity+"?"+q.Encode(), nil, &list, sig{})
	g.Expect(list.Items).To(HaveExactElements(HaveField("Kind", platform.ActivityOperation)))
	g.Expect(list.Next).To(BeEmpty())
	f.ok(http.StatusOK, http.MethodGet, wire.PathActivity+"?accountId="+a.ID, nil, &list, sig{})
	g.Expect(list.Items).To(HaveExactElements(HaveField("AccountID", a.ID)))
	for _, bad := range []string{"since=yesterday", "until=x", "limit=x", "limit=501", "cursor=x"} {
		expectError(t, f.call(http.MethodGet, wire.PathActivity+"?"+bad, nil, sig{}), http.StatusUnprocessableEntity, wire.CodeInvalid,
			strings.Split(bad, "=")[0])
	}

	// Persisted: the state file holds the feed.
	saved := memory.NewEngine()
	_, err := LoadState(saved, path)
	g.Expect(err).NotTo(HaveOccurred())
	c, err := saved.Factory().ClientFor(context.Background(), platform.ShopConfig{Platform: platform.Taobao, MainAccount: tbMain, Credentials: tbCreds})
	g.Expect(err).NotTo(HaveOccurred())
	again, err := c.ListActivity(context.Background(), platform.ActivityQuery{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.Entries).To(HaveLen(3))
}
