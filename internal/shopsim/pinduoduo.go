package shopsim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/pinduoduo"
)

// Pinduoduo-shaped router: Pinduoduo's open platform at /api/router,
// serving pdd.mall.info.get for the engine's Pinduoduo shops, so the
// operator's credentials check (package pinduoduo, which holds the
// protocol) is tested against a peer that checks what Pinduoduo checks.
//
// A request is a POST whose parameters are form-encoded or a JSON object
// (query parameters are merged in). A shop's app is the shop's API
// credentials: client_id is its app key, the client secret its app
// secret, and its access token is valid until expired through
// /admin/pinduoduo-token, which also authorises new tokens. Checked in
// this order, every answer in Pinduoduo's envelopes with HTTP 200:
// the common parameters are present, client_id is a Pinduoduo shop's,
// the timestamp (Unix seconds) is within MaxPinduoduoSkew of the server's
// clock, the signature matches, and the type is one shopsim serves; each
// of these is refused with error_code CodeRefused and a sub_code naming
// what is wrong. Then the access token: not the shop's, or expired, is
// 10019 (access_token已过期). Faults apply after authentication: an
// injected failure is 52103, the shop's rate limit 52101.
//
// The success answer is {"mall_info_get_response": {"mall_id",
// "mall_name" (the shop's main account), "mall_desc", "logo",
// "merchant_type", "mall_character", "request_id"}}.

// AdminPathPinduoduoToken is the admin endpoint standing in for the
// merchant's authorisation of their app on Pinduoduo's open platform:
// POST a PinduoduoTokenChange. Needs "Authorization: Bearer <admin
// token>". The tokens' state is kept in memory only.
const AdminPathPinduoduoToken = "/admin/pinduoduo-token"

// PinduoduoTokenChange is the body of POST /admin/pinduoduo-token.
// Action "expire" expires every access token of the shop's app (the
// router then answers 10019); "authorize" issues a new one, answered as
// PinduoduoToken.
type PinduoduoTokenChange struct {
	MainAccount string `json:"mainAccount"`
	Action      string `json:"action"`
}

// PinduoduoToken answers an "authorize".
type PinduoduoToken struct {
	AccessToken string `json:"accessToken"`
}

// CodeRefused is shopsim's error_code for a request its router refuses
// before the access token is looked at (a missing parameter, an unknown
// client_id, a stale timestamp, a wrong signature, an unknown type); the
// sub_code says which. The client takes every code it does not know as a
// refusal that retrying will not change.
const CodeRefused = 10000

// MaxPinduoduoSkew is how far a request's timestamp may be from shopsim's
// clock.
const MaxPinduoduoSkew = 10 * time.Minute

// pddTokens is the state of the Pinduoduo shops' app authorisations:
// tokens issued besides the shop's own access token, and expired ones.
type pddTokens struct {
	mu      sync.Mutex
	issued  map[string]string // token → main account
	expired map[string]bool
}

// valid reports whether token is a live access token of the shop.
func (p *pddTokens) valid(main string, creds platform.Credentials, token string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if token == "" || p.expired[token] {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(creds.AccessToken), []byte(token)) == 1 || p.issued[token] == main
}

// expire expires every token of the shop.
func (p *pddTokens) expire(main string, creds platform.Credentials) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.expired == nil {
		p.expired = map[string]bool{}
	}
	p.expired[creds.AccessToken] = true
	for t, m := range p.issued {
		if m == main {
			p.expired[t] = true
		}
	}
}

// authorize issues a new token for the shop.
func (p *pddTokens) authorize(main string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := "pdd-" + hex.EncodeToString(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.issued == nil {
		p.issued = map[string]string{}
	}
	p.issued[token] = main
	return token
}

// pddShop finds the Pinduoduo shop whose app key is clientID.
func (s *Server) pddShop(clientID string) (string, platform.Credentials, bool) {
	for _, info := range s.engine.Shops() {
		if info.Platform != platform.Pinduoduo {
			continue
		}
		creds, ok := s.engine.ShopCredentials(info.Platform, info.MainAccount)
		if ok && subtle.ConstantTimeCompare([]byte(creds.AppKey), []byte(clientID)) == 1 {
			return info.MainAccount, creds, true
		}
	}
	return "", platform.Credentials{}, false
}

// servePinduoduo answers a /api/router request (see the top of this file).
func (s *Server) servePinduoduo(w http.ResponseWriter, r *http.Request) {
	params, e := pddParams(w, r)
	if e != nil {
		writePDDError(w, *e)
		return
	}
	main, e := s.pddAuthenticate(params)
	key := memory.ShopKey(platform.Pinduoduo, main)
	if e != nil {
		if main != "" {
			s.stats.answered(key, s.now(), http.StatusOK, pddRoute, 0)
		}
		s.log.Info("pinduoduo", "type", params.Get(pinduoduo.ParamType), "code", e.ErrorCode, "subCode", e.SubCode)
		writePDDError(w, *e)
		return
	}
	if s.injectFaults(w, r, func(w http.ResponseWriter) {
		writePDDError(w, pddErr(pinduoduo.CodeUnavailableToo, "服务暂不可用", "isp.service-unavailable", "the platform is unavailable (injected fault)"))
	}) {
		return
	}
	if allowed, wait := s.allow(key); !allowed {
		s.stats.answered(key, s.now(), http.StatusTooManyRequests, pddRoute, wait)
		writePDDError(w, pddErr(pinduoduo.CodeThrottled, "调用太频繁", "isv.api-limit", "too many calls for this shop"))
		return
	}
	s.stats.answered(key, s.now(), http.StatusOK, pddRoute, 0)
	s.log.Info("pinduoduo", "type", pinduoduo.MethodMallInfo, "code", 0)
	writePDDBody(w, map[string]any{pinduoduo.ResponseKey(pinduoduo.MethodMallInfo): pinduoduo.MallInfo{
		MallID: pddMallID(main), MallName: main, MallDesc: "shopsim's Pinduoduo shop " + main,
		MerchantType: 1, RequestID: requestID(),
	}})
}

// pddRoute is the router's route in the statistics (GET /admin/stats).
const pddRoute = http.MethodPost + " " + pinduoduo.RouterPath

// pddParams reads the parameters: the query, then a form or JSON body.
func pddParams(w http.ResponseWriter, r *http.Request) (url.Values, *pinduoduo.ErrorResponse) {
	if r.Method != http.MethodPost {
		e := pddErr(CodeRefused, "请求方法错误", "http-method-invalid", "use POST")
		return nil, &e
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		if err := r.ParseForm(); err != nil {
			e := pddErr(CodeRefused, "参数错误", "param-invalid", "the parameters are not form-encoded, or too large")
			return nil, &e
		}
		return r.Form, nil
	}
	var body map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		e := pddErr(CodeRefused, "参数错误", "param-invalid", "the body is not a JSON object, or too large")
		return nil, &e
	}
	params := r.URL.Query()
	for k, v := range body {
		switch v := v.(type) {
		case string:
			params.Set(k, v)
		case json.Number:
			params.Set(k, v.String())
		default:
			e := pddErr(CodeRefused, "参数错误", "param-invalid", "parameter "+k+" must be a string or a number")
			return nil, &e
		}
	}
	return params, nil
}

// pddAuthenticate checks the common parameters, client, timestamp,
// signature, type and access token, and returns the shop's main account
// (also with a refusal, once client_id named the shop: the call is counted
// for it in the statistics).
func (s *Server) pddAuthenticate(params url.Values) (main string, _ *pinduoduo.ErrorResponse) {
	refuse := func(sub, format string, args ...any) (string, *pinduoduo.ErrorResponse) {
		e := pddErr(CodeRefused, "请求被拒绝", sub, fmt.Sprintf(format, args...))
		return main, &e
	}
	for _, p := range []string{pinduoduo.ParamType, pinduoduo.ParamClientID, pinduoduo.ParamTimestamp, pinduoduo.ParamSign} {
		if params.Get(p) == "" {
			return refuse("missing-parameter:"+p, "the parameter %s is required", p)
		}
	}
	main, creds, ok := s.pddShop(params.Get(pinduoduo.ParamClientID))
	if !ok {
		return refuse("client-id-invalid", "no app has this client_id")
	}
	s.stats.arrived(memory.ShopKey(platform.Pinduoduo, main), s.now())
	ts, err := strconv.ParseInt(params.Get(pinduoduo.ParamTimestamp), 10, 64)
	if d := s.now().Sub(time.Unix(ts, 0)); err != nil || d > MaxPinduoduoSkew || d < -MaxPinduoduoSkew {
		return refuse("timestamp-invalid", "the timestamp must be Unix seconds within %s of the server's clock", MaxPinduoduoSkew)
	}
	if !pinduoduo.VerifySignature(creds.AppSecret, params) {
		return refuse("sign-invalid", "the signature does not match")
	}
	if t := params.Get(pinduoduo.ParamType); t != pinduoduo.MethodMallInfo {
		return refuse("type-invalid", "shopsim does not serve the type %q", t)
	}
	if !s.pdd.valid(main, creds, params.Get(pinduoduo.ParamAccessToken)) {
		e := pddErr(pinduoduo.CodeTokenExpired, "access_token已过期", "access_token_invalid", "the access token expired or is not this app's")
		return main, &e
	}
	return main, nil
}

// serveAdminPinduoduoToken serves POST /admin/pinduoduo-token.
func (s *Server) serveAdminPinduoduoToken(w http.ResponseWriter, r *http.Request) {
	var in PinduoduoTokenChange
	if !decodeAdmin(w, r, http.MethodPost, &in, "PinduoduoTokenChange") {
		return
	}
	switch in.Action {
	case "expire":
		if err := s.ExpirePinduoduoToken(in.MainAccount); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "authorize":
		token, err := s.AuthorizePinduoduoApp(in.MainAccount)
		if err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, PinduoduoToken{AccessToken: token})
	default:
		writeError(w, platform.NewError(platform.ErrInvalid, "action", "the action must be expire or authorize"))
	}
}

// ExpirePinduoduoToken expires every access token of the Pinduoduo shop's
// app, as POST /admin/pinduoduo-token {"action": "expire"} does.
func (s *Server) ExpirePinduoduoToken(main string) error {
	creds, ok := s.engine.ShopCredentials(platform.Pinduoduo, main)
	if !ok {
		return platform.NewError(platform.ErrNotFound, "mainAccount", "no Pinduoduo shop has this main account")
	}
	s.pdd.expire(main, creds)
	return nil
}

// AuthorizePinduoduoApp issues a new access token for the Pinduoduo
// shop's app, as POST /admin/pinduoduo-token {"action": "authorize"} does.
func (s *Server) AuthorizePinduoduoApp(main string) (string, error) {
	if _, ok := s.engine.ShopCredentials(platform.Pinduoduo, main); !ok {
		return "", platform.NewError(platform.ErrNotFound, "mainAccount", "no Pinduoduo shop has this main account")
	}
	return s.pdd.authorize(main), nil
}

func pddErr(code int64, msg, subCode, subMsg string) pinduoduo.ErrorResponse {
	return pinduoduo.ErrorResponse{ErrorCode: code, ErrorMsg: msg, SubCode: subCode, SubMsg: subMsg, RequestID: requestID()}
}

func writePDDError(w http.ResponseWriter, e pinduoduo.ErrorResponse) {
	writePDDBody(w, map[string]any{"error_response": e})
}

// writePDDBody answers with HTTP 200, as Pinduoduo's router does for
// errors too (writeTOPBody's shape).
func writePDDBody(w http.ResponseWriter, v any) { writeTOPBody(w, v) }

// pddMallID derives a stable mall_id from the main account.
func pddMallID(main string) int64 {
	n, _ := stableID("mall", main).Int64()
	return n
}
