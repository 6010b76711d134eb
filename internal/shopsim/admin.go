package shopsim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// AdminPathFaults is the admin endpoint of the fault injection: GET answers
// the current Faults, PUT replaces them (a JSON Faults body; absent fields
// are zero). Both need "Authorization: Bearer <admin token>".
const AdminPathFaults = "/admin/faults"

// AdminPathSMS answers GET ?phone=... with the latest verification code the
// engine "sent" to that phone, as SMSMessage: it stands in for the
// employee's phone in tests and demos. A real gateway must never have such
// an endpoint: the code proves that the person holding the phone agreed.
// Needs "Authorization: Bearer <admin token>".
const AdminPathSMS = "/admin/sms"

// AdminPathAgentSeat stands in for a customer-service agent in their chat
// client (Feige, Qianniu): PUT an AgentSeatChange to change the agent's own
// presence and reception capacity, as the agent does it, not through the
// shop's API. The audit entry says the agent made the change. A real
// gateway has no such endpoint: the agent's settings are the agent's.
// Needs "Authorization: Bearer <admin token>".
const AdminPathAgentSeat = "/admin/agent-seat"

// AgentSeatChange is the body of PUT /admin/agent-seat. An empty presence
// or a zero capacity keeps that setting.
type AgentSeatChange struct {
	Platform    platform.Name     `json:"platform"`
	MainAccount string            `json:"mainAccount"`
	AccountID   string            `json:"accountID"`
	Presence    platform.Presence `json:"presence,omitempty"`
	Capacity    int32             `json:"capacity,omitempty"`
}

// SMSMessage is the answer of GET /admin/sms.
type SMSMessage struct {
	Code   string    `json:"code"`
	SentAt time.Time `json:"sentAt"`
}

// serveAdmin serves /admin/...: refused (403) when the server has no admin
// token, 401 without the right one. Faults never apply here.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if s.adminToken == "" {
		writeError(w, platform.NewError(platform.ErrForbidden, "", "the admin endpoints are disabled: start shopsim with --admin-token"))
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.adminToken)) != 1 {
		writeError(w, platform.NewError(platform.ErrUnauthorized, "", "missing or wrong admin token"))
		return
	}
	switch r.URL.Path {
	case AdminPathFaults:
		s.serveAdminFaults(w, r)
	case AdminPathSMS:
		s.serveAdminSMS(w, r)
	case AdminPathActivity, AdminPathSignIn:
		s.serveAdminActivity(w, r)
	case AdminPathAgentSeat:
		s.serveAdminAgentSeat(w, r)
	case AdminPathPinduoduoToken:
		s.serveAdminPinduoduoToken(w, r)
	case AdminPathStats, AdminPathSignatures:
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			writeErrorStatus(w, http.StatusMethodNotAllowed, wire.CodeNotSupported, "method "+r.Method+" is not allowed here")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Path == AdminPathStats {
			writeJSON(w, http.StatusOK, s.stats.snapshot())
		} else {
			writeJSON(w, http.StatusOK, s.stats.signatures())
		}
	default:
		writeError(w, platform.NewError(platform.ErrNotFound, "", "no such admin endpoint"))
	}
}

// serveAdminSMS answers the latest code sent to ?phone=. It never logs the
// code.
func (s *Server) serveAdminSMS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeErrorStatus(w, http.StatusMethodNotAllowed, wire.CodeNotSupported, "method "+r.Method+" is not allowed here")
		return
	}
	phone := r.URL.Query().Get("phone")
	if phone == "" {
		writeError(w, platform.NewError(platform.ErrInvalid, "phone", "the phone query parameter is required"))
		return
	}
	code, sentAt, ok := s.engine.SMS(phone)
	if !ok {
		writeError(w, platform.NewError(platform.ErrNotFound, "phone", "no verification code was sent to that phone"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, SMSMessage{Code: code, SentAt: sentAt})
}

// decodeAdmin reads an admin request's JSON body into v, refusing another
// method than method, a body over MaxBodyBytes and unknown fields. It
// answers the error itself and reports false when there is none to use;
// what names the body's type in that answer.
func decodeAdmin(w http.ResponseWriter, r *http.Request, method string, v any, what string) bool {
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeErrorStatus(w, http.StatusMethodNotAllowed, wire.CodeNotSupported, "method "+r.Method+" is not allowed here")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		writeError(w, platform.NewError(platform.ErrInvalid, "", "reading the request body failed"))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, platform.NewError(platform.ErrInvalid, "", "the body must be a JSON %s object: %v", what, err))
		return false
	}
	return true
}

// serveAdminAgentSeat serves PUT /admin/agent-seat: the agent's own change,
// saved like any write.
func (s *Server) serveAdminAgentSeat(w http.ResponseWriter, r *http.Request) {
	var in AgentSeatChange
	if !decodeAdmin(w, r, http.MethodPut, &in, "AgentSeatChange") {
		return
	}
	s.writeMu.Lock()
	a, err := s.engine.SetSeatAsAgent(in.Platform, in.MainAccount, in.AccountID, in.Presence, in.Capacity)
	if err == nil {
		if perr := s.store.save(); perr != nil {
			s.log.Error("saving the state file failed", "err", perr)
			err = platform.NewError(platform.ErrTransient, "", "the change was applied but the server could not save its state")
		}
	}
	s.writeMu.Unlock()
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.FromAccount(a))
}

// serveAdminFaults serves GET and PUT /admin/faults.
func (s *Server) serveAdminFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.Faults())
	case http.MethodPut:
		var j faultsJSON
		if !decodeAdmin(w, r, http.MethodPut, &j, "Faults") {
			return
		}
		f, err := j.faults()
		if err != nil {
			writeError(w, err)
			return
		}
		s.SetFaults(f)
		writeJSON(w, http.StatusOK, s.Faults())
	default:
		w.Header().Set("Allow", "GET, PUT")
		writeErrorStatus(w, http.StatusMethodNotAllowed, wire.CodeNotSupported, "method "+r.Method+" is not allowed here")
	}
}
