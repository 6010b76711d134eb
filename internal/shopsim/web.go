package shopsim

import (
	"bytes"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// WebAuditEntries is how many of each shop's latest audit entries the web
// page shows.
const WebAuditEntries = 50

type webPage struct {
	Now   string
	Shops []webShop
	// ShowSMS and SMS: the simulated phones' latest codes, newest first
	// (Options.ShowSMSCodes).
	ShowSMS bool
	SMS     []webSMS
}

// webSMS is one simulated phone's latest code.
type webSMS struct {
	Phone  string // masked, as in the SubAccount's status
	Code   string
	SentAt time.Time
}

type webShop struct {
	Platform    platform.Name
	MainAccount string
	SeatsUsed   int32
	SeatsTotal  int32
	Roles       []webRole
	Accounts    []webAccount
	// Departments are paths in tree order; Contacts the notification
	// contacts (name, masked phone, verification).
	Departments     []platform.Department
	DepartmentPaths map[string]string
	Contacts        []webContact
	// Audit holds the latest entries, newest first.
	Audit      []memory.AuditEntry
	AuditTotal int
}

type webContact struct {
	Name         string
	Phone        string // masked
	Verification string
	Verified     bool
}

type webRole struct {
	ID          string
	Name        string
	Permissions int
}

type webAccount struct {
	ID         string
	Login      string
	Disabled   bool
	Department string
	Presence   string
	Capacity   string
	Roles      string
	// Verification is the phone verification state for people ("—",
	// "pending until 15:04", "authorised"); never the code.
	Verification string
	Verified     bool
}

// webTemplate escapes everything it prints (html/template); it is given
// no credential, password hash or full phone number to print, and
// verification codes only in the simulated phones' section that
// Options.ShowSMSCodes turns on.
var webTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>shopsim</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.disabled { color: #a00; }
.enabled { color: #080; }
.muted { color: #888; }
</style>
</head>
<body>
<h1>shopsim</h1>
<p class="muted">Read-only view of the simulated back offices, rendered {{.Now}}. Reload to refresh.</p>
{{if .ShowSMS}}<section id="sms" class="sms">
<h2>Simulated phones: SMS codes sent by shopsim</h2>
<p class="muted">shopsim stands in for the employees' phones: a real platform texts these codes to the phone, and nobody else sees them. Hand a code over with <code>kubectl subaccount verify NAME CODE</code>.</p>
{{if .SMS}}<table>
<tr><th>Phone</th><th>Code (simulated SMS)</th><th>Sent</th></tr>
{{range .SMS}}<tr><td>{{.Phone}}</td><td class="code">{{.Code}}</td><td>{{time .SentAt}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No code sent yet.</p>{{end}}
</section>
{{end}}{{range .Shops}}
<section class="shop">
<h2>{{.Platform}} / {{.MainAccount}}</h2>
<p>Seats used: {{.SeatsUsed}} of {{.SeatsTotal}}</p>
<h3>Roles</h3>
{{if .Roles}}<table>
<tr><th>ID</th><th>Name</th><th>Permissions</th></tr>
{{range .Roles}}<tr><td>{{.ID}}</td><td>{{.Name}}</td><td>{{.Permissions}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No roles.</p>{{end}}
{{if .Departments}}<h3>Departments</h3>
<table>
<tr><th>ID</th><th>Path</th><th>Members</th></tr>
{{$paths := .DepartmentPaths}}{{range .Departments}}<tr><td>{{.ID}}</td><td>{{index $paths .ID}}</td><td>{{.Members}}</td></tr>
{{end}}</table>{{end}}
{{if .Contacts}}<h3>Notification contacts</h3>
<table>
<tr><th>Name</th><th>Phone</th><th>Verification</th></tr>
{{range .Contacts}}<tr><td>{{.Name}}</td><td>{{.Phone}}</td><td{{if .Verified}} class="enabled"{{end}}>{{.Verification}}</td></tr>
{{end}}</table>{{end}}
<h3>Sub-accounts</h3>
{{if .Accounts}}<table>
<tr><th>ID</th><th>Login</th><th>Status</th><th>Verification</th><th>Department</th><th>Presence</th><th>Capacity</th><th>Roles</th></tr>
{{range .Accounts}}<tr><td>{{.ID}}</td><td>{{.Login}}</td>{{if .Disabled}}<td class="disabled">disabled</td>{{else}}<td class="enabled">enabled</td>{{end}}<td{{if .Verified}} class="enabled"{{end}}>{{.Verification}}</td><td>{{.Department}}</td><td>{{.Presence}}</td><td>{{.Capacity}}</td><td>{{.Roles}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No sub-accounts.</p>{{end}}
<h3>Audit log</h3>
{{if .Audit}}<p class="muted">Latest {{len .Audit}} of {{.AuditTotal}} entries, newest first.</p>
<table>
<tr><th>Time</th><th>Action</th><th>Target</th><th>Detail</th><th>Source</th></tr>
{{range .Audit}}<tr><td>{{time .Time}}</td><td>{{.Action}}</td><td>{{.TargetName}} ({{.TargetID}})</td><td>{{.Detail}}</td><td>{{.Source}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No writes yet.</p>{{end}}
</section>
{{else}}
<p>No shops.</p>
{{end}}
</body>
</html>
`))

// serveWeb renders the read-only page. It reads the engine directly: no
// faults, no call counting.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	page := webPage{Now: s.now().UTC().Format("2006-01-02 15:04:05Z")}
	for _, info := range s.engine.Shops() {
		page.Shops = append(page.Shops, s.webShop(info))
	}
	if s.showSMS {
		page.ShowSMS = true
		for phone, m := range s.engine.Outbox() {
			page.SMS = append(page.SMS, webSMS{Phone: memory.MaskPhone(phone), Code: m.Code, SentAt: m.SentAt})
		}
		slices.SortFunc(page.SMS, func(a, b webSMS) int {
			if c := b.SentAt.Compare(a.SentAt); c != 0 {
				return c
			}
			return strings.Compare(a.Phone, b.Phone)
		})
	}
	var buf bytes.Buffer
	if err := webTemplate.Execute(&buf, page); err != nil {
		s.log.Error("rendering the web page failed", "err", err)
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) webShop(info platform.ShopInfo) webShop {
	out := webShop{Platform: info.Platform, MainAccount: info.MainAccount, SeatsUsed: info.SeatsUsed, SeatsTotal: info.SeatsTotal}
	roleNames := map[string]string{}
	for _, r := range s.engine.Roles(info.Platform, info.MainAccount) {
		roleNames[r.ID] = r.Name
		out.Roles = append(out.Roles, webRole{ID: r.ID, Name: r.Name, Permissions: len(r.Permissions)})
	}
	for _, a := range s.engine.Accounts(info.Platform, info.MainAccount) {
		wa := webAccount{ID: a.ID, Login: a.Login, Disabled: a.Disabled, Department: a.Profile.Department, Presence: "—", Capacity: "—",
			Verification: verificationText(a.Verification, s.now())}
		wa.Verified = a.Verification != nil && a.Verification.Verified
		if a.Seat != nil {
			wa.Presence = platform.PresenceMeaning(a.Seat.Presence)
			wa.Capacity = strconv.Itoa(int(a.Seat.Capacity))
			if !a.Seat.Chat {
				wa.Presence += " (chat off)"
			}
		}
		names := make([]string, 0, len(a.RoleIDs))
		for _, id := range a.RoleIDs {
			if n, ok := roleNames[id]; ok {
				names = append(names, n)
			} else {
				names = append(names, id)
			}
		}
		wa.Roles = strings.Join(names, ", ")
		out.Accounts = append(out.Accounts, wa)
	}
	out.Departments = s.engine.Departments(info.Platform, info.MainAccount)
	out.DepartmentPaths = departmentPaths(out.Departments)
	for _, c := range s.engine.Contacts(info.Platform, info.MainAccount) {
		v := c.Verification
		out.Contacts = append(out.Contacts, webContact{Name: c.Name, Phone: v.Phone, Verified: v.Verified,
			Verification: strings.Replace(verificationText(&v, s.now()), "authorised (已授权)", "verified", 1)})
	}
	audit := s.engine.Audit(info.Platform, info.MainAccount)
	out.AuditTotal = len(audit)
	for i := len(audit) - 1; i >= 0 && len(out.Audit) < WebAuditEntries; i-- {
		out.Audit = append(out.Audit, audit[i])
	}
	return out
}

// verificationText is an account's phone verification for the web page
// (times in UTC, like the rest of the page): "—" where the platform
// verifies nothing, "authorised (已授权)", "pending until 15:04", or why the
// pending code no longer works. Never the code, never the phone.
func verificationText(v *platform.Verification, now time.Time) string {
	switch {
	case v == nil:
		return "—"
	case v.Verified:
		return "authorised (已授权)"
	case v.AttemptsLeft <= 0:
		return "pending: no attempts left, a new code is needed"
	case !now.Before(v.ExpiresAt):
		return "pending: the code expired at " + v.ExpiresAt.UTC().Format("15:04") + ", a new code is needed"
	}
	return "pending until " + v.ExpiresAt.UTC().Format("15:04")
}

// departmentPaths is each department's path from the top, by ID.
func departmentPaths(deps []platform.Department) map[string]string {
	byID := map[string]platform.Department{}
	for _, d := range deps {
		byID[d.ID] = d
	}
	out := map[string]string{}
	for _, d := range deps {
		path := d.Name
		for p, n := d.ParentID, 0; p != "" && n < len(deps); p, n = byID[p].ParentID, n+1 {
			path = byID[p].Name + "/" + path
		}
		out[d.ID] = path
	}
	return out
}
