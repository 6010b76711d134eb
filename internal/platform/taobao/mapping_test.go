package taobao

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
)

// recorded serves the recorded answer of each method and keeps the forms.
type recorded struct {
	mu      sync.Mutex
	forms   map[string]url.Values
	answers map[string]string
}

func newRecorded(t *testing.T, answers map[string]string) (*recorded, *Client) {
	t.Helper()
	r := &recorded{forms: map[string]url.Values{}, answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_ = req.ParseForm()
		m := req.PostForm.Get(top.ParamMethod)
		key := m
		if st := req.PostForm.Get(top.ParamAccountStatus); st != "" {
			key += "?account_status=" + st // a filtered listing has its own answer
		}
		r.mu.Lock()
		r.forms[key] = req.PostForm
		body, ok := r.answers[key]
		r.mu.Unlock()
		if !ok {
			body = `{"error_response":{"code":22,"msg":"Invalid method"}}`
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{Clock: func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }},
		platform.ShopConfig{Platform: platform.Taobao, MainAccount: "店主", Endpoint: srv.URL,
			Credentials: platform.Credentials{AppKey: "k", AppSecret: "s", AccessToken: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

// recordedAnswer is a recorded TOP answer from top's testdata (one per shape
// TOP sends), as the protocol's own tests read them.
func recordedAnswer(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("top", "testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// penalisedListing is the recorded answers' key of subusers.page filtered
// by account_status 3 (frozen by the platform as a penalty).
const penalisedListing = top.MethodSubusersPage + "?account_status=3"

// forget drops the form last sent to method.
func (r *recorded) forget(method string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.forms, method)
}

func (r *recorded) form(method string) url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.forms[method]
}

func TestMappingFromRecordedAnswers(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	r, c := newRecorded(t, map[string]string{
		top.MethodSubusersPage:     recordedAnswer(t, "page-wrapped"),
		penalisedListing:           recordedAnswer(t, "page-penalised-wrapped"),
		top.MethodSubuserFullInfo:  recordedAnswer(t, "fullinfo"),
		top.MethodSubuserUpdate:    recordedAnswer(t, "update"),
		top.MethodRoles:            recordedAnswer(t, "roles-wrapped"),
		top.MethodRoleAdd:          recordedAnswer(t, "role-add"),
		top.MethodDepartments:      recordedAnswer(t, "departments"),
		top.MethodDuties:           recordedAnswer(t, "dutys"),
		top.MethodPresenceLog:      recordedAnswer(t, "presence"),
		top.MethodSubuserPermRoles: recordedAnswer(t, "permissions-roles-wrapped"),
	})

	info, err := c.ShopInfo(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info).To(Equal(platform.ShopInfo{Platform: platform.Taobao, MainAccount: "店主", SeatsUsed: 3, PhoneVerification: platform.PhoneVerificationNone}))
	g.Expect(r.form(top.MethodSubusersPage).Get("page_size")).To(Equal("2"), "TOP's smallest page: greater than 1")

	page, err := c.ListAccounts(ctx, platform.ListOptions{Page: 2, PageSize: 199})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.form(top.MethodSubusersPage).Get("page_num")).To(Equal("2"))
	g.Expect(r.form(top.MethodSubusersPage).Get("page_size")).To(Equal("199"), "TOP's largest page: less than 200")
	g.Expect(r.form(top.MethodSubusersPage).Get("nick")).To(Equal("店主"))
	g.Expect(page.Total).To(Equal(3))
	g.Expect(page.Accounts).To(Equal([]platform.Account{
		{ID: "2200000000001", Name: "小红", Login: "店主:小红", AccountState: platform.AccountState{Seat: &platform.Seat{Chat: true}}},
		{ID: "2200000000002", Name: "小蓝", Login: "店主:小蓝", AccountState: platform.AccountState{Seat: &platform.Seat{}}, PlatformFrozen: true},
	}), "the deleted entry is left out; the frozen one is the platform's penalty, not the seller's disabling")
	g.Expect(r.form(penalisedListing).Get("page_size")).To(Equal("199"))
	for _, size := range []int{1, 200} {
		_, err = c.ListAccounts(ctx, platform.ListOptions{Page: 1, PageSize: size})
		g.Expect(err).To(MatchError(platform.ErrInvalid), "page size %d is outside TOP's 2-199", size)
	}

	want := platform.Account{ID: "2200000000001", Name: "小红", Login: "店主:小红", AccountState: platform.AccountState{
		Profile:          platform.Profile{DisplayName: "小红", EmployeeName: "王小红", EmployeeNumber: "E007", Department: "客服部", DepartmentID: "31"},
		Disabled:         true,
		Seat:             &platform.Seat{Chat: true},
		RoleIDs:          []string{"501", "502"},
		ExtraPermissions: []string{"phone"},
	}, Roles: []platform.Role{
		{ID: "501", RoleSpec: platform.RoleSpec{Name: "客服", Permissions: []string{"wangwang-chat"}}},
		{ID: "502", RoleSpec: platform.RoleSpec{Name: "运营", Permissions: []string{"sell", "sm", "sm-design"}}},
	}}
	a, err := c.GetAccount(ctx, "2200000000001")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a).To(Equal(want))
	g.Expect(r.form(top.MethodSubuserFullInfo).Get("sub_id")).To(Equal("2200000000001"))
	a, err = c.FindAccount(ctx, "小红")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a).To(Equal(want))
	g.Expect(r.form(top.MethodSubuserFullInfo).Get("sub_nick")).To(Equal("店主:小红"))
	g.Expect(r.form(top.MethodSubuserFullInfo).Has("sub_id")).To(BeFalse())
	g.Expect(r.form(top.MethodSubuserPermRoles).Get("nick")).To(Equal("店主:小红"), "the sub-account's nick")

	// The account is disabled and dispatching (fullinfo): an update sends
	// only the flag that changes, so the other one, perhaps changed in the
	// back office meanwhile, is left alone.
	_, err = c.UpdateAccount(ctx, "2200000000001", platform.AccountState{Seat: &platform.Seat{Chat: true, Capacity: 9},
		RoleIDs: []string{"1"}, Profile: platform.Profile{Department: "ignored"}})
	g.Expect(err).NotTo(HaveOccurred())
	f := r.form(top.MethodSubuserUpdate)
	g.Expect(f.Get("sub_id")).To(Equal("2200000000001"))
	g.Expect(f.Get("is_disable_subaccount")).To(Equal("false"))
	g.Expect(f.Has("is_dispatch")).To(BeFalse(), "dispatch does not change: not sent")
	g.Expect(f).To(HaveLen(10), "only sub_id and is_disable_subaccount besides the 8 common parameters")
	_, err = c.UpdateAccount(ctx, "2200000000001", platform.AccountState{Disabled: true})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.form(top.MethodSubuserUpdate).Get("is_dispatch")).To(Equal("false"), "no seat: no dispatch")
	g.Expect(r.form(top.MethodSubuserUpdate).Has("is_disable_subaccount")).To(BeFalse(), "disabled does not change: not sent")
	r.forget(top.MethodSubuserUpdate)
	_, err = c.UpdateAccount(ctx, "2200000000001", platform.AccountState{Disabled: true, Seat: &platform.Seat{Chat: true}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.form(top.MethodSubuserUpdate)).To(BeNil(), "nothing changes: no update is sent")

	roles, err := c.ListRoles(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(roles).To(Equal([]platform.Role{
		{ID: "501", RoleSpec: platform.RoleSpec{Name: "客服", Description: "customer service"}},
		{ID: "502", RoleSpec: platform.RoleSpec{Name: "运营"}},
	}))
	role, err := c.GetRole(ctx, "502")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(role.Name).To(Equal("运营"))
	_, err = c.GetRole(ctx, "999")
	g.Expect(err).To(MatchError(platform.ErrNotFound))

	role, err = c.CreateRole(ctx, platform.RoleSpec{Name: "美工", Description: "designer", Permissions: []string{"sm", "sm-design"}}, "uid-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(role).To(Equal(platform.Role{ID: "503", RoleSpec: platform.RoleSpec{Name: "美工", Description: "designer", Permissions: []string{"sm", "sm-design"}}}))
	f = r.form(top.MethodRoleAdd)
	g.Expect(f.Get("nick")).To(Equal("店主"))
	g.Expect(f.Get("name")).To(Equal("美工"))
	g.Expect(f.Get("description")).To(Equal("designer"))
	g.Expect(f.Get("permission_codes")).To(Equal("sm,sm-design"))

	deps, err := c.Departments(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.form(top.MethodDepartments).Get("user_nick")).To(Equal("店主"))
	g.Expect(deps).To(Equal([]Department{
		{ID: "31", Name: "客服部", AccountIDs: []string{"2200000000001", "2200000000002"}},
		{ID: "32", Name: "售后组", ParentID: "31"},
	}))
	duties, err := c.Duties(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(duties).To(Equal([]Duty{{ID: "4", Name: "客服专员", Level: 2}}))

	start := time.Date(2024, 1, 1, 16, 0, 0, 0, time.UTC) // 2024-01-02 00:00 GMT+8
	recs, err := c.PresenceLog(ctx, []string{"2200000000001", "2200000000002"}, start, start.Add(24*time.Hour-time.Second))
	g.Expect(err).NotTo(HaveOccurred())
	f = r.form(top.MethodPresenceLog)
	g.Expect(f.Get("account_ids")).To(Equal("2200000000001,2200000000002"))
	g.Expect(f.Get("start_date")).To(Equal("2024-01-02 00:00:00"))
	g.Expect(f.Get("end_date")).To(Equal("2024-01-02 23:59:59"))
	g.Expect(recs).To(Equal([]PresenceRecord{
		{AccountID: "2200000000001", Status: top.PresenceOnline, Type: 8, Time: time.Unix(1704135845, 0).UTC()},
		{AccountID: "2200000000001", Status: top.PresenceSuspended, Type: 5, Time: time.Date(2024, 1, 1, 20, 0, 0, 0, time.UTC)},
	}))
	g.Expect(top.PresenceSuspended.String()).To(Equal("suspended"))
}

func TestCreateRoleRepeatAfterLostAnswer(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	taken := `{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isv.role-name-exist","sub_msg":"role name exists"}}`
	r, c := newRecorded(t, map[string]string{top.MethodRoleAdd: `{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isp.remote-service-timeout"}}`,
		top.MethodRoles: recordedAnswer(t, "roles-wrapped")})

	// The first attempt's outcome is unknown (a transient error); TOP did
	// create the role, so the repeat with the same request ID finds the
	// name taken and returns the role of that name.
	_, err := c.CreateRole(ctx, platform.RoleSpec{Name: "客服"}, "uid-1")
	g.Expect(err).To(MatchError(platform.ErrTransient))
	r.mu.Lock()
	r.answers[top.MethodRoleAdd] = taken
	r.mu.Unlock()
	role, err := c.CreateRole(ctx, platform.RoleSpec{Name: "客服"}, "uid-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(role.ID).To(Equal("501"))
	role, err = c.CreateRole(ctx, platform.RoleSpec{Name: "客服"}, "uid-1")
	g.Expect(err).NotTo(HaveOccurred(), "and every later repeat")
	g.Expect(role.ID).To(Equal("501"))

	// Someone else's role of that name stays a name clash, also when
	// repeated: a definite refusal is not recorded.
	for range 2 {
		_, err = c.CreateRole(ctx, platform.RoleSpec{Name: "运营"}, "uid-2")
		g.Expect(err).To(MatchError(platform.ErrNameTaken))
	}
	_, err = c.CreateRole(ctx, platform.RoleSpec{Name: "运营"}, "")
	g.Expect(err).To(MatchError(platform.ErrNameTaken), "no request ID: no idempotency")
	// A repeat under another name is no repeat.
	_, err = c.CreateRole(ctx, platform.RoleSpec{Name: "运营"}, "uid-1")
	g.Expect(err).To(MatchError(platform.ErrNameTaken))
	// Another factory (another process) knows nothing of uid-1.
	c2, err := New(Options{}, platform.ShopConfig{Platform: platform.Taobao, MainAccount: "店主", Endpoint: c.endpoint})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c2.CreateRole(ctx, platform.RoleSpec{Name: "客服"}, "uid-1")
	g.Expect(err).To(MatchError(platform.ErrNameTaken))
}

func TestCreateLogIsBounded(t *testing.T) {
	g := NewWithT(t)
	l := newCreateLog()
	for i := range maxCreateLog + 10 {
		l.record(string(rune('a'+i%26))+time.Duration(i).String(), "n")
	}
	g.Expect(l.names).To(HaveLen(maxCreateLog))
	g.Expect(l.order).To(HaveLen(maxCreateLog))
	_, ok := l.lookup("a0s")
	g.Expect(ok).To(BeFalse(), "the oldest is dropped")
}

// A penalty freeze (sub_status 3) is the platform's: it reads as
// PlatformFrozen, not Disabled, and no update tries to lift it; an unpaid
// seat fee (sub_owed_status) reads as SeatFeeOwed. Both recorded shapes:
// the default (simplify=false, lists wrapped) and simplify=true (plain
// lists, numbers as strings).
func TestPenaltyFreezeAndUnpaidSeat(t *testing.T) {
	for _, shape := range []string{"wrapped", "plain"} {
		t.Run(shape, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			r, c := newRecorded(t, map[string]string{
				top.MethodSubuserFullInfo:  recordedAnswer(t, "fullinfo-penalised-"+shape),
				top.MethodSubuserUpdate:    recordedAnswer(t, "update"),
				top.MethodSubuserPermRoles: recordedAnswer(t, "permissions-roles-"+shape),
			})
			a, err := c.GetAccount(ctx, "2200000000002")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.PlatformFrozen).To(BeTrue())
			g.Expect(a.Disabled).To(BeFalse(), "frozen by the platform, not disabled by the seller")
			g.Expect(a.SeatFeeOwed).To(BeTrue())

			_, err = c.UpdateAccount(ctx, "2200000000002", platform.AccountState{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(r.form(top.MethodSubuserUpdate)).To(BeNil(), "enabled as desired: nothing is sent, the freeze is not undone")
			_, err = c.UpdateAccount(ctx, "2200000000002", platform.AccountState{Disabled: true})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(r.form(top.MethodSubuserUpdate).Get("is_disable_subaccount")).To(Equal("true"), "the seller may still disable it")
		})
	}
}

// An account's roles (each with its permissions) and direct permissions
// from taobao.sellercenter.subuser.permissions.roles.get, in both recorded
// shapes: the default (simplify=false: lists wrapped, a one-element list
// as a wrapped object) and simplify=true (plain lists, numbers as
// strings); an account with neither answers an empty subuser_permission.
func TestObservedAccessFromRecordedAnswers(t *testing.T) {
	want := platform.AccountState{RoleIDs: []string{"501", "502"}, ExtraPermissions: []string{"phone"}}
	wantRoles := []platform.Role{
		{ID: "501", RoleSpec: platform.RoleSpec{Name: "客服", Permissions: []string{"wangwang-chat"}}},
		{ID: "502", RoleSpec: platform.RoleSpec{Name: "运营", Permissions: []string{"sell", "sm", "sm-design"}}},
	}
	for _, shape := range []string{"wrapped", "plain", "empty"} {
		t.Run(shape, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			_, c := newRecorded(t, map[string]string{
				top.MethodSubuserFullInfo:  recordedAnswer(t, "fullinfo-penalised-plain"),
				top.MethodSubuserPermRoles: recordedAnswer(t, "permissions-roles-"+shape),
			})
			a, err := c.GetAccount(ctx, "2200000000002")
			g.Expect(err).NotTo(HaveOccurred())
			if shape == "empty" {
				g.Expect(a.RoleIDs).To(BeNil())
				g.Expect(a.ExtraPermissions).To(BeNil())
				g.Expect(a.Roles).To(BeNil())
				return
			}
			g.Expect(a.RoleIDs).To(Equal(want.RoleIDs))
			g.Expect(a.ExtraPermissions).To(Equal(want.ExtraPermissions))
			g.Expect(a.Roles).To(Equal(wantRoles))
			g.Expect(a.PlatformFrozen).To(BeTrue(), "the rest of the account still from fullinfo")
		})
	}
	// A refusal of the permissions read fails the read: an account shown
	// without roles would read as roles removed.
	g := NewWithT(t)
	_, c := newRecorded(t, map[string]string{
		top.MethodSubuserFullInfo:  recordedAnswer(t, "fullinfo"),
		top.MethodSubuserPermRoles: `{"error_response":{"code":11,"msg":"Insufficient isv permissions","sub_code":"isv.permission-api-package-limit"}}`,
	})
	_, err := c.GetAccount(context.Background(), "2200000000001")
	g.Expect(err).To(MatchError(platform.ErrForbidden))
}
