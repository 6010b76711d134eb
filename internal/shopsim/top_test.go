package shopsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
)

// topReq says how to build a TOP request; the zero value is a correctly
// signed hmac-sha256 POST for the Taobao shop at the fixture's clock.
type topReq struct {
	creds      *platform.Credentials
	at         *time.Time
	signMethod top.SignMethod
	// edit changes the parameters after signing.
	edit       func(url.Values)
	httpMethod string
	header     map[string]string
	// query puts these parameters in the URL instead of the body.
	query []string
}

func (f *fixture) top(method string, params map[string]string, o topReq) response {
	f.t.Helper()
	creds := tbCreds
	if o.creds != nil {
		creds = *o.creds
	}
	at := f.clock.Now()
	if o.at != nil {
		at = *o.at
	}
	sm := o.signMethod
	if sm == "" {
		sm = top.SignHMACSHA256
	}
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	for k, v := range map[string]string{
		"method": method, "app_key": creds.AppKey, "session": creds.AccessToken, "timestamp": top.FormatTimestamp(at),
		"format": "json", "v": "2.0", "sign_method": string(sm),
	} {
		if v != "" {
			form.Set(k, v)
		}
	}
	sign, err := top.Sign(sm, creds.AppSecret, form)
	if err == nil {
		form.Set("sign", sign)
	}
	if o.edit != nil {
		o.edit(form)
	}
	query := url.Values{}
	for _, k := range o.query {
		query[k] = form[k]
		form.Del(k)
	}
	target := f.ts.URL + top.RouterPath
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var req *http.Request
	if o.httpMethod == http.MethodGet {
		for k, v := range form {
			query[k] = v
		}
		req, err = http.NewRequest(http.MethodGet, f.ts.URL+top.RouterPath+"?"+query.Encode(), nil)
	} else {
		req, err = http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		if o.httpMethod != "" {
			req.Method = o.httpMethod
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	}
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range o.header {
		req.Header.Set(k, v)
	}
	return f.send(req)
}

// topOK expects a success envelope for method and returns its object.
func (f *fixture) topOK(method string, params map[string]string, o topReq) map[string]any {
	f.t.Helper()
	r := f.top(method, params, o)
	if r.status != http.StatusOK {
		f.t.Fatalf("%s: HTTP %d: %s", method, r.status, r.body)
	}
	var root map[string]map[string]any
	if err := json.Unmarshal(r.body, &root); err != nil {
		f.t.Fatalf("%s: %s: %v", method, r.body, err)
	}
	out, ok := root[top.ResponseKey(method)]
	if !ok || len(root) != 1 {
		f.t.Fatalf("%s: not a success envelope: %s", method, r.body)
	}
	if id, _ := out["request_id"].(string); id == "" {
		f.t.Fatalf("%s: no request_id: %s", method, r.body)
	}
	return out
}

// topFail expects an error envelope with code (and sub-code prefix, if given).
func (f *fixture) topFail(r response, code int64, subCode string) top.ErrorResponse {
	f.t.Helper()
	if r.status != http.StatusOK {
		f.t.Fatalf("HTTP %d, TOP answers 200: %s", r.status, r.body)
	}
	env, err := top.ParseEnvelope("x", r.body)
	if err != nil || env.Error == nil {
		f.t.Fatalf("not an error envelope (%v): %s", err, r.body)
	}
	if env.Error.Code != code || !strings.HasPrefix(env.Error.SubCode, subCode) {
		f.t.Fatalf("error %+v, want code %d sub-code %q", *env.Error, code, subCode)
	}
	for _, secret := range []string{tbCreds.AppSecret, tbCreds.AccessToken} {
		if strings.Contains(string(r.body), secret) {
			f.t.Fatalf("the answer shows a secret: %s", r.body)
		}
	}
	return *env.Error
}

func TestTOPAuthentication(t *testing.T) {
	f := newFixture(t, Options{})
	g := f.g
	roles := map[string]string{"nick": tbMain}
	for _, m := range []top.SignMethod{top.SignMD5, top.SignHMAC, top.SignHMACSHA256} {
		f.topOK(top.MethodRoles, roles, topReq{signMethod: m})
	}
	// GET, and common parameters in the query with the rest in the body.
	f.topOK(top.MethodRoles, roles, topReq{httpMethod: http.MethodGet})
	f.topOK(top.MethodRoles, roles, topReq{query: []string{"method", "app_key", "session", "timestamp", "v", "sign", "sign_method"}})
	// ±10 minutes of skew are accepted.
	for _, d := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
		at := f.clock.Now().Add(d)
		f.topOK(top.MethodRoles, roles, topReq{at: &at})
	}

	wrongSession := tbCreds
	wrongSession.AccessToken = "stolen"
	wrongSecret := tbCreds
	wrongSecret.AppSecret = "guessed"
	otherKey := tbCreds
	otherKey.AppKey = "87654321"
	pddAsTaobao := pddCreds // the Pinduoduo shop's app key is no Taobao app
	late := f.clock.Now().Add(10*time.Minute + time.Second)
	early := f.clock.Now().Add(-11 * time.Minute)
	del := func(k string) func(url.Values) { return func(v url.Values) { v.Del(k) } }
	set := func(k, val string) func(url.Values) { return func(v url.Values) { v.Set(k, val) } }
	for _, tc := range []struct {
		name string
		req  topReq
		code int64
		sub  string
	}{
		{"no method", topReq{edit: del("method")}, top.CodeMissingMethod, ""},
		{"no app key", topReq{edit: del("app_key")}, top.CodeMissingAppKey, ""},
		{"unknown app key", topReq{creds: &otherKey}, top.CodeInvalidAppKey, ""},
		{"not a Taobao app key", topReq{creds: &pddAsTaobao}, top.CodeInvalidAppKey, ""},
		{"no timestamp", topReq{edit: del("timestamp")}, top.CodeMissingTimestamp, ""},
		{"unix timestamp", topReq{edit: set("timestamp", "1704164645")}, top.CodeInvalidTimestamp, ""},
		{"too late", topReq{at: &late}, top.CodeInvalidTimestamp, ""},
		{"too early", topReq{at: &early}, top.CodeInvalidTimestamp, ""},
		{"xml", topReq{edit: set("format", "xml")}, top.CodeInvalidFormat, ""},
		{"no version", topReq{edit: del("v")}, top.CodeMissingVersion, ""},
		{"old version", topReq{edit: set("v", "1.0")}, top.CodeInvalidVersion, ""},
		{"no sign", topReq{edit: del("sign")}, top.CodeMissingSignature, ""},
		{"unknown sign method", topReq{edit: set("sign_method", "sha1")}, top.CodeInvalidArguments, "isv.invalid-parameter:sign_method"},
		{"no session", topReq{edit: del("session")}, top.CodeMissingSession, ""},
		{"wrong session", topReq{creds: &wrongSession}, top.CodeInvalidSession, ""},
		{"wrong secret", topReq{creds: &wrongSecret}, top.CodeInvalidSignature, ""},
		{"tampered sign", topReq{edit: func(v url.Values) { v.Set("sign", strings.Repeat("0", 64)) }}, top.CodeInvalidSignature, ""},
		{"tampered parameter", topReq{edit: set("nick", "someone")}, top.CodeInvalidSignature, ""},
		{"PUT", topReq{httpMethod: http.MethodPut}, top.CodeHTTPActionNotAllowed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.topFail(f.top(top.MethodRoles, roles, tc.req), tc.code, tc.sub)
		})
	}
	// Methods TOP does not have, or the gateway's, are unknown.
	for _, m := range []string{"taobao.subuser.create", "taobao.sellercenter.role.delete", "taobao.subuser.employee.add", "GET /v1/shop"} {
		f.topFail(f.top(m, roles, topReq{}), top.CodeInvalidMethod, "")
	}
	g.Expect(f.engine.Calls()).To(HaveKey("ListRoles"))
	g.Expect(f.engine.Calls()).NotTo(HaveKey("CreateAccount"))
}

func TestTOPRateLimitBan(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{RateLimit: 0.25}})
	f.topOK(top.MethodRoles, map[string]string{"nick": tbMain}, topReq{})
	e := f.topFail(f.top(top.MethodRoles, map[string]string{"nick": tbMain}, topReq{}), top.CodeAppCallLimited, top.SubCodeAppAccessCount)
	f.g.Expect(e.SubMsg).To(Equal("This ban will last for 4 more seconds"))
	f.g.Expect(e.Msg).To(Equal("App Call Limited"))
	f.clock.Advance(3 * time.Second)
	e = f.topFail(f.top(top.MethodRoles, map[string]string{"nick": tbMain}, topReq{}), top.CodeAppCallLimited, top.SubCodeAppAccessCount)
	f.g.Expect(e.SubMsg).To(Equal("This ban will last for 1 more seconds"))
	// The bucket is the shop's, shared with /v1.
	expectError(t, f.call(http.MethodGet, wire.PathShop, nil, sig{}), http.StatusTooManyRequests, wire.CodeRateLimited, "")
	f.clock.Advance(time.Second)
	f.topOK(top.MethodRoles, map[string]string{"nick": tbMain}, topReq{})
}

func TestTOPFaults(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{ErrorRate: 1}})
	f.topFail(f.top(top.MethodRoles, map[string]string{"nick": tbMain}, topReq{}), top.CodeRemoteServiceError, "isp.")
	f.g.Expect(f.engine.Calls()).To(BeEmpty())
}

func TestTOPMethods(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := newFixture(t, Options{StateFile: path})
	g := f.g
	nick := map[string]string{"nick": tbMain}

	// Empty shop: lists are left out.
	page := f.topOK(top.MethodSubusersPage, map[string]string{"nick": tbMain, "page_num": "1", "page_size": "10"}, topReq{})
	g.Expect(page).NotTo(HaveKey("subusers"))
	g.Expect(page["total_count"]).To(BeEquivalentTo(0))
	g.Expect(f.topOK(top.MethodRoles, nick, topReq{})).NotTo(HaveKey("roles"))

	// role.add with the tree rule, audited with the source, persisted.
	added := f.topOK(top.MethodRoleAdd, map[string]string{"nick": tbMain, "name": "客服", "description": "customer service",
		"permission_codes": "wangwang-chat, trade-order-view"}, topReq{header: map[string]string{top.HeaderSource: "Role/shops/cs"}})
	role := added["role"].(map[string]any)
	g.Expect(role["role_id"]).To(BeNumerically(">", 0), "IDs are JSON numbers, as TOP sends them")
	g.Expect(role["role_name"]).To(Equal("客服"))
	perms := role["permissions"].(map[string]any)["permission"].([]any)
	g.Expect(perms).To(ContainElement(HaveKeyWithValue("permission_code", "wangwang")), "the parent is granted too")
	audit := f.engine.Audit(platform.Taobao, tbMain)
	g.Expect(audit[len(audit)-1].Action).To(Equal("role.create"))
	g.Expect(audit[len(audit)-1].Source).To(Equal("Role/shops/cs"))
	saved := memory.NewEngine()
	_, err := LoadState(saved, path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(saved.Roles(platform.Taobao, tbMain)).To(HaveLen(1))

	f.topFail(f.top(top.MethodRoleAdd, map[string]string{"nick": tbMain, "name": "客服"}, topReq{}),
		top.CodeRemoteServiceError, "isv.role-name-exist")
	f.topFail(f.top(top.MethodRoleAdd, map[string]string{"nick": tbMain, "name": "x", "permission_codes": "nope"}, topReq{}),
		top.CodeRemoteServiceError, "isv.invalid-parameter:permission_codes")
	f.topFail(f.top(top.MethodRoleAdd, map[string]string{"nick": tbMain, "name": strings.Repeat("名", 21)}, topReq{}),
		top.CodeInvalidArguments, "isv.invalid-parameter:name")
	f.topFail(f.top(top.MethodRoleAdd, map[string]string{"nick": tbMain}, topReq{}), top.CodeMissingArguments, "isv.missing-parameter:name")
	f.topFail(f.top(top.MethodRoleAdd, map[string]string{"nick": "someone-else", "name": "x"}, topReq{}), top.CodeInvalidArguments, "")

	roles := f.topOK(top.MethodRoles, nick, topReq{})["roles"].(map[string]any)["role"].([]any)
	g.Expect(roles).To(HaveLen(1))
	g.Expect(roles[0]).NotTo(HaveKey("permissions"), "roles.get leaves the permissions out")

	// Accounts come from the engine (TOP cannot create them).
	a := f.account("xiaohong", "Pa55word!", f.role("运营", "item-edit").ID)
	b := f.account("daming", "Pa55word!")
	var (
		st  wire.Account
		dep wire.Department
	)
	f.ok(http.StatusCreated, http.MethodPost, wire.PathDepartments, wire.DepartmentSpec{Name: "客服部"}, &dep, sig{})
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathAccount, a.ID), wire.AccountState{RoleIDs: a.RoleIDs, ExtraPermissions: []string{"phone"},
		Profile: wire.Profile{DisplayName: "小红", EmployeeName: "王小红", EmployeeNumber: "E7", Department: "客服部", DepartmentID: dep.ID}}, &st, sig{})

	page = f.topOK(top.MethodSubusersPage, map[string]string{"nick": tbMain, "page_num": "1", "page_size": "2"}, topReq{})
	g.Expect(page["total_count"]).To(BeEquivalentTo(2))
	users := page["subusers"].(map[string]any)["sub_user_info"].([]any)
	g.Expect(users).To(HaveLen(2))
	g.Expect(users[0]).To(HaveKeyWithValue("nick", tbMain+":xiaohong"))
	g.Expect(users[0]).To(HaveKeyWithValue("status", BeEquivalentTo(1)))
	g.Expect(users[0]).To(HaveKeyWithValue("is_online", BeEquivalentTo(1)))
	for _, bad := range []map[string]string{
		{"nick": tbMain, "page_num": "0", "page_size": "10"},
		// page_size is "greater than 1, less than 200", as TOP documents.
		{"nick": tbMain, "page_num": "1", "page_size": "1"},
		{"nick": tbMain, "page_num": "1", "page_size": "200"},
		{"nick": tbMain, "page_num": "1", "page_size": "x"},
		{"nick": tbMain, "page_num": "1", "page_size": "10", "account_status": "9"},
	} {
		f.topFail(f.top(top.MethodSubusersPage, bad, topReq{}), top.CodeInvalidArguments, "isv.invalid-parameter:")
	}
	f.topFail(f.top(top.MethodSubusersPage, nick, topReq{}), top.CodeMissingArguments, "isv.missing-parameter:page_num")
	all := f.topOK(top.MethodSubusers, nick, topReq{})["subusers"].(map[string]any)["sub_user_info"].([]any)
	g.Expect(all).To(HaveLen(2))

	// Full info by nick and by ID.
	info := f.topOK(top.MethodSubuserFullInfo, map[string]string{"sub_nick": tbMain + ":xiaohong"}, topReq{})["sub_fullinfo"].(map[string]any)
	g.Expect(info).To(HaveKeyWithValue("employee_name", "王小红"))
	g.Expect(info).To(HaveKeyWithValue("employee_nickname", "小红"))
	g.Expect(info).To(HaveKeyWithValue("employee_num", "E7"))
	g.Expect(info).To(HaveKeyWithValue("department_name", "客服部"))
	g.Expect(info).To(HaveKeyWithValue("sub_status", BeEquivalentTo(1)))
	g.Expect(info).To(HaveKeyWithValue("sub_dispatch_status", false))
	byID := f.topOK(top.MethodSubuserFullInfo, map[string]string{"sub_id": b.ID}, topReq{})["sub_fullinfo"].(map[string]any)
	g.Expect(byID).To(HaveKeyWithValue("sub_nick", tbMain+":daming"))
	g.Expect(byID).NotTo(HaveKey("department_name"))
	f.topFail(f.top(top.MethodSubuserFullInfo, map[string]string{"sub_nick": tbMain + ":nobody"}, topReq{}), top.CodeRemoteServiceError, "isv.subuser-not-exist")
	f.topFail(f.top(top.MethodSubuserFullInfo, map[string]string{"sub_nick": "other:xiaohong"}, topReq{}), top.CodeRemoteServiceError, "isv.subuser-not-exist")
	f.topFail(f.top(top.MethodSubuserFullInfo, map[string]string{"sub_id": "99"}, topReq{}), top.CodeRemoteServiceError, "isv.subuser-not-exist")
	f.topFail(f.top(top.MethodSubuserFullInfo, map[string]string{"sub_id": "x"}, topReq{}), top.CodeInvalidArguments, "isv.invalid-parameter:sub_id")
	f.topFail(f.top(top.MethodSubuserFullInfo, nil, topReq{}), top.CodeMissingArguments, "isv.missing-parameter:sub_id")

	// info.update: disable and dispatch, keeping everything else.
	upd := f.topOK(top.MethodSubuserUpdate, map[string]string{"sub_id": a.ID, "is_disable_subaccount": "true", "is_dispatch": "true"},
		topReq{header: map[string]string{top.HeaderSource: "SubAccount/shops/xiaohong"}})
	g.Expect(upd).To(HaveKeyWithValue("is_success", true))
	after := f.engine.Accounts(platform.Taobao, tbMain)[0]
	g.Expect(after.Disabled).To(BeTrue())
	g.Expect(after.Seat).To(Equal(&platform.Seat{Chat: true, Capacity: memory.MinSeatCapacity, Presence: platform.PresenceOnline}))
	g.Expect(after.RoleIDs).To(Equal(a.RoleIDs), "roles are kept")
	g.Expect(after.ExtraPermissions).To(Equal([]string{"phone"}))
	g.Expect(after.Profile.Department).To(Equal("客服部"))
	audit = f.engine.Audit(platform.Taobao, tbMain)
	g.Expect(audit[len(audit)-1].Source).To(Equal("SubAccount/shops/xiaohong"))
	f.topOK(top.MethodSubuserUpdate, map[string]string{"sub_id": a.ID, "is_dispatch": "false"}, topReq{})
	after = f.engine.Accounts(platform.Taobao, tbMain)[0]
	g.Expect(after.Disabled).To(BeTrue(), "not given: kept")
	g.Expect(after.Seat.Chat).To(BeFalse())
	g.Expect(after.Seat.Capacity).To(BeEquivalentTo(memory.MinSeatCapacity), "the seat is kept")
	f.topFail(f.top(top.MethodSubuserUpdate, map[string]string{"sub_id": a.ID, "is_dispatch": "yes"}, topReq{}),
		top.CodeInvalidArguments, "isv.invalid-parameter:is_dispatch")
	f.topFail(f.top(top.MethodSubuserUpdate, map[string]string{"sub_id": "99", "is_dispatch": "true"}, topReq{}),
		top.CodeRemoteServiceError, "isv.subuser-not-exist")
	f.topFail(f.top(top.MethodSubuserUpdate, map[string]string{"is_dispatch": "true"}, topReq{}),
		top.CodeMissingArguments, "isv.missing-parameter:sub_id")
	saved = memory.NewEngine()
	_, err = LoadState(saved, path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(saved.Accounts(platform.Taobao, tbMain)[0].Disabled).To(BeTrue(), "persisted")

	// Departments from the engine, with their members; duties: none.
	deps := f.topOK(top.MethodDepartments, map[string]string{"user_nick": tbMain}, topReq{})["departments"].(map[string]any)["department"].([]any)
	g.Expect(deps).To(HaveLen(1))
	g.Expect(deps[0]).To(HaveKeyWithValue("department_name", "客服部"))
	g.Expect(deps[0].(map[string]any)["sub_user_ids"].(map[string]any)["number"]).To(ConsistOf(BeEquivalentTo(mustFloat(a.ID))))
	g.Expect(deps[0].(map[string]any)["department_id"]).To(Equal(info["department_id"]))
	g.Expect(info["department_id"]).To(BeEquivalentTo(mustFloat(dep.ID)), "the engine's department")
	g.Expect(f.topOK(top.MethodDuties, map[string]string{"user_nick": tbMain}, topReq{})).NotTo(HaveKey("dutys"))
	f.topFail(f.top(top.MethodDuties, nil, topReq{}), top.CodeMissingArguments, "isv.missing-parameter:user_nick")

	// Permissions: the catalog; a sub-account's roles and direct grants.
	points := f.topOK(top.MethodUserPermissions, map[string]string{"nick": tbMain + ":xiaohong"}, topReq{})["permissions"].(map[string]any)["permission"].([]any)
	g.Expect(len(points)).To(BeNumerically(">", 20))
	g.Expect(points[0]).To(HaveKeyWithValue("is_authorize", BeEquivalentTo(1)))
	sp := f.topOK(top.MethodSubuserPermRoles, map[string]string{"nick": tbMain + ":xiaohong"}, topReq{})["subuser_permission"].(map[string]any)
	g.Expect(sp["permissions"].(map[string]any)["permission"]).To(ConsistOf(HaveKeyWithValue("permission_code", "phone")))
	spRoles := sp["roles"].(map[string]any)["role"].([]any)
	g.Expect(spRoles).To(HaveLen(1))
	// Only role_id, role_name and the role's permissions, as TOP documents
	// the roles of this answer (roles.get has the seller and description).
	g.Expect(spRoles[0]).To(HaveKeyWithValue("role_name", "运营"))
	g.Expect(spRoles[0]).To(HaveKeyWithValue("role_id", BeEquivalentTo(mustFloat(a.RoleIDs[0]))))
	g.Expect(spRoles[0]).NotTo(HaveKey("seller_id"))
	g.Expect(spRoles[0]).NotTo(HaveKey("description"))
	g.Expect(spRoles[0].(map[string]any)["permissions"].(map[string]any)["permission"]).To(
		ContainElement(HaveKeyWithValue("permission_code", "item-edit")), "the role's permissions, which roles.get leaves out")
	f.topFail(f.top(top.MethodSubuserPermRoles, nil, topReq{}), top.CodeMissingArguments, "isv.missing-parameter:nick")
	f.topFail(f.top(top.MethodSubuserPermRoles, map[string]string{"nick": tbMain + ":nobody"}, topReq{}), top.CodeRemoteServiceError, "isv.subuser-not-exist")

	// Presence: the presence changes of the activity feed, in the days
	// asked for, oldest first; logins and operations are not presence.
	// (Before the feed, the log was one synthetic record per account from
	// its current seat, whatever the days.)
	now := f.clock.Now()
	for _, e := range []platform.Activity{
		{AccountID: a.ID, Kind: platform.ActivityPresence, Presence: "Online", Time: now.Add(-time.Hour)},
		{AccountID: a.ID, Kind: platform.ActivityLogin, Time: now.Add(-2 * time.Hour)},
		{AccountID: b.ID, Kind: platform.ActivityPresence, Presence: "Break", Time: now.Add(-time.Minute)},
		{AccountID: b.ID, Kind: platform.ActivityPresence, Presence: "Offline", Time: now.AddDate(0, 0, -3)},
	} {
		_, err := f.engine.RecordActivity(platform.Taobao, tbMain, e)
		g.Expect(err).NotTo(HaveOccurred())
	}
	today := top.FormatTimestamp(now)[:10]
	log := f.topOK(top.MethodPresenceLog, map[string]string{"account_ids": a.ID + "," + b.ID + ",99", "start_date": today, "end_date": today + " 00:00:00"}, topReq{})
	recs := log["record_list"].(map[string]any)["record_list"].([]any)
	g.Expect(recs).To(HaveLen(2), "today's presence changes only")
	g.Expect(recs[0]).To(And(HaveKeyWithValue("status", BeEquivalentTo(top.PresenceOnline)), HaveKeyWithValue("account_id", BeEquivalentTo(mustFloat(a.ID))),
		HaveKeyWithValue("change_time_ts", BeEquivalentTo(now.Add(-time.Hour).UnixMilli())), HaveKeyWithValue("type", BeEquivalentTo(top.PresenceTypePC))))
	g.Expect(recs[1]).To(And(HaveKeyWithValue("status", BeEquivalentTo(top.PresenceSuspended)), HaveKeyWithValue("type", BeEquivalentTo(top.PresenceTypeSuspension))))
	g.Expect(f.topOK(top.MethodPresenceLog, map[string]string{"account_ids": b.ID, "start_date": top.FormatTimestamp(now.AddDate(0, 0, -3))[:10], "end_date": today}, topReq{})["record_list"].(map[string]any)["record_list"]).
		To(HaveLen(2), "three days back")
	g.Expect(f.topOK(top.MethodPresenceLog, map[string]string{"account_ids": a.ID, "start_date": "2020-01-01", "end_date": "2020-01-02"}, topReq{})).
		NotTo(HaveKey("record_list"))
	f.topFail(f.top(top.MethodPresenceLog, map[string]string{"account_ids": "1,2,3,4,5,6", "start_date": today, "end_date": today}, topReq{}),
		top.CodeInvalidArguments, "isv.invalid-parameter:account_ids")
	f.topFail(f.top(top.MethodPresenceLog, map[string]string{"account_ids": a.ID, "start_date": "01/02/2024", "end_date": today}, topReq{}),
		top.CodeInvalidArguments, "isv.invalid-parameter:start_date")
	f.topFail(f.top(top.MethodPresenceLog, map[string]string{"account_ids": a.ID, "start_date": today, "end_date": "2020-01-01"}, topReq{}),
		top.CodeInvalidArguments, "isv.invalid-parameter:end_date")

	// Nothing written through TOP shows a secret in the state's audit.
	data, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	var state memory.State
	g.Expect(json.Unmarshal(data, &state)).To(Succeed())
	for _, e := range state.Shops[memory.ShopKey(platform.Taobao, tbMain)].Audit {
		g.Expect(e.Detail).NotTo(ContainSubstring(tbCreds.AccessToken))
	}
}

func mustFloat(id string) float64 {
	var f float64
	_ = json.Unmarshal([]byte(id), &f)
	return f
}
