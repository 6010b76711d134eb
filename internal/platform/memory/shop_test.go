package memory

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func TestDepartmentRules(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	tb := f.clients[platform.Taobao]

	_, err := f.clients[platform.Douyin].CreateDepartment(ctx, platform.DepartmentSpec{Name: "客服部"}, "")
	g.Expect(err).To(MatchError(platform.ErrNotSupported))
	deps, err := f.clients[platform.Pinduoduo].ListDepartments(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(deps).To(BeEmpty())

	for _, bad := range []string{"", "  ", "a/b", strings.Repeat("部", platform.MaxDepartmentNameLength+1)} {
		_, err := tb.CreateDepartment(ctx, platform.DepartmentSpec{Name: bad}, "")
		g.Expect(err).To(MatchError(platform.ErrInvalid), "name %q", bad)
	}
	// Depth: platform.MaxDepartmentDepth levels, not one more.
	parent := ""
	for i := range platform.MaxDepartmentDepth {
		d, err := tb.CreateDepartment(ctx, platform.DepartmentSpec{Name: "L" + string(rune('1'+i)), ParentID: parent}, "")
		g.Expect(err).NotTo(HaveOccurred())
		parent = d.ID
	}
	_, err = tb.CreateDepartment(ctx, platform.DepartmentSpec{Name: "too deep", ParentID: parent}, "")
	g.Expect(err).To(MatchError(ContainSubstring(fmt.Sprintf("at most %d levels", platform.MaxDepartmentDepth))))
	// The same name is fine under another parent.
	top, err := tb.ListDepartments(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = tb.CreateDepartment(ctx, platform.DepartmentSpec{Name: "L1", ParentID: top[0].ID}, "")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = tb.CreateDepartment(ctx, platform.DepartmentSpec{Name: "L1"}, "")
	g.Expect(err).To(MatchError(platform.ErrNameTaken))

	// A snapshot keeps the tree and its request IDs; a dangling parent is
	// refused on restore.
	d, err := tb.CreateDepartment(ctx, platform.DepartmentSpec{Name: "客服部"}, "req-1")
	g.Expect(err).NotTo(HaveOccurred())
	snap, err := f.e.Snapshot()
	g.Expect(err).NotTo(HaveOccurred())
	e2 := NewEngine()
	g.Expect(e2.Restore(snap)).To(Succeed())
	g.Expect(e2.Departments(platform.Taobao, taobaoMain)).To(Equal(f.e.Departments(platform.Taobao, taobaoMain)))
	c2 := e2Client(t, e2)
	again, err := c2.CreateDepartment(ctx, platform.DepartmentSpec{Name: "客服部"}, "req-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.ID).To(Equal(d.ID))
	broken := strings.Replace(string(snap), `"parentID": "`+top[0].ID+`"`, `"parentID": "999"`, 1)
	g.Expect(NewEngine().Restore([]byte(broken))).To(MatchError(ContainSubstring("unknown parent")))
}

func e2Client(t *testing.T, e *Engine) platform.Client {
	t.Helper()
	c, err := e.Factory().ClientFor(ctx, platform.ShopConfig{Platform: platform.Taobao, MainAccount: taobaoMain, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestContactVerification(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	c := f.clients[platform.Douyin]

	ct, err := c.AddContact(ctx, platform.ContactSpec{Name: "值班", Phone: "13700000001"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ct.Verification).To(Equal(platform.Verification{Phone: "137****0001", SentAt: t0, ExpiresAt: t0.Add(VerificationCodeTTL),
		AttemptsLeft: VerificationAttempts}))
	code, _, ok := f.e.SMS("13700000001")
	g.Expect(ok).To(BeTrue())
	// Same rules as an account: wrong codes cost attempts, expiry costs none.
	for i := range VerificationAttempts {
		_, err := c.VerifyContact(ctx, ct.ID, "x"+code)
		g.Expect(err).To(MatchError(platform.ErrInvalid))
		g.Expect(f.e.Contacts(platform.Douyin, douyinMain)[0].Verification.AttemptsLeft).To(Equal(VerificationAttempts - i - 1))
	}
	_, err = c.VerifyContact(ctx, ct.ID, code)
	g.Expect(err).To(MatchError(ContainSubstring("no attempts left")), "the right code no longer helps")
	f.clock.Advance(VerificationResendInterval)
	ct, err = c.ResendContactCode(ctx, ct.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ct.Verification.AttemptsLeft).To(Equal(VerificationAttempts))
	code, _, _ = f.e.SMS("13700000001")
	f.clock.Advance(VerificationCodeTTL)
	_, err = c.VerifyContact(ctx, ct.ID, code)
	g.Expect(err).To(MatchError(ContainSubstring("expired")))
	g.Expect(f.e.Contacts(platform.Douyin, douyinMain)[0].Verification.AttemptsLeft).To(Equal(VerificationAttempts))
	ct, err = c.ResendContactCode(ctx, ct.ID)
	g.Expect(err).NotTo(HaveOccurred())
	code, _, _ = f.e.SMS("13700000001")
	ct, err = c.VerifyContact(ctx, ct.ID, " "+code+"\n")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ct.Verification.Verified).To(BeTrue())
	_, err = c.ResendContactCode(ctx, ct.ID)
	g.Expect(err).To(MatchError(platform.ErrConflict))

	// Limits.
	_, err = c.AddContact(ctx, platform.ContactSpec{Name: "dup", Phone: "13700000001"})
	g.Expect(err).To(MatchError(platform.ErrConflict))
	_, err = c.AddContact(ctx, platform.ContactSpec{Name: "", Phone: "13700000002"})
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	for i := 2; i <= MaxContacts; i++ {
		_, err := c.AddContact(ctx, platform.ContactSpec{Name: "c", Phone: fmt.Sprintf("137000000%02d", i)})
		g.Expect(err).NotTo(HaveOccurred())
	}
	_, err = c.AddContact(ctx, platform.ContactSpec{Name: "one too many", Phone: "13900000000"})
	g.Expect(err).To(MatchError(ContainSubstring("at most 10")))
	// Contacts survive a snapshot.
	snap, err := f.e.Snapshot()
	g.Expect(err).NotTo(HaveOccurred())
	e2 := NewEngine(WithClock(func() time.Time { return t0 }))
	g.Expect(e2.Restore(snap)).To(Succeed())
	g.Expect(e2.Contacts(platform.Douyin, douyinMain)).To(Equal(f.e.Contacts(platform.Douyin, douyinMain)))
}
