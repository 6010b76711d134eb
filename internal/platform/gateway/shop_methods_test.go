package gateway_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// Departments and notification contacts through the driver and shopsim:
// what the driver reads is what the engine holds.
func TestShopsimDepartmentsAndContacts(t *testing.T) {
	g := NewWithT(t)
	s := newSim(t, 3)
	c := s.client(t, gateway.Options{}, simCreds)
	ctx := platform.WithSource(context.Background(), "Shop/shops/xiaohong")

	cs, err := c.CreateDepartment(ctx, platform.DepartmentSpec{Name: "客服部"}, "shop-uid/客服部")
	g.Expect(err).NotTo(HaveOccurred())
	again, err := c.CreateDepartment(ctx, platform.DepartmentSpec{Name: "客服部"}, "shop-uid/客服部")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(Equal(cs), "idempotent per request ID")
	pre, err := c.CreateDepartment(ctx, platform.DepartmentSpec{Name: "售前", ParentID: cs.ID}, "")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.CreateDepartment(ctx, platform.DepartmentSpec{Name: "售前", ParentID: cs.ID}, "")
	g.Expect(err).To(MatchError(platform.ErrNameTaken))

	a, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: "Pa55word!", AccountState: platform.AccountState{
		Profile: platform.Profile{Department: "客服部/售前", DepartmentID: pre.ID}}}, "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.Profile.DepartmentID).To(Equal(pre.ID))
	deps, err := c.ListDepartments(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(deps).To(Equal(s.engine.Departments(platform.Taobao, simMain)))
	g.Expect(deps).To(Equal([]platform.Department{cs, {ID: pre.ID, DepartmentSpec: pre.DepartmentSpec, Members: 1}}))
	g.Expect(c.DeleteDepartment(ctx, pre.ID)).To(MatchError(platform.ErrConflict))
	g.Expect(c.DeleteAccount(ctx, a.ID)).To(Succeed())
	g.Expect(c.DeleteDepartment(ctx, pre.ID)).To(Succeed())
	g.Expect(c.DeleteDepartment(ctx, pre.ID)).To(MatchError(platform.ErrNotFound))

	ct, err := c.AddContact(ctx, platform.ContactSpec{Name: "值班", Phone: "+8613700000001"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ct.Verification.Phone).To(Equal("+86****0001"))
	g.Expect(ct.Verification.AttemptsLeft).To(Equal(memory.VerificationAttempts))
	_, err = c.ResendContactCode(ctx, ct.ID)
	g.Expect(err).To(MatchError(platform.ErrRateLimited))
	after, ok := platform.RetryAfter(err)
	g.Expect(ok).To(BeTrue())
	g.Expect(after).To(BeNumerically(">", 0))
	_, err = c.VerifyContact(ctx, ct.ID, "not-it")
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	code, _, _ := s.engine.SMS("+8613700000001")
	g.Expect(err.Error()).NotTo(ContainSubstring(code))
	ct, err = c.VerifyContact(ctx, ct.ID, code)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ct.Verification.Verified).To(BeTrue())
	ct, err = c.UpdateContact(ctx, ct.ID, platform.ContactSpec{Name: "店长", Phone: "+8613700000001"})
	g.Expect(err).NotTo(HaveOccurred())
	list, err := c.ListContacts(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(list).To(Equal([]platform.Contact{ct}))
	g.Expect(list).To(Equal(s.engine.Contacts(platform.Taobao, simMain)))
	g.Expect(c.DeleteContact(ctx, ct.ID)).To(Succeed())
	_, err = c.VerifyContact(ctx, ct.ID, code)
	g.Expect(err).To(MatchError(platform.ErrNotFound))
}
