package top

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// FuzzParseEnvelope feeds arbitrary answers to the envelope parser and to
// every answer type: nothing may panic, a parsed envelope has exactly one
// of Response and Error, and an error envelope always maps to a platform
// error of a known kind.
func FuzzParseEnvelope(f *testing.F) {
	methods := []string{MethodSubusersPage, MethodSubuserFullInfo, MethodSubuserUpdate, MethodDepartments,
		MethodDuties, MethodRoles, MethodRoleAdd, MethodPresenceLog}
	for i, rec := range []string{recorded(f, "page-wrapped"), recorded(f, "page-plain"), recorded(f, "page-empty-absent"), recorded(f, "page-empty-object"), recorded(f, "page-empty-array"),
		recorded(f, "fullinfo"), recorded(f, "roles-wrapped"), recorded(f, "role-add"), recorded(f, "departments"), recorded(f, "dutys"), recorded(f, "presence"), recorded(f, "update"), recorded(f, "error"), recorded(f, "error-string-code"),
		`{"error_response":{"code":7,"sub_msg":"This ban will last for 99999999999999999999 more seconds"}}`,
		`{"sellercenter_roles_get_response":{"roles":{"role":{"role_id":1}}}}`, `[]`, `null`, `{"a":1}`} {
		f.Add(methods[i%len(methods)], []byte(rec))
	}
	kinds := []error{platform.ErrNotFound, platform.ErrNameTaken, platform.ErrInvalid, platform.ErrUnauthorized,
		platform.ErrForbidden, platform.ErrRateLimited, platform.ErrNotSupported, platform.ErrTransient}
	f.Fuzz(func(t *testing.T, method string, data []byte) {
		env, err := ParseEnvelope(method, data)
		if err != nil {
			if env.Response != nil || env.Error != nil {
				t.Fatalf("an error with an envelope: %+v", env)
			}
			return
		}
		if (env.Response == nil) == (env.Error == nil) {
			t.Fatalf("exactly one of Response and Error must be set: %+v", env)
		}
		if env.Error != nil {
			pe := ErrorFrom(method, *env.Error)
			known := false
			for _, k := range kinds {
				known = known || errors.Is(pe, k)
			}
			if !known || pe.RetryAfter < 0 || pe.RetryAfter > MaxRetryAfter {
				t.Fatalf("error %+v maps to %v (retry %v)", env.Error, pe.Kind, pe.RetryAfter)
			}
			return
		}
		for _, out := range []any{&SubusersPage{}, &FullInfoAnswer{}, &InfoUpdateAnswer{}, &RolesAnswer{},
			&RoleAddAnswer{}, &DepartmentsAnswer{}, &DutysAnswer{}, &PresenceLogAnswer{}} {
			_ = json.Unmarshal(env.Response, out)
		}
		var page SubusersPage
		if json.Unmarshal(env.Response, &page) == nil {
			for _, u := range page.Subusers {
				_ = SubName(u.Nick)
			}
		}
		var pres PresenceLogAnswer
		if json.Unmarshal(env.Response, &pres) == nil {
			for _, r := range pres.RecordList {
				_ = r.Time()
			}
		}
	})
}

// FuzzVerifySignature: verifying an arbitrary form never panics; a form
// signed with Sign verifies, with every sign method and in either case of
// the hex digits; a changed value verifies only if it leaves the string to
// sign as it was (TOP's k1v1k2v2 has no separators, so {a: bc} and
// {ab: c} sign alike: that is the protocol's, and both are the same
// shop's own parameters), and never under another secret.
func FuzzVerifySignature(f *testing.F) {
	f.Add("method=taobao.sellercenter.roles.get&app_key=12345678&session=s&timestamp=2024-01-02+03%3A04%3A05&format=json&v=2.0", "secret", "nick", "店主", uint8(0))
	f.Add("a=bc", "s", "ab", "c", uint8(1))
	f.Add("sign=ABC&sign_method=md5&x=", "", "", "", uint8(2))
	f.Add("%zz&a=1&a=2", "s\x00", "sign", "forged", uint8(3))
	methods := []SignMethod{SignMD5, SignHMAC, SignHMACSHA256}
	f.Fuzz(func(t *testing.T, rawForm, secret, key, value string, pick uint8) {
		form, err := url.ParseQuery(rawForm)
		if err != nil {
			form = url.Values{}
		}
		_ = VerifySignature(secret, form) // arbitrary input: must not panic
		_ = StringToSign(form)

		method := methods[int(pick)%len(methods)]
		form.Set(ParamSignMethod, string(method))
		sign, err := Sign(method, secret, form)
		if err != nil {
			t.Fatalf("Sign(%s): %v", method, err)
		}
		form.Set(ParamSign, sign)
		if !VerifySignature(secret, form) {
			t.Fatalf("a signed form does not verify: %v", form)
		}
		form.Set(ParamSign, strings.ToLower(sign))
		if !VerifySignature(secret, form) {
			t.Fatalf("lower-case hex does not verify")
		}
		if VerifySignature(secret+"x", form) {
			t.Fatalf("verified under another secret")
		}
		if key == "" || key == ParamSign || key == ParamSignMethod {
			return
		}
		before := StringToSign(form)
		form.Set(key, value)
		if got := VerifySignature(secret, form); got != (StringToSign(form) == before) {
			t.Fatalf("changing %q to %q: verifies %v, string to sign unchanged %v", key, value, got, StringToSign(form) == before)
		}
	})
}
