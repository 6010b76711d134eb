package shopsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/pinduoduo"
)

// pddParams are the common parameters of a pdd.mall.info.get call by the
// Pinduoduo shop's app at the fixture's clock, signed unless sign is set
// afterwards.
func (f *fixture) pddParams() url.Values {
	p := url.Values{
		pinduoduo.ParamType:        {pinduoduo.MethodMallInfo},
		pinduoduo.ParamClientID:    {pddCreds.AppKey},
		pinduoduo.ParamAccessToken: {pddCreds.AccessToken},
		pinduoduo.ParamTimestamp:   {strconv.FormatInt(f.clock.Now().Unix(), 10)},
		pinduoduo.ParamDataType:    {pinduoduo.DataType},
		pinduoduo.ParamVersion:     {pinduoduo.Version},
	}
	p.Set(pinduoduo.ParamSign, pinduoduo.Sign(pddCreds.AppSecret, p))
	return p
}

// pdd posts params to the router, form-encoded or as JSON, and decodes
// the envelope; the router answers 200 whatever the outcome.
func (f *fixture) pdd(params url.Values, asJSON bool) map[string]map[string]any {
	f.t.Helper()
	body, ct := params.Encode(), "application/x-www-form-urlencoded"
	if asJSON {
		m := map[string]string{}
		for k := range params {
			m[k] = params.Get(k)
		}
		data, err := json.Marshal(m)
		if err != nil {
			f.t.Fatal(err)
		}
		body, ct = string(data), "application/json"
	}
	resp, err := f.ts.Client().Post(f.ts.URL+pinduoduo.RouterPath, ct, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	var out map[string]map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// pddRefused expects an error_response with code and sub-code.
func (f *fixture) pddRefused(out map[string]map[string]any, code int64, subCode string) {
	f.t.Helper()
	e, ok := out["error_response"]
	if !ok {
		f.t.Fatalf("no error_response in %v", out)
	}
	f.g.Expect(e["error_code"]).To(Equal(json.Number(strconv.FormatInt(code, 10))), "%v", e)
	f.g.Expect(e["sub_code"]).To(Equal(subCode), "%v", e)
	f.g.Expect(e["request_id"]).NotTo(BeEmpty())
}

func TestPinduoduoMallInfo(t *testing.T) {
	f := newFixture(t, Options{})
	for _, asJSON := range []bool{false, true} {
		out := f.pdd(f.pddParams(), asJSON)
		info, ok := out["mall_info_get_response"]
		f.g.Expect(ok).To(BeTrue(), "%v", out)
		f.g.Expect(info).To(HaveKeyWithValue("mall_name", pddMain))
		f.g.Expect(info).To(HaveKey("mall_id"))
		f.g.Expect(info["mall_id"]).To(BeAssignableToTypeOf(json.Number("")), "mall_id is a JSON number")
		f.g.Expect(info).To(HaveKey("mall_character"))
		f.g.Expect(info).To(HaveKey("request_id"))
	}
}

func TestPinduoduoRouterRefuses(t *testing.T) {
	f := newFixture(t, Options{})
	for _, tc := range []struct {
		name    string
		change  func(url.Values)
		resign  bool
		subCode string
	}{
		{"no type", func(p url.Values) { p.Del(pinduoduo.ParamType) }, true, "missing-parameter:type"},
		{"no sign", func(p url.Values) { p.Del(pinduoduo.ParamSign) }, false, "missing-parameter:sign"},
		{"unknown client", func(p url.Values) { p.Set(pinduoduo.ParamClientID, "nobody") }, true, "client-id-invalid"},
		{"another platform's app key", func(p url.Values) { p.Set(pinduoduo.ParamClientID, tbCreds.AppKey) }, true, "client-id-invalid"},
		{"stale timestamp", func(p url.Values) {
			p.Set(pinduoduo.ParamTimestamp, strconv.FormatInt(f.clock.Now().Add(-11*time.Minute).Unix(), 10))
		}, true, "timestamp-invalid"},
		{"timestamp not Unix seconds", func(p url.Values) { p.Set(pinduoduo.ParamTimestamp, "2024-01-02 03:04:05") }, true, "timestamp-invalid"},
		{"signed with another secret", func(p url.Values) { p.Set(pinduoduo.ParamSign, pinduoduo.Sign("wrong", p)) }, false, "sign-invalid"},
		{"changed after signing", func(p url.Values) { p.Set(pinduoduo.ParamVersion, "V2") }, false, "sign-invalid"},
		{"a method shopsim does not serve", func(p url.Values) { p.Set(pinduoduo.ParamType, "pdd.goods.list.get") }, true, "type-invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.pddParams()
			tc.change(p)
			if tc.resign {
				p.Set(pinduoduo.ParamSign, pinduoduo.Sign(pddCreds.AppSecret, p))
			}
			f.pddRefused(f.pdd(p, false), CodeRefused, tc.subCode)
		})
	}

	p := f.pddParams()
	p.Set(pinduoduo.ParamAccessToken, "not-the-shop's")
	p.Set(pinduoduo.ParamSign, pinduoduo.Sign(pddCreds.AppSecret, p))
	f.pddRefused(f.pdd(p, false), pinduoduo.CodeTokenExpired, "access_token_invalid")

	r := f.admin(http.MethodGet, pinduoduo.RouterPath, "", "")
	f.g.Expect(string(r.body)).To(ContainSubstring(`"sub_code":"http-method-invalid"`))
}

// The admin endpoint expires the app's tokens and authorises a new one.
func TestPinduoduoTokenAdmin(t *testing.T) {
	f := newFixture(t, Options{AdminToken: adminToken})
	g := f.g
	r := f.admin(http.MethodPost, AdminPathPinduoduoToken, "", `{"mainAccount":"`+pddMain+`","action":"expire"}`)
	g.Expect(r.status).To(Equal(http.StatusUnauthorized))
	g.Expect(f.pdd(f.pddParams(), false)).To(HaveKey("mall_info_get_response"), "nothing expired without the admin token")

	r = f.admin(http.MethodPost, AdminPathPinduoduoToken, adminToken, `{"mainAccount":"`+pddMain+`","action":"expire"}`)
	g.Expect(r.status).To(Equal(http.StatusNoContent), string(r.body))
	f.pddRefused(f.pdd(f.pddParams(), false), pinduoduo.CodeTokenExpired, "access_token_invalid")

	r = f.admin(http.MethodPost, AdminPathPinduoduoToken, adminToken, `{"mainAccount":"`+pddMain+`","action":"authorize"}`)
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	var tok PinduoduoToken
	g.Expect(json.Unmarshal(r.body, &tok)).To(Succeed())
	g.Expect(tok.AccessToken).NotTo(BeEmpty())
	p := f.pddParams()
	p.Set(pinduoduo.ParamAccessToken, tok.AccessToken)
	p.Set(pinduoduo.ParamSign, pinduoduo.Sign(pddCreds.AppSecret, p))
	g.Expect(f.pdd(p, false)).To(HaveKey("mall_info_get_response"))
	f.pddRefused(f.pdd(f.pddParams(), false), pinduoduo.CodeTokenExpired, "access_token_invalid") // the old one stays expired

	// Expiring again takes the new token too.
	g.Expect(f.srv.ExpirePinduoduoToken(pddMain)).To(Succeed())
	f.pddRefused(f.pdd(p, false), pinduoduo.CodeTokenExpired, "access_token_invalid")

	for _, body := range []string{`{"mainAccount":"nobody","action":"expire"}`, `{"mainAccount":"` + tbMain + `","action":"authorize"}`,
		`{"mainAccount":"` + pddMain + `","action":"renew"}`, `{"mainAccount":"` + pddMain + `","extra":1}`} {
		r := f.admin(http.MethodPost, AdminPathPinduoduoToken, adminToken, body)
		g.Expect(r.status).To(BeNumerically(">=", 400), body)
	}
	g.Expect(f.admin(http.MethodGet, AdminPathPinduoduoToken, adminToken, "").status).To(Equal(http.StatusMethodNotAllowed))
}
