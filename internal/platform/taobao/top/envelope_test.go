package top

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// recorded is a recorded TOP answer from testdata, one per shape TOP
// sends: success with lists wrapped (simplify=false, the default), success
// with plain arrays (simplify=true inside the envelope), empty lists (left
// out, {} or []), and the error envelope. The driver's tests replay the
// same files.
func recorded(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

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
	p := parse[SubusersPage](t, MethodSubusersPage, recorded(t, "page-wrapped"))
	g.Expect(p.TotalCount).To(BeEquivalentTo(3))
	g.Expect(p.Subusers).To(HaveLen(3))
	g.Expect(p.Subusers[0]).To(Equal(SubUserInfo{SubID: "2200000000001", Nick: "店主:小红", FullName: "店主:小红",
		SellerID: "1000", SellerNick: "店主", Status: 1, IsOnline: 2}))
	g.Expect(p.Subusers[1].SubID).To(Equal(ID("2200000000002")), "string IDs too")

	plain := parse[SubusersPage](t, MethodSubusersPage, recorded(t, "page-plain"))
	g.Expect(plain.Subusers).To(HaveLen(1))
	g.Expect(plain.Subusers[0].IsOnline).To(BeEquivalentTo(DispatchOn))
	g.Expect(plain.TotalCount).To(BeEquivalentTo(1))

	for _, rec := range []string{recorded(t, "page-empty-absent"), recorded(t, "page-empty-object"), recorded(t, "page-empty-array")} {
		p := parse[SubusersPage](t, MethodSubusersPage, rec)
		g.Expect(p.Subusers).To(BeEmpty(), rec)
		g.Expect(p.TotalCount).To(BeZero())
	}
}

func TestParseOtherAnswers(t *testing.T) {
	g := NewWithT(t)
	fi := parse[FullInfoAnswer](t, MethodSubuserFullInfo, recorded(t, "fullinfo")).SubFullinfo
	g.Expect(fi).NotTo(BeNil())
	g.Expect(fi.SubStatus).To(BeEquivalentTo(SubStatusDisabled))
	g.Expect(bool(fi.SubDispatchStatus)).To(BeTrue())
	g.Expect(fi.DepartmentName).To(Equal("客服部"))
	g.Expect(fi.EmployeeNum).To(Equal("E007"))

	roles := parse[RolesAnswer](t, MethodRoles, recorded(t, "roles-wrapped")).Roles
	g.Expect(roles).To(HaveLen(2))
	g.Expect(roles[0].RoleID).To(Equal(ID("501")))
	g.Expect(roles[0].Permissions).To(BeEmpty())

	added := parse[RoleAddAnswer](t, MethodRoleAdd, recorded(t, "role-add")).Role
	g.Expect(added.Permissions).To(HaveLen(2))
	g.Expect(added.Permissions[0].PermissionCode).To(Equal("sm-design"))
	g.Expect(added.Permissions[1].ParentCode).To(Equal("sell"))

	deps := parse[DepartmentsAnswer](t, MethodDepartments, recorded(t, "departments")).Departments
	g.Expect(deps).To(HaveLen(2))
	g.Expect(deps[0].SubUserIDs).To(Equal(List[ID]{"2200000000001", "2200000000002"}))
	g.Expect(deps[1].ParentID).To(Equal(ID("31")))

	duties := parse[DutysAnswer](t, MethodDuties, recorded(t, "dutys")).Dutys
	g.Expect(duties).To(Equal(List[DutyInfo]{{DutyID: "4", DutyName: "客服专员", DutyLevel: 2}}))

	recs := parse[PresenceLogAnswer](t, MethodPresenceLog, recorded(t, "presence")).RecordList
	g.Expect(recs).To(HaveLen(2))
	g.Expect(recs[0].Time().Unix()).To(BeEquivalentTo(1704135845))
	g.Expect(recs[1].Time().Format("2006-01-02 15:04:05")).To(Equal("2024-01-01 20:00:00"), "GMT+8 read as such")

	g.Expect(bool(parse[InfoUpdateAnswer](t, MethodSubuserUpdate, recorded(t, "update")).IsSuccess)).To(BeTrue())
}

func TestParseErrorEnvelope(t *testing.T) {
	g := NewWithT(t)
	env, err := ParseEnvelope(MethodRoles, []byte(recorded(t, "error")))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Response).To(BeNil())
	g.Expect(env.Error).To(Equal(&ErrorResponse{Code: 7, Msg: "App Call Limited", SubCode: SubCodeAppAccessCount,
		SubMsg: "This ban will last for 12 more seconds", RequestID: "3fa9e1"}))

	// An unreadable code reads as 0 (unknown, transient).
	env, err = ParseEnvelope(MethodRoles, []byte(`{"error_response":{"code":{},"msg":"?"}}`))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Error.Code).To(BeZero())

	env, err = ParseEnvelope(MethodRoles, []byte(recorded(t, "error-string-code")))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Error.Code).To(BeEquivalentTo(27))

	// The error envelope wins whatever the method.
	env, err = ParseEnvelope("taobao.anything.else", []byte(recorded(t, "error")))
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
	for in, want := range map[string]List[ID]{
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
		var l List[ID]
		err := json.Unmarshal([]byte(in), &l)
		if want == nil && in != `null` && in != `[]` && in != `{}` && in != `{"number":null}` {
			g.Expect(err).To(HaveOccurred(), in)
			continue
		}
		g.Expect(err).NotTo(HaveOccurred(), in)
		g.Expect([]ID(l)).To(Equal([]ID(want)), in)
	}
	var big List[ID]
	g.Expect(json.Unmarshal([]byte(`[9007199254740993]`), &big)).To(Succeed())
	g.Expect(big).To(Equal(List[ID]{"9007199254740993"}), "IDs beyond 2^53 keep every digit")
}

func TestScalarShapes(t *testing.T) {
	g := NewWithT(t)
	var f Flag
	for in, want := range map[string]bool{`true`: true, `"true"`: true, `1`: true, `"1"`: true, `false`: false, `"0"`: false, `null`: false, `""`: false} {
		g.Expect(json.Unmarshal([]byte(in), &f)).To(Succeed(), in)
		g.Expect(bool(f)).To(Equal(want), in)
	}
	g.Expect(json.Unmarshal([]byte(`"yes"`), &f)).NotTo(Succeed())
	var n Num
	g.Expect(json.Unmarshal([]byte(`"42"`), &n)).To(Succeed())
	g.Expect(n).To(BeEquivalentTo(42))
	g.Expect(json.Unmarshal([]byte(`1.5`), &n)).NotTo(Succeed())
	g.Expect(json.Unmarshal([]byte(`{}`), &n)).NotTo(Succeed())
	var li lenientInt
	g.Expect(json.Unmarshal([]byte(`{}`), &li)).To(Succeed())
	g.Expect(li).To(BeZero())
}
