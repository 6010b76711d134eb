package shopsim

import (
	"net/http"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// AdminPathActivity injects an entry into a shop's activity feed, as if a
// sub-account had done it: POST an ActivityInjection, answered with the
// entry as the feed shows it. Tests and demos use it to make an account
// look active (or long idle, with a back-dated time). Needs
// "Authorization: Bearer <admin token>".
const AdminPathActivity = "/admin/activity"

// AdminPathSignIn stands in for an employee signing in to the back office
// with their sub-account's login: POST a SignIn; the feed records a Login
// when the password is right (204), else 401. Needs the admin token.
const AdminPathSignIn = "/admin/sign-in"

// ActivityInjection is the body of POST /admin/activity. The account is
// named by accountId or accountName; a zero time is now.
type ActivityInjection struct {
	Platform    platform.Name         `json:"platform"`
	MainAccount string                `json:"mainAccount"`
	AccountID   string                `json:"accountId,omitempty"`
	AccountName string                `json:"accountName,omitempty"`
	Kind        platform.ActivityKind `json:"kind"`
	Time        time.Time             `json:"time,omitempty"`
	Presence    string                `json:"presence,omitempty"`
	Operation   string                `json:"operation,omitempty"`
	Target      string                `json:"target,omitempty"`
}

// SignIn is the body of POST /admin/sign-in. The password is never logged.
type SignIn struct {
	Platform    platform.Name `json:"platform"`
	MainAccount string        `json:"mainAccount"`
	Login       string        `json:"login"`
	Password    string        `json:"password"`
}

// serveAdminActivity serves POST /admin/activity and POST /admin/sign-in.
func (s *Server) serveAdminActivity(w http.ResponseWriter, r *http.Request) {
	var (
		signIn SignIn
		inject ActivityInjection
		target any = &inject
		what       = "ActivityInjection"
	)
	if r.URL.Path == AdminPathSignIn {
		target, what = &signIn, "SignIn"
	}
	if !decodeAdmin(w, r, http.MethodPost, target, what) {
		return
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var (
		out any
		err error
	)
	if r.URL.Path == AdminPathSignIn {
		err = s.engine.SignIn(signIn.Platform, signIn.MainAccount, signIn.Login, signIn.Password)
	} else {
		var e platform.Activity
		e, err = s.engine.RecordActivity(inject.Platform, inject.MainAccount, platform.Activity{AccountID: inject.AccountID,
			AccountName: inject.AccountName, Kind: inject.Kind, Time: inject.Time, Presence: inject.Presence,
			Operation: inject.Operation, Target: inject.Target})
		out = wire.ActivityEntry(e)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	if perr := s.store.save(); perr != nil {
		s.log.Error("saving the state file failed", "err", perr)
		writeError(w, platform.NewError(platform.ErrTransient, "", "the change was applied but the server could not save its state"))
		return
	}
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
