package shopsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
)

// fuzzServer is a server over one Taobao shop at the fixed clock t0.
func fuzzServer(f *testing.F) *Server {
	e := memory.NewEngine(memory.WithClock(func() time.Time { return t0 }))
	if err := e.AddShop(memory.ShopSetup{Platform: platform.Taobao, MainAccount: tbMain, Credentials: tbCreds, SeatQuota: 5}); err != nil {
		f.Fatal(err)
	}
	return New(e, Options{Clock: func() time.Time { return t0 }})
}

// FuzzAPIRequest sends arbitrary /v1 requests (method, path, query, body;
// signed for the shop or not) through the handler: path split, route
// match and JSON decode. Nothing panics or answers 500; every error is the
// wire error shape with a code; and an unsigned request leaves no trace in
// any store (see TestUnauthenticatedRequestsAreNotStored).
func FuzzAPIRequest(f *testing.F) {
	s := fuzzServer(f)
	prefix := wire.ShopPrefix(platform.Taobao, tbMain)
	for _, seed := range []struct {
		method, path string
		body         string
		sign         bool
	}{
		{"GET", prefix + wire.PathShop, "", true},
		{"POST", prefix + wire.PathRoles, `{"name":"cs","permissions":["wangwang"]}`, true},
		{"POST", prefix + wire.PathAccounts, `{"name":"a","password":"Pa55word!","roleIds":["1"]}`, true},
		{"PUT", prefix + "/accounts/%2F/seat", `{"capacity":51}`, true},
		{"GET", prefix + "/accounts/name/%E5%B0%8F", "", true},
		{"GET", "/v1/shops/%zz/x/shop", "", false},
		{"DELETE", "/v1/shops/taobao//roles/1", "", true},
		{"POST", prefix + wire.PathRoles, `{"name":"x"} {}`, true},
		{"GET", prefix + wire.PathAccounts + "?pageSize=-1", "", true},
		{"PATCH", "/v1/shops/jd/m/accounts/1", "null", false},
	} {
		f.Add(seed.method, seed.path, []byte(seed.body), seed.sign)
	}
	f.Fuzz(func(t *testing.T, method, target string, body []byte, sign bool) {
		req, err := http.NewRequest(method, "http://shopsim.test"+target, bytes.NewReader(body))
		if err != nil || !strings.HasPrefix(req.URL.Path, "/v1/") {
			return
		}
		if sign {
			wire.SignRequest(req, tbCreds.AppKey, tbCreds.AppSecret, tbCreds.AccessToken, body, t0)
		}
		s.stats.mu.Lock()
		sigsBefore := len(s.stats.sigs)
		s.stats.mu.Unlock()
		nonces := s.api.RememberedNonces()

		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s %s: 500 %s", method, target, rec.Body)
		}
		if rec.Code >= 400 {
			var eb wire.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Code == "" {
				t.Fatalf("%s %s: %d with body %q", method, target, rec.Code, rec.Body)
			}
		}
		if !sign {
			s.stats.mu.Lock()
			sigs := len(s.stats.sigs)
			s.stats.mu.Unlock()
			if rec.Code != http.StatusUnauthorized && rec.Code != http.StatusNotFound && rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("%s %s unsigned: %d", method, target, rec.Code)
			}
			if sigs != sigsBefore || s.api.RememberedNonces() != nonces {
				t.Fatalf("%s %s unsigned: stores grew", method, target)
			}
		}
	})
}

// FuzzTOPRequest sends arbitrary TOP forms (in the body and the query;
// with the common parameters and a valid signature or not) to
// /router/rest: nothing panics, and every answer is HTTP 200 with a TOP
// envelope that top.ParseEnvelope reads, an error or the method's answer.
func FuzzTOPRequest(f *testing.F) {
	s := fuzzServer(f)
	f.Add("nick="+tbMain+"&page_num=1&page_size=10", "", top.MethodSubusersPage, true)
	f.Add("nick="+tbMain+"&name=%E5%AE%A2%E6%9C%8D&permission_codes=wangwang,,x", "", top.MethodRoleAdd, true)
	f.Add("sub_id=-1&is_dispatch=maybe", "v=1.0", top.MethodSubuserUpdate, true)
	f.Add("account_ids=1,2,3,4,5,6&start_date=2024-01-02&end_date=2023-01-01", "", top.MethodPresenceLog, true)
	f.Add("%zz=1&method=x", "sign=;", "", false)
	f.Add("", "", "taobao.nothing", true)
	f.Fuzz(func(t *testing.T, rawBody, rawQuery, method string, sign bool) {
		form, err := url.ParseQuery(rawBody)
		if err != nil {
			form = url.Values{}
		}
		if sign {
			for k, v := range map[string]string{"method": method, "app_key": tbCreds.AppKey, "session": tbCreds.AccessToken,
				"timestamp": top.FormatTimestamp(t0), "format": "json", "v": "2.0", "sign_method": string(top.SignHMACSHA256)} {
				form.Set(k, v)
			}
			signature, err := top.Sign(top.SignHMACSHA256, tbCreds.AppSecret, form)
			if err != nil {
				t.Fatal(err)
			}
			form.Set("sign", signature)
			rawBody = form.Encode()
		}
		req, err := http.NewRequest(http.MethodPost, "http://shopsim.test"+top.RouterPath+"?"+rawQuery, strings.NewReader(rawBody))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
		}
		answered := req.Form.Get("method")
		env, err := top.ParseEnvelope(answered, rec.Body.Bytes())
		if err != nil || (env.Error == nil) == (env.Response == nil) {
			t.Fatalf("not a TOP envelope for %q: %v: %s", answered, err, rec.Body)
		}
	})
}
