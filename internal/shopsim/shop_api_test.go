package shopsim

import (
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

func TestDepartmentsAndContacts(t *testing.T) {
	f := newFixture(t, Options{AdminToken: adminToken})
	g := f.g

	// Departments: created idempotently, a tree, members counted.
	hdr := sig{header: map[string]string{wire.HeaderIdempotencyKey: "dep-1", wire.HeaderSource: "Shop/default/hongxing"}}
	var cs, again, pre wire.Department
	f.ok(http.StatusCreated, http.MethodPost, wire.PathDepartments, wire.DepartmentSpec{Name: "客服部"}, &cs, hdr)
	f.ok(http.StatusCreated, http.MethodPost, wire.PathDepartments, wire.DepartmentSpec{Name: "客服部"}, &again, hdr)
	g.Expect(again).To(Equal(cs))
	f.ok(http.StatusCreated, http.MethodPost, wire.PathDepartments, wire.DepartmentSpec{Name: "售前", ParentID: cs.ID}, &pre, sig{})
	g.Expect(pre.ParentID).To(Equal(cs.ID))
	expectError(t, f.call(http.MethodPost, wire.PathDepartments, wire.DepartmentSpec{Name: "售前", ParentID: cs.ID}, sig{}),
		http.StatusConflict, wire.CodeNameTaken, "name")
	expectError(t, f.call(http.MethodPost, wire.PathDepartments, wire.DepartmentSpec{Name: "x", ParentID: "404"}, sig{}),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "parentId")
	expectError(t, f.call(http.MethodPost, wire.PathDepartments, wire.DepartmentSpec{Name: "a/b"}, sig{}),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "name")
	expectError(t, f.call(http.MethodPost, wire.PathDepartments, wire.DepartmentSpec{Name: "客服部"}, sig{shop: platform.Pinduoduo}),
		http.StatusNotImplemented, wire.CodeNotSupported, "")

	a := f.account("xiaohong", "Pa55word!")
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathAccount, a.ID),
		wire.AccountState{Profile: wire.Profile{Department: "客服部/售前", DepartmentID: pre.ID}}, nil, sig{})
	expectError(t, f.call(http.MethodPut, at(wire.PathAccount, a.ID),
		wire.AccountState{Profile: wire.Profile{DepartmentID: "404"}}, sig{}), http.StatusUnprocessableEntity, wire.CodeInvalid, "department")
	var deps wire.DepartmentList
	f.ok(http.StatusOK, http.MethodGet, wire.PathDepartments, nil, &deps, sig{})
	g.Expect(deps.Items).To(Equal([]wire.Department{
		{ID: cs.ID, DepartmentSpec: wire.DepartmentSpec{Name: "客服部"}},
		{ID: pre.ID, DepartmentSpec: wire.DepartmentSpec{Name: "售前", ParentID: cs.ID}, Members: 1},
	}))
	// Not deleted while it has members or sub-departments.
	expectError(t, f.call(http.MethodDelete, at(wire.PathDepartment, pre.ID), nil, sig{}), http.StatusConflict, wire.CodeConflict, "")
	expectError(t, f.call(http.MethodDelete, at(wire.PathDepartment, cs.ID), nil, sig{}), http.StatusConflict, wire.CodeConflict, "")
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathAccount, a.ID), wire.AccountState{}, nil, sig{})
	f.ok(http.StatusNoContent, http.MethodDelete, at(wire.PathDepartment, pre.ID), nil, nil, sig{})
	f.ok(http.StatusNoContent, http.MethodDelete, at(wire.PathDepartment, cs.ID), nil, nil, sig{})
	expectError(t, f.call(http.MethodDelete, at(wire.PathDepartment, cs.ID), nil, sig{}), http.StatusNotFound, wire.CodeNotFound, "id")
	g.Expect(f.engine.Departments(platform.Taobao, tbMain)).To(BeEmpty())
	g.Expect(f.engine.Audit(platform.Taobao, tbMain)[0]).To(And(HaveField("Action", "department.create"), HaveField("Source", "Shop/default/hongxing")))

	// Contacts: added with an SMS code, verified like an account.
	var ct wire.Contact
	f.ok(http.StatusCreated, http.MethodPost, wire.PathContacts, wire.ContactSpec{Name: "值班", Phone: "13700000001"}, &ct, sig{})
	g.Expect(ct.Phone).To(Equal("13700000001"))
	g.Expect(ct.Verification).To(Equal(wire.Verification{Phone: "137****0001", SentAt: t0, ExpiresAt: t0.Add(memory.VerificationCodeTTL), AttemptsLeft: 5}))
	expectError(t, f.call(http.MethodPost, wire.PathContacts, wire.ContactSpec{Name: "again", Phone: "13700000001"}, sig{}),
		http.StatusConflict, wire.CodeConflict, "phone")
	expectError(t, f.call(http.MethodPost, wire.PathContacts, wire.ContactSpec{Name: "bad", Phone: "12345"}, sig{}),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "phone")
	code := f.sms("13700000001").Code
	r := expectError(t, f.call(http.MethodPost, at(wire.PathContactVerify, ct.ID), wire.VerifyCode{Code: otherCode(code)}, sig{}),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "code")
	g.Expect(r.Message).To(ContainSubstring("4 attempts left"))
	// Resend: too soon is 429 with Retry-After; after a minute a new code.
	resp := f.call(http.MethodPost, at(wire.PathContactCode, ct.ID), nil, sig{})
	g.Expect(resp.status).To(Equal(http.StatusTooManyRequests))
	g.Expect(resp.header.Get(wire.HeaderRetryAfter)).To(Equal("60"))
	f.clock.Advance(time.Minute)
	f.ok(http.StatusOK, http.MethodPost, at(wire.PathContactCode, ct.ID), nil, &ct, sig{})
	g.Expect(ct.Verification.AttemptsLeft).To(Equal(5))
	code = f.sms("13700000001").Code
	f.ok(http.StatusOK, http.MethodPost, at(wire.PathContactVerify, ct.ID), wire.VerifyCode{Code: code}, &ct, sig{})
	g.Expect(ct.Verification.Verified).To(BeTrue())
	expectError(t, f.call(http.MethodPost, at(wire.PathContactVerify, ct.ID), wire.VerifyCode{Code: code}, sig{}),
		http.StatusConflict, wire.CodeConflict, "")
	// Rename; the phone cannot change.
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathContact, ct.ID), wire.ContactSpec{Name: "店长", Phone: "13700000001"}, &ct, sig{})
	g.Expect(ct.Name).To(Equal("店长"))
	expectError(t, f.call(http.MethodPut, at(wire.PathContact, ct.ID), wire.ContactSpec{Name: "店长", Phone: "13700000002"}, sig{}),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "phone")
	var list wire.ContactList
	f.ok(http.StatusOK, http.MethodGet, wire.PathContacts, nil, &list, sig{})
	g.Expect(list.Items).To(Equal([]wire.Contact{ct}))
	f.ok(http.StatusNoContent, http.MethodDelete, at(wire.PathContact, ct.ID), nil, nil, sig{})
	f.ok(http.StatusOK, http.MethodGet, wire.PathContacts, nil, &list, sig{})
	g.Expect(list.Items).NotTo(BeNil())
	g.Expect(list.Items).To(BeEmpty())
	// The code never reaches the audit log.
	for _, e := range f.engine.Audit(platform.Taobao, tbMain) {
		g.Expect(containsCode(e.Detail, code)).To(BeFalse())
	}
}

// The web page shows the department tree by path with member counts and
// the notification contacts with masked phones, escaped, never a code.
func TestWebPageDepartmentsAndContacts(t *testing.T) {
	f := newFixture(t, Options{AdminToken: adminToken})
	g := f.g
	var cs, pre wire.Department
	f.ok(http.StatusCreated, http.MethodPost, wire.PathDepartments, wire.DepartmentSpec{Name: "客服部"}, &cs, sig{})
	f.ok(http.StatusCreated, http.MethodPost, wire.PathDepartments, wire.DepartmentSpec{Name: "<i>售前<i>", ParentID: cs.ID}, &pre, sig{})
	a := f.account("xiaohong", "Pa55word!")
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathAccount, a.ID), wire.AccountState{Profile: wire.Profile{DepartmentID: pre.ID}}, nil, sig{})
	f.ok(http.StatusCreated, http.MethodPost, wire.PathContacts, wire.ContactSpec{Name: "值班", Phone: "13700000001"}, nil, sig{})

	r := f.get("/", "")
	g.Expect(r.status).To(Equal(http.StatusOK))
	page := string(r.body)
	for _, want := range []string{
		"<h3>Departments</h3>", "<td>" + pre.ID + "</td><td>客服部/&lt;i&gt;售前&lt;i&gt;</td><td>1</td>",
		"<h3>Notification contacts</h3>", "<td>值班</td><td>137****0001</td><td>pending until",
	} {
		g.Expect(page).To(ContainSubstring(want))
	}
	g.Expect(page).NotTo(ContainSubstring("<i>售前"))
	g.Expect(page).NotTo(ContainSubstring("13700000001"))
	g.Expect(containsCode(page, f.sms("13700000001").Code)).To(BeFalse())
}
