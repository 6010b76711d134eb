package taobao

import (
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"
)

// Recorded answers, one per shape TOP sends: success with lists wrapped
// (simplify=false, the default), success with plain arrays (simplify=true
// inside the envelope), empty lists (left out, {} or []), and the error
// envelope.
const (
	recPageWrapped = `{"sellercenter_subusers_page_response":{"subusers":{"sub_user_info":[` +
		`{"sub_id":2200000000001,"nick":"店主:小红","full_name":"店主:小红","seller_id":1000,"seller_nick":"店主","status":1,"is_online":2},` +
		`{"sub_id":"2200000000002","nick":"店主:小蓝","seller_id":1000,"seller_nick":"店主","status":2,"is_online":1},` +
		`{"sub_id":2200000000003,"nick":"店主:gone","status":-1,"is_online":1}` +
		`]},"total_count":3,"page_size":50,"page_num":1,"request_id":"9dvrl7u3x6ek"}}`
	recPagePlain = `{"sellercenter_subusers_page_response":{"subusers":[` +
		`{"sub_id":2200000000001,"nick":"店主:小红","status":"1","is_online":"2"}],"total_count":"1","request_id":"x"}}`
	recPageEmptyAbsent = `{"sellercenter_subusers_page_response":{"total_count":0,"request_id":"r1"}}`
	recPageEmptyObject = `{"sellercenter_subusers_page_response":{"subusers":{},"total_count":0,"request_id":"r2"}}`
	recPageEmptyArray  = `{"sellercenter_subusers_page_response":{"subusers":{"sub_user_info":[]},"total_count":0}}`
	recFullInfo        = `{"subuser_fullinfo_get_response":{"sub_fullinfo":{"sub_id":2200000000001,"sub_nick":"店主:小红",` +
		`"user_id":1000,"user_nick":"店主","sub_status":2,"sub_owed_status":false,"sub_dispatch_status":true,` +
		`"department_id":31,"department_name":"客服部","parent_department":0,"duty_id":4,"duty_name":"客服专员","duty_level":2,` +
		`"employee_name":"王小红","employee_nickname":"小红","employee_num":"E007","entry_date":"2023-03-01 00:00:00","sex":2},` +
		`"request_id":"abc"}}`
	recRolesWrapped = `{"sellercenter_roles_get_response":{"roles":{"role":[` +
		`{"role_id":501,"role_name":"客服","description":"customer service","seller_id":1000,"create_time":"2024-01-01 00:00:00"},` +
		`{"role_id":502,"role_name":"运营","seller_id":1000}]},"request_id":"r"}}`
	recRoleAdd = `{"sellercenter_role_add_response":{"role":{"role_id":503,"role_name":"美工","description":"designer",` +
		`"permissions":{"permission":[{"permission_code":"sm-design","permission_name":"店铺装修","parent_code":"sm"},` +
		`{"permission_code":"sm","permission_name":"店铺管理","parent_code":"sell"}]}},"request_id":"r"}}`
	recDepartments = `{"subuser_departments_get_response":{"departments":{"department":[` +
		`{"department_id":31,"parent_id":0,"department_name":"客服部","sub_user_ids":{"number":[2200000000001,2200000000002]}},` +
		`{"department_id":32,"parent_id":31,"department_name":"售后组"}]},"request_id":"r"}}`
	recDutys    = `{"subuser_dutys_get_response":{"dutys":{"duty":[{"duty_id":4,"duty_name":"客服专员","duty_level":2}]},"request_id":"r"}}`
	recPresence = `{"qianniu_cloudkefu_onlinestatuslog_get_response":{"record_list":{"record_list":[` +
		`{"status":1,"type":8,"domain":"cntaobao","main_account_id":1000,"account_id":2200000000001,"change_time_ts":1704135845000,"change_time":"2024-01-02 03:04:05"},` +
		`{"status":2,"type":5,"account_id":2200000000001,"change_time":"2024-01-02 04:00:00"}]},"request_id":"r"}}`
	recUpdate = `{"subuser_info_update_response":{"is_success":true,"request_id":"r"}}`
	recError  = `{"error_response":{"code":7,"msg":"App Call Limited","sub_code":"accesscontrol.limited-by-app-access-count",` +
		`"sub_msg":"This ban will last for 12 more seconds","request_id":"3fa9e1"}}`
	recErrorStringCode = `{"error_response":{"code":"27","msg":"Invalid session","sub_code":"invalid-sessionkey","request_id":"x"}}`
)

func parse[T any](t *testing.T, method, data string) T {
	t.Helper()
	env, err := ParseEnvelope(method, []byte(data))
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if env.Error != nil {
		t.Fatalf("%s: unexpected error envelope %+v", method, env.Error)
	}
	var out T
	if err := json.Unmarshal(env.Response, &out); err != nil {
		t.Fatalf("%s: decoding: %v", method, err)
	}
	return out
}

func TestResponseKey(t *testing.T) {
	g := NewWithT(t)
	g.Expect(ResponseKey("taobao.sellercenter.subusers.page")).To(Equal("sellercenter_subusers_page_response"))
	g.Expect(ResponseKey("taobao.qianniu.cloudkefu.onlinestatuslog.get")).To(Equal("qianniu_cloudkefu_onlinestatuslog_get_response"))
	g.Expect(ResponseKey("alibaba.x.y")).To(Equal("alibaba_x_y_response"), "only taobao. is dropped")
}

func TestParseSubusersPage(t *testing.T) {
	g := NewWithT(t)
	p := parse[subusersPage](t, MethodSubusersPage, recPageWrapped)
	g.Expect(p.TotalCount).To(BeEquivalentTo(3))
	g.Expect(p.Subusers).To(HaveLen(3))
	g.Expect(p.Subusers[0]).To(Equal(subUserInfo{SubID: "2200000000001", Nick: "店主:小红", FullName: "店主:小红",
		SellerID: "1000", SellerNick: "店主", Status: 1, IsOnline: 2}))
	g.Expect(p.Subusers[1].SubID).To(Equal(id("2200000000002")), "string IDs too")

	plain := parse[subusersPage](t, MethodSubusersPage, recPagePlain)
	g.Expect(plain.Subusers).To(HaveLen(1))
	g.Expect(plain.Subusers[0].IsOnline).To(BeEquivalentTo(dispatchOn))
	g.Expect(plain.TotalCount).To(BeEquivalentTo(1))

	for _, rec := range []string{recPageEmptyAbsent, recPageEmptyObject, recPageEmptyArray} {
		p := parse[subusersPage](t, MethodSubusersPage, rec)
		g.Expect(p.Subusers).To(BeEmpty(), rec)
		g.Expect(p.TotalCount).To(BeZero())
	}
}

func TestParseOtherAnswers(t *testing.T) {
	g := NewWithT(t)
	fi := parse[fullInfoAnswer](t, MethodSubuserFullInfo, recFullInfo).SubFullinfo
	g.Expect(fi).NotTo(BeNil())
	g.Expect(fi.SubStatus).To(BeEquivalentTo(subStatusDisabled))
	g.Expect(bool(fi.SubDispatchStatus)).To(BeTrue())
	g.Expect(fi.DepartmentName).To(Equal("客服部"))
	g.Expect(fi.EmployeeNum).To(Equal("E007"))

	roles := parse[rolesAnswer](t, MethodRoles, recRolesWrapped).Roles
	g.Expect(roles).To(HaveLen(2))
	g.Expect(roles[0].toRole().ID).To(Equal("501"))
	g.Expect(roles[0].toRole().Permissions).To(BeEmpty())

	added := parse[roleAddAnswer](t, MethodRoleAdd, recRoleAdd).Role
	g.Expect(added.toRole().Permissions).To(Equal([]string{"sm", "sm-design"}))

	deps := parse[departmentsAnswer](t, MethodDepartments, recDepartments).Departments
	g.Expect(deps).To(HaveLen(2))
	g.Expect(deps[0].SubUserIDs).To(Equal(list[id]{"2200000000001", "2200000000002"}))
	g.Expect(deps[1].ParentID).To(Equal(id("31")))

	duties := parse[dutysAnswer](t, MethodDuties, recDutys).Dutys
	g.Expect(duties).To(Equal(list[dutyInfo]{{DutyID: "4", DutyName: "客服专员", DutyLevel: 2}}))

	recs := parse[presenceAnswer](t, MethodPresenceLog, recPresence).RecordList
	g.Expect(recs).To(HaveLen(2))
	g.Expect(recordTime(recs[0]).Unix()).To(BeEquivalentTo(1704135845))
	g.Expect(recordTime(recs[1]).Format("2006-01-02 15:04:05")).To(Equal("2024-01-01 20:00:00"), "GMT+8 read as such")

	g.Expect(bool(parse[infoUpdateAnswer](t, MethodSubuserUpdate, recUpdate).IsSuccess)).To(BeTrue())
}

func TestParseErrorEnvelope(t *testing.T) {
	g := NewWithT(t)
	env, err := ParseEnvelope(MethodRoles, []byte(recError))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Response).To(BeNil())
	g.Expect(env.Error).To(Equal(&ErrorResponse{Code: 7, Msg: "App Call Limited", SubCode: SubCodeAppAccessCount,
		SubMsg: "This ban will last for 12 more seconds", RequestID: "3fa9e1"}))

	// An unreadable code reads as 0 (unknown, transient).
	env, err = ParseEnvelope(MethodRoles, []byte(`{"error_response":{"code":{},"msg":"?"}}`))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Error.Code).To(BeZero())

	env, err = ParseEnvelope(MethodRoles, []byte(recErrorStringCode))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Error.Code).To(BeEquivalentTo(27))

	// The error envelope wins whatever the method.
	env, err = ParseEnvelope("taobao.anything.else", []byte(recError))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Error).NotTo(BeNil())
}

func TestParseEnvelopeRefusesOtherShapes(t *testing.T) {
	for _, bad := range []string{
		``, `null`, `[]`, `"x"`, `{}`, `<html>502 Bad Gateway</html>`,
		`{"sellercenter_roles_get_response":[]}`,
		`{"sellercenter_roles_get_response":null}`,
		`{"sellercenter_roles_get_response":"ok"}`,
		`{"error_response":"boom"}`,
		`{"roles_get_response":{}}`,
	} {
		if _, err := ParseEnvelope(MethodRoles, []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestListShapes(t *testing.T) {
	g := NewWithT(t)
	for in, want := range map[string]list[id]{
		`null`:                 nil,
		`[]`:                   nil,
		`{}`:                   nil,
		`{"number":null}`:      nil,
		`[1,"2"]`:              {"1", "2"},
		`{"number":[3]}`:       {"3"},
		`{"number":4}`:         {"4"},
		`{"number":"5"}`:       {"5"},
		`9007199254740993`:     nil, // not a list: error below
		`{"a":[1],"b":[2]}`:    nil,
		`{"number":[1.5]}`:     nil,
		`{"number":[true]}`:    nil,
		`{"number":["x"]}`:     nil,
		`{"number":[{"a":1}]}`: nil,
	} {
		var l list[id]
		err := json.Unmarshal([]byte(in), &l)
		if want == nil && in != `null` && in != `[]` && in != `{}` && in != `{"number":null}` {
			g.Expect(err).To(HaveOccurred(), in)
			continue
		}
		g.Expect(err).NotTo(HaveOccurred(), in)
		g.Expect([]id(l)).To(Equal([]id(want)), in)
	}
	var big list[id]
	g.Expect(json.Unmarshal([]byte(`[9007199254740993]`), &big)).To(Succeed())
	g.Expect(big).To(Equal(list[id]{"9007199254740993"}), "IDs beyond 2^53 keep every digit")
}

func TestScalarShapes(t *testing.T) {
	g := NewWithT(t)
	var f flag
	for in, want := range map[string]bool{`true`: true, `"true"`: true, `1`: true, `"1"`: true, `false`: false, `"0"`: false, `null`: false, `""`: false} {
		g.Expect(json.Unmarshal([]byte(in), &f)).To(Succeed(), in)
		g.Expect(bool(f)).To(Equal(want), in)
	}
	g.Expect(json.Unmarshal([]byte(`"yes"`), &f)).NotTo(Succeed())
	var n num
	g.Expect(json.Unmarshal([]byte(`"42"`), &n)).To(Succeed())
	g.Expect(n).To(BeEquivalentTo(42))
	g.Expect(json.Unmarshal([]byte(`1.5`), &n)).NotTo(Succeed())
	g.Expect(json.Unmarshal([]byte(`{}`), &n)).NotTo(Succeed())
	var li lenientInt
	g.Expect(json.Unmarshal([]byte(`{}`), &li)).To(Succeed())
	g.Expect(li).To(BeZero())
}
