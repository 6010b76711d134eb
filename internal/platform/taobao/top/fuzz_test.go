package top

import (
	"encoding/json"
	"errors"
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
