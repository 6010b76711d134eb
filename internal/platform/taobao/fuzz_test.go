package taobao

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
	for i, rec := range []string{recPageWrapped, recPagePlain, recPageEmptyAbsent, recPageEmptyObject, recPageEmptyArray,
		recFullInfo, recRolesWrapped, recRoleAdd, recDepartments, recDutys, recPresence, recUpdate, recError, recErrorStringCode,
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
		for _, out := range []any{&subusersPage{}, &fullInfoAnswer{}, &infoUpdateAnswer{}, &rolesAnswer{},
			&roleAddAnswer{}, &departmentsAnswer{}, &dutysAnswer{}, &presenceAnswer{}} {
			_ = json.Unmarshal(env.Response, out)
		}
		var page subusersPage
		if json.Unmarshal(env.Response, &page) == nil {
			for _, u := range page.Subusers {
				_ = subName(u.Nick)
			}
		}
		var pres presenceAnswer
		if json.Unmarshal(env.Response, &pres) == nil {
			for _, r := range pres.RecordList {
				_ = recordTime(r)
			}
		}
	})
}
