package shopsim

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
)

// TOP-compatible endpoint: Taobao's open API (TOP) at /router/rest, served
// for the engine's Taobao shops from the same engine as /v1, so what the
// native driver (package taobao) reads and writes is what the gateway and
// the web page show. The protocol (methods, parameters, signing, envelopes,
// codes) is package top, which the driver uses too.
//
// A request is a GET or a form-encoded POST (query and body parameters are
// merged, as TOP does) with TOP's common parameters. It is checked in this
// order, each failure answered in TOP's error envelope with TOP's code:
// method (21), app_key (28; no Taobao shop has it: 29), timestamp (30;
// not "yyyy-MM-dd HH:mm:ss" in GMT+8 within ±10 minutes: 31), format=json
// (23), v=2.0 (32/33), sign (24), sign_method md5, hmac or hmac-sha256
// (41), session (26; no shop with that app key has it as access token:
// 27), the signature with that shop's app secret (25), the shop's rate
// limit (Faults.RateLimit: code 7, accesscontrol.limited-by-app-access-count,
// "This ban will last for N more seconds"), and the method (22 for any
// method TOP does not have or shopsim does not serve). TOP answers HTTP 200
// for all of these; so does shopsim.
//
// Engine errors map to code 15 with an isv.* sub-code (the caller's
// mistake: *-not-exist, *-name-exist, invalid-parameter:<param>, ...) or
// isp.remote-service-error; parameter checks of shopsim's own are 40/41.
// Writes (role.add, subuser.info.update) run one at a time with the /v1
// writes, carry the X-Source header into the audit log and are persisted
// before the answer, like /v1 writes.

// topMethod is one TOP method shopsim serves.
type topMethod struct {
	// object names what the method acts on in isv.<object>-not-exist and
	// isv.<object>-name-exist sub-codes.
	object string
	// write marks methods that change state.
	write  bool
	handle func(s *Server, c *topCall) (map[string]any, error)
}

var topMethods = map[string]topMethod{
	top.MethodSubusersPage:     {"subuser", false, topSubusersPage},
	top.MethodSubusers:         {"subuser", false, topSubusersGet},
	top.MethodSubuserFullInfo:  {"subuser", false, topFullInfo},
	top.MethodSubuserUpdate:    {"subuser", true, topInfoUpdate},
	top.MethodDepartments:      {"department", false, topDepartments},
	top.MethodDuties:           {"duty", false, topDuties},
	top.MethodRoles:            {"role", false, topRoles},
	top.MethodRoleAdd:          {"role", true, topRoleAdd},
	top.MethodUserPermissions:  {"subuser", false, topUserPermissions},
	top.MethodSubuserPermRoles: {"subuser", false, topSubuserPermRoles},
	top.MethodPresenceLog:      {"account", false, topPresenceLog},
}

// topCall is one authenticated TOP request, as the method handlers see it.
type topCall struct {
	ctx    context.Context
	client platform.Client
	main   string
	params map[string]string
}

func (c *topCall) get(name string) string { return c.params[name] }

// topError is an answer in TOP's error envelope.
type topError struct {
	Code    int64
	Msg     string
	SubCode string
	SubMsg  string
}

func (e *topError) Error() string {
	return fmt.Sprintf("TOP error %d %s (%s: %s)", e.Code, e.Msg, e.SubCode, e.SubMsg)
}

func topErr(code int64, subCode, subMsg string) *topError {
	return &topError{Code: code, Msg: top.Message(code), SubCode: subCode, SubMsg: subMsg}
}

func missingArg(name string) *topError {
	return topErr(top.CodeMissingArguments, top.SubCodeMissingParameter+":"+name, "Missing required arguments:"+name)
}

func invalidArg(name, format string, args ...any) *topError {
	return topErr(top.CodeInvalidArguments, top.SubCodeInvalidParameter+":"+name,
		"Invalid arguments:"+name+" "+fmt.Sprintf(format, args...))
}

// topParams are the TOP parameters behind the engine's field names.
var topParams = map[string]string{
	"permissions": top.ParamPermissionCodes,
	"id":          top.ParamSubID,
	"page":        top.ParamPageNum,
	"pageSize":    top.ParamPageSize,
}

// topErrorFor maps an engine error to TOP's envelope; object is what the
// method acts on.
func topErrorFor(err error, object string) *topError {
	var te *topError
	if errors.As(err, &te) {
		return te
	}
	msg, field := err.Error(), ""
	var pe *platform.Error
	if errors.As(err, &pe) {
		msg, field = pe.Message, pe.Field
	}
	switch {
	case errors.Is(err, platform.ErrNotFound):
		return topErr(top.CodeRemoteServiceError, top.SubCodeISV+object+"-not-exist", msg)
	case errors.Is(err, platform.ErrNameTaken):
		return topErr(top.CodeRemoteServiceError, top.SubCodeISV+object+"-name-exist", msg)
	case errors.Is(err, platform.ErrInvalid):
		if field == "" {
			return topErr(top.CodeRemoteServiceError, top.SubCodeInvalidParameter, msg)
		}
		param := field
		if p, ok := topParams[field]; ok {
			param = p
		}
		return topErr(top.CodeRemoteServiceError, top.SubCodeInvalidParameter+":"+param, "Invalid arguments:"+param+" "+msg)
	case errors.Is(err, platform.ErrConflict):
		return topErr(top.CodeRemoteServiceError, "isv.business-conflict", msg)
	case errors.Is(err, platform.ErrQuotaExhausted):
		return topErr(top.CodeRemoteServiceError, "isv.subuser-quota-exhausted", msg)
	case errors.Is(err, platform.ErrForbidden):
		return topErr(top.CodeInsufficientUserPerms, "isv.permission-denied", msg)
	case errors.Is(err, platform.ErrUnauthorized):
		return topErr(top.CodeInvalidSession, top.SubCodeInvalidSessionKey, msg)
	case errors.Is(err, platform.ErrNotSupported):
		return topErr(top.CodeInvalidMethod, "", msg)
	}
	return topErr(top.CodeRemoteServiceError, top.SubCodeRemoteServiceError, msg)
}

// banError is code 7 with the ban's length in whole seconds, at least 1.
func banError(wait time.Duration) *topError {
	secs := max(1, int64(math.Ceil(wait.Seconds())))
	return topErr(top.CodeAppCallLimited, top.SubCodeAppAccessCount,
		fmt.Sprintf("This ban will last for %d more seconds", secs))
}

// topShop is a Taobao shop whose app key matched.
type topShop struct {
	main  string
	creds platform.Credentials
}

// topShops returns the Taobao shops with app key appKey.
func (s *Server) topShops(appKey string) []topShop {
	var out []topShop
	for _, info := range s.engine.Shops() {
		if info.Platform != platform.Taobao {
			continue
		}
		creds, ok := s.engine.ShopCredentials(info.Platform, info.MainAccount)
		if ok && subtle.ConstantTimeCompare([]byte(creds.AppKey), []byte(appKey)) == 1 {
			out = append(out, topShop{main: info.MainAccount, creds: creds})
		}
	}
	return out
}

// serveTOP answers a /router/rest request (see the top of this file).
func (s *Server) serveTOP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	method, code, answered := "", int64(0), false
	defer func() {
		if answered {
			s.log.Info("top", "method", method, "code", code, "duration", s.now().Sub(start).String(),
				"source", r.Header.Get(top.HeaderSource))
		}
	}()
	if s.injectFaults(w, r, func(w http.ResponseWriter) {
		answered, code = true, top.CodeRemoteServiceError
		writeTOPError(w, topErr(top.CodeRemoteServiceError, "isp.remote-service-unavailable",
			"the platform is unavailable (injected fault)"))
	}) {
		return
	}
	spec, out, err := s.topCall(w, r, &method)
	answered = true
	if err != nil {
		te := topErrorFor(err, spec.object)
		code = te.Code
		writeTOPError(w, te)
		return
	}
	writeTOP(w, top.ResponseKey(method), out)
}

// topCall authenticates the request, then runs its method.
func (s *Server) topCall(w http.ResponseWriter, r *http.Request, method *string) (topMethod, map[string]any, error) {
	var none topMethod
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return none, nil, topErr(top.CodeHTTPActionNotAllowed, "", "use POST (or GET)")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return none, nil, topErr(top.CodeInvalidArguments, top.SubCodeInvalidParameter, fmt.Sprintf("the request is larger than %d bytes", MaxBodyBytes))
		}
		return none, nil, topErr(top.CodeInvalidArguments, top.SubCodeInvalidParameter, "the parameters are not form-encoded")
	}
	form := r.Form
	name := form.Get(top.ParamMethod)
	if name == "" {
		return none, nil, topErr(top.CodeMissingMethod, "", "")
	}
	appKey := form.Get(top.ParamAppKey)
	if appKey == "" {
		return none, nil, topErr(top.CodeMissingAppKey, "", "")
	}
	shops := s.topShops(appKey)
	if len(shops) == 0 {
		return none, nil, topErr(top.CodeInvalidAppKey, "", "no Taobao shop has this app key")
	}
	if err := s.checkTimestamp(form.Get(top.ParamTimestamp)); err != nil {
		return none, nil, err
	}
	if form.Get(top.ParamFormat) != top.Format {
		return none, nil, topErr(top.CodeInvalidFormat, "", "shopsim answers format=json only")
	}
	switch v := form.Get(top.ParamVersion); {
	case v == "":
		return none, nil, topErr(top.CodeMissingVersion, "", "")
	case v != top.Version:
		return none, nil, topErr(top.CodeInvalidVersion, "", "the version must be "+top.Version)
	}
	if form.Get(top.ParamSign) == "" {
		return none, nil, topErr(top.CodeMissingSignature, "", "")
	}
	if !top.SignMethod(form.Get(top.ParamSignMethod)).Valid() {
		return none, nil, invalidArg(top.ParamSignMethod, "must be %s, %s or %s", top.SignMD5, top.SignHMAC, top.SignHMACSHA256)
	}
	session := form.Get(top.ParamSession)
	if session == "" {
		return none, nil, topErr(top.CodeMissingSession, "", "")
	}
	i := slices.IndexFunc(shops, func(sh topShop) bool {
		return subtle.ConstantTimeCompare([]byte(sh.creds.AccessToken), []byte(session)) == 1
	})
	if i < 0 {
		return none, nil, topErr(top.CodeInvalidSession, top.SubCodeInvalidSessionKey, "the session is not valid for this app")
	}
	shop := shops[i]
	if !top.VerifySignature(shop.creds.AppSecret, form) {
		return none, nil, topErr(top.CodeInvalidSignature, "", "the signature does not match")
	}
	if allowed, wait := s.allow(memory.ShopKey(platform.Taobao, shop.main)); !allowed {
		return none, nil, banError(wait)
	}
	spec, ok := topMethods[name]
	if !ok {
		return none, nil, topErr(top.CodeInvalidMethod, "", "shopsim does not serve this method")
	}
	*method = name

	client, err := s.engine.Factory().ClientFor(r.Context(), platform.ShopConfig{
		Key: memory.ShopKey(platform.Taobao, shop.main), Platform: platform.Taobao, MainAccount: shop.main, Credentials: shop.creds,
	})
	if err != nil {
		return spec, nil, err
	}
	params := make(map[string]string, len(form))
	for k := range form {
		params[k] = form.Get(k)
	}
	c := &topCall{ctx: r.Context(), client: client, main: shop.main, params: params}
	if !spec.write {
		out, err := spec.handle(s, c)
		return spec, out, err
	}
	src := r.Header.Get(top.HeaderSource)
	if len(src) > MaxSourceLength {
		return spec, nil, invalidArg(top.HeaderSource, "must be at most %d bytes", MaxSourceLength)
	}
	c.ctx = platform.WithSource(c.ctx, src)
	s.writeMu.Lock()
	out, err := spec.handle(s, c)
	s.writeMu.Unlock()
	if err == nil {
		if perr := s.store.save(); perr != nil {
			s.log.Error("saving the state file failed", "err", perr)
			err = topErr(top.CodeRemoteServiceError, top.SubCodeRemoteServiceError, "the change was applied but the server could not save its state")
		}
	}
	return spec, out, err
}

// checkTimestamp accepts a TOP timestamp within top.MaxClockSkew of the
// server's clock.
func (s *Server) checkTimestamp(v string) error {
	if v == "" {
		return topErr(top.CodeMissingTimestamp, "", "")
	}
	t, err := top.ParseTimestamp(v)
	if err != nil {
		return topErr(top.CodeInvalidTimestamp, "", "the timestamp must be yyyy-MM-dd HH:mm:ss in GMT+8")
	}
	if d := s.now().Sub(t); d > top.MaxClockSkew || d < -top.MaxClockSkew {
		return topErr(top.CodeInvalidTimestamp, "", "the timestamp is more than 10 minutes from the server's clock (GMT+8)")
	}
	return nil
}

// writeTOP answers {"<key>": {...body, "request_id"}}.
func writeTOP(w http.ResponseWriter, key string, body map[string]any) {
	if body == nil {
		body = map[string]any{}
	}
	body["request_id"] = requestID()
	writeTOPBody(w, map[string]any{key: body})
}

// writeTOPError answers {"error_response": {...}}.
func writeTOPError(w http.ResponseWriter, e *topError) {
	body := map[string]any{"code": e.Code, "msg": e.Msg, "request_id": requestID()}
	if e.SubCode != "" {
		body["sub_code"] = e.SubCode
	}
	if e.SubMsg != "" {
		body["sub_msg"] = e.SubMsg
	}
	writeTOPBody(w, map[string]any{top.ErrorKey: body})
}

func writeTOPBody(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte(`{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isp.remote-service-error"}}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(data, '\n'))
}

func requestID() string { return strconv.FormatUint(rand.Uint64(), 36) }

// number is a numeric ID as a JSON number, as TOP sends IDs.
func number(id string) json.Number { return json.Number(id) }

// stableID derives a positive numeric ID from a name, for what the engine
// has no IDs for (the seller, departments).
func stableID(kind, name string) json.Number {
	h := fnv.New32a()
	h.Write([]byte(kind + "\x00" + name))
	return json.Number(strconv.FormatUint(uint64(h.Sum32())+1, 10))
}

// wrapped is a TOP list as TOP sends it by default (simplify=false): the
// items under one key, e.g. {"sub_user_info": [...]}.
func wrapped[T any](key string, items []T) map[string]any {
	return map[string]any{key: items}
}

// requireMain checks that the named parameter is the shop's main account.
func (c *topCall) requireMain(param string) error {
	switch v := c.get(param); {
	case v == "":
		return missingArg(param)
	case v != c.main:
		return invalidArg(param, "must be the session's seller")
	}
	return nil
}

// allAccounts lists every sub-account of the shop.
func (c *topCall) allAccounts() ([]platform.Account, error) {
	var all []platform.Account
	for page := 1; ; page++ {
		res, err := c.client.ListAccounts(c.ctx, platform.ListOptions{Page: page, PageSize: memory.MaxPageSize})
		if err != nil {
			return nil, err
		}
		all = append(all, res.Accounts...)
		if len(res.Accounts) == 0 || page*memory.MaxPageSize >= res.Total {
			return all, nil
		}
	}
}

// intParam reads an optional integer parameter.
func (c *topCall) intParam(name string, required bool, lo, hi int) (int, bool, error) {
	v := c.get(name)
	if v == "" {
		if required {
			return 0, false, missingArg(name)
		}
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false, invalidArg(name, "must be an integer %d-%d", lo, hi)
	}
	return n, true, nil
}

// Sub-account statuses of the listing (1 normal, 2 frozen: by the seller
// or by the platform, the listing does not say which) and of the full info
// (1 normal, 2 disabled by the seller, 3 frozen by the platform as a
// penalty); dispatch (is_online) is 1 off, 2 on.
func listStatus(a platform.Account) int {
	if a.Disabled || a.PlatformFrozen {
		return top.ListStatusFrozen
	}
	return top.ListStatusNormal
}

// subStatus is the account's sub_status, which is also what the
// account_status filter of subusers.page selects by.
func subStatus(a platform.Account) int {
	switch {
	case a.PlatformFrozen:
		return top.SubStatusPenalised
	case a.Disabled:
		return top.SubStatusDisabled
	}
	return top.SubStatusNormal
}

func dispatching(a platform.Account) bool { return a.Seat != nil && a.Seat.Chat }

func subUserInfo(main string, a platform.Account) map[string]any {
	online := top.DispatchOff
	if dispatching(a) {
		online = top.DispatchOn
	}
	return map[string]any{
		"sub_id": number(a.ID), "nick": a.Login, "full_name": a.Profile.EmployeeName,
		"seller_id": stableID("seller", main), "seller_nick": main,
		"status": listStatus(a), "is_online": online,
	}
}

// topSubusersPage is taobao.sellercenter.subusers.page: nick (the main
// account), page_num ≥ 1, page_size 2–199 (TOP's "greater than 1, less
// than 200"; anything else is code 41 as TOP answers), optional
// account_status (1 normal, 2 disabled by the seller, 3 frozen by the
// platform as a penalty).
func topSubusersPage(_ *Server, c *topCall) (map[string]any, error) {
	if err := c.requireMain(top.ParamNick); err != nil {
		return nil, err
	}
	page, _, err := c.intParam(top.ParamPageNum, true, 1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	size, _, err := c.intParam(top.ParamPageSize, true, top.MinPageSize, top.MaxPageSize)
	if err != nil {
		return nil, err
	}
	status, filter, err := c.intParam(top.ParamAccountStatus, false, 1, 3)
	if err != nil {
		return nil, err
	}
	all, err := c.allAccounts()
	if err != nil {
		return nil, err
	}
	if filter {
		all = slices.DeleteFunc(all, func(a platform.Account) bool { return subStatus(a) != status })
	}
	out := map[string]any{"total_count": len(all), "page_num": page, "page_size": size}
	if first := (page - 1) * size; first < len(all) {
		items := make([]map[string]any, 0, size)
		for _, a := range all[first:min(first+size, len(all))] {
			items = append(items, subUserInfo(c.main, a))
		}
		out["subusers"] = wrapped("sub_user_info", items)
	}
	return out, nil
}

// topSubusersGet is taobao.sellercenter.subusers.get: every sub-account.
func topSubusersGet(_ *Server, c *topCall) (map[string]any, error) {
	if err := c.requireMain(top.ParamNick); err != nil {
		return nil, err
	}
	all, err := c.allAccounts()
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if len(all) > 0 {
		items := make([]map[string]any, 0, len(all))
		for _, a := range all {
			items = append(items, subUserInfo(c.main, a))
		}
		out["subusers"] = wrapped("sub_user_info", items)
	}
	return out, nil
}

// account finds the sub-account named by sub_nick ("main:name", preferred)
// or sub_id.
func (c *topCall) account(nickParam, idParam string) (platform.Account, error) {
	if nick := c.get(nickParam); nick != "" {
		name, ok := strings.CutPrefix(nick, c.main+":")
		if !ok || name == "" {
			return platform.Account{}, topErr(top.CodeRemoteServiceError, "isv.subuser-not-exist", "no sub-account "+nick+" of this seller")
		}
		return c.client.FindAccount(c.ctx, name)
	}
	if idParam == "" {
		return platform.Account{}, missingArg(nickParam)
	}
	id := c.get(idParam)
	if id == "" {
		return platform.Account{}, missingArg(idParam)
	}
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		return platform.Account{}, invalidArg(idParam, "must be a sub-account ID")
	}
	return c.client.GetAccount(c.ctx, id)
}

// topFullInfo is taobao.subuser.fullinfo.get: sub_nick or sub_id. The
// department is the account's (its department ID), or else the label in
// its profile; the engine has no duties.
func topFullInfo(_ *Server, c *topCall) (map[string]any, error) {
	a, err := c.account(top.ParamSubNick, top.ParamSubID)
	if err != nil {
		return nil, err
	}
	info := map[string]any{
		"sub_id": number(a.ID), "sub_nick": a.Login, "user_id": stableID("seller", c.main), "user_nick": c.main,
		"sub_status": subStatus(a), "sub_owed_status": a.SeatFeeOwed, "sub_dispatch_status": dispatching(a),
		"employee_name": a.Profile.EmployeeName, "employee_nickname": a.Profile.DisplayName, "employee_num": a.Profile.EmployeeNumber,
	}
	if err := c.departmentInfo(info, a.Profile); err != nil {
		return nil, err
	}
	return map[string]any{"sub_fullinfo": info}, nil
}

// boolParam reads an optional "true"/"false" parameter.
func (c *topCall) boolParam(name string) (value, set bool, err error) {
	switch c.get(name) {
	case "":
		return false, false, nil
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, invalidArg(name, "must be true or false")
}

// topInfoUpdate is taobao.subuser.info.update: sub_id, optional
// is_disable_subaccount and is_dispatch. The server reads the account,
// changes those and writes the whole state back (writes are serialized).
// Dispatch on gives an account without a seat one with the engine's
// minimum capacity, Online; dispatch off keeps the seat, not chatting.
func topInfoUpdate(_ *Server, c *topCall) (map[string]any, error) {
	disable, setDisable, err := c.boolParam(top.ParamIsDisableSubaccount)
	if err != nil {
		return nil, err
	}
	dispatch, setDispatch, err := c.boolParam(top.ParamIsDispatch)
	if err != nil {
		return nil, err
	}
	a, err := c.account("", top.ParamSubID)
	if err != nil {
		return nil, err
	}
	if a.PlatformFrozen && setDisable && !disable {
		// Only the platform lifts its penalty; the seller cannot enable
		// the account.
		return nil, topErr(top.CodeRemoteServiceError, top.SubCodeISV+"subuser-penalised",
			"the sub-account is frozen by the platform as a penalty and cannot be enabled by the seller")
	}
	st := a.AccountState
	if setDisable {
		st.Disabled = disable
	}
	if setDispatch {
		switch {
		case st.Seat != nil:
			seat := *st.Seat
			seat.Chat = dispatch
			st.Seat = &seat
		case dispatch:
			st.Seat = &platform.Seat{Chat: true, Capacity: memory.MinSeatCapacity, Presence: platform.PresenceOnline}
		}
	}
	if _, err := c.client.UpdateAccount(c.ctx, a.ID, st); err != nil {
		return nil, err
	}
	return map[string]any{"is_success": true}, nil
}

// departmentInfo adds the account's department to a fullinfo answer: the
// engine's department when the account is a member of one, else the free
// label in its profile (with department_id 0: no department), else
// nothing.
func (c *topCall) departmentInfo(info map[string]any, p platform.Profile) error {
	if p.DepartmentID == "" {
		if p.Department != "" {
			info["department_id"] = 0
			info["department_name"] = p.Department
			info["parent_department"] = 0
		}
		return nil
	}
	deps, err := c.client.ListDepartments(c.ctx)
	if err != nil {
		return err
	}
	for _, d := range deps {
		if d.ID == p.DepartmentID {
			info["department_id"] = number(d.ID)
			info["department_name"] = d.Name
			info["parent_department"] = parentNumber(d.ParentID)
		}
	}
	return nil
}

func parentNumber(id string) json.Number {
	if id == "" {
		return "0"
	}
	return number(id)
}

// topDepartments is taobao.subuser.departments.get: the shop's departments
// in ID order, each with the IDs of its member accounts.
func topDepartments(_ *Server, c *topCall) (map[string]any, error) {
	if err := c.requireMain(top.ParamUserNick); err != nil {
		return nil, err
	}
	deps, err := c.client.ListDepartments(c.ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if len(deps) == 0 {
		return out, nil
	}
	all, err := c.allAccounts()
	if err != nil {
		return nil, err
	}
	members := map[string][]json.Number{}
	for _, a := range all {
		if id := a.Profile.DepartmentID; id != "" {
			members[id] = append(members[id], number(a.ID))
		}
	}
	list := make([]map[string]any, 0, len(deps))
	for _, d := range deps {
		entry := map[string]any{"department_id": number(d.ID), "department_name": d.Name, "parent_id": parentNumber(d.ParentID)}
		if m := members[d.ID]; len(m) > 0 {
			entry["sub_user_ids"] = wrapped("number", m)
		}
		list = append(list, entry)
	}
	out["departments"] = wrapped("department", list)
	return out, nil
}

// topDuties is taobao.subuser.dutys.get: the engine has no duties, so the
// list is empty (left out, as TOP does).
func topDuties(_ *Server, c *topCall) (map[string]any, error) {
	if err := c.requireMain(top.ParamUserNick); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func topRole(main string, r platform.Role, withPermissions bool) map[string]any {
	out := map[string]any{"role_id": number(r.ID), "role_name": r.Name, "seller_id": stableID("seller", main)}
	if r.Description != "" {
		out["description"] = r.Description
	}
	if withPermissions && len(r.Permissions) > 0 {
		out["permissions"] = topPermissions(r.Permissions, false)
	}
	return out
}

// topPermissions renders catalog codes as TOP permission points.
func topPermissions(codes []string, authorize bool) map[string]any {
	cat, _ := catalog.For(platform.Taobao) // embedded and tested
	items := make([]map[string]any, 0, len(codes))
	for _, code := range codes {
		item := map[string]any{"permission_code": code}
		if cat != nil {
			if p, ok := cat.Lookup(code); ok {
				item["permission_name"] = p.Name
				if p.Parent != "" {
					item["parent_code"] = p.Parent
				}
			}
		}
		if authorize {
			item["is_authorize"] = 1
		}
		items = append(items, item)
	}
	return wrapped("permission", items)
}

// topRoles is taobao.sellercenter.roles.get: the roles without their
// permissions, as TOP answers.
func topRoles(_ *Server, c *topCall) (map[string]any, error) {
	if err := c.requireMain(top.ParamNick); err != nil {
		return nil, err
	}
	roles, err := c.client.ListRoles(c.ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if len(roles) > 0 {
		items := make([]map[string]any, 0, len(roles))
		for _, r := range roles {
			items = append(items, topRole(c.main, r, false))
		}
		out["roles"] = wrapped("role", items)
	}
	return out, nil
}

// topRoleAdd is taobao.sellercenter.role.add: nick, name (≤20 characters),
// description (≤20), permission_codes (comma-joined, ≤2000). The engine
// expands the codes (parents and descendants) and refuses a taken name.
func topRoleAdd(_ *Server, c *topCall) (map[string]any, error) {
	if err := c.requireMain(top.ParamNick); err != nil {
		return nil, err
	}
	name, desc, codes := c.get(top.ParamName), c.get(top.ParamDescription), c.get(top.ParamPermissionCodes)
	switch {
	case name == "":
		return nil, missingArg(top.ParamName)
	case utf8.RuneCountInString(name) > top.MaxRoleName:
		return nil, invalidArg(top.ParamName, "must be at most %d characters", top.MaxRoleName)
	case utf8.RuneCountInString(desc) > top.MaxRoleDescription:
		return nil, invalidArg(top.ParamDescription, "must be at most %d characters", top.MaxRoleDescription)
	case utf8.RuneCountInString(codes) > top.MaxPermissionCodes:
		return nil, invalidArg(top.ParamPermissionCodes, "must be at most %d characters", top.MaxPermissionCodes)
	}
	var perms []string
	for _, code := range strings.Split(codes, ",") {
		if code = strings.TrimSpace(code); code != "" {
			perms = append(perms, code)
		}
	}
	role, err := c.client.CreateRole(c.ctx, platform.RoleSpec{Name: name, Description: desc, Permissions: perms}, "")
	if err != nil {
		return nil, err
	}
	return map[string]any{"role": topRole(c.main, role, true)}, nil
}

// topUserPermissions is taobao.sellercenter.user.permissions.get: the
// permissions grantable to the named account (the main account or one of
// its sub-accounts): the whole Taobao catalog, each grantable.
func topUserPermissions(_ *Server, c *topCall) (map[string]any, error) {
	nick := c.get(top.ParamNick)
	if nick == "" {
		return nil, missingArg(top.ParamNick)
	}
	if nick != c.main {
		if _, err := c.account(top.ParamNick, ""); err != nil {
			return nil, err
		}
	}
	cat, err := catalog.For(platform.Taobao)
	if err != nil {
		return nil, err
	}
	codes := make([]string, 0, len(cat.Permissions))
	for _, p := range cat.Permissions {
		codes = append(codes, p.Code)
	}
	return map[string]any{"permissions": topPermissions(codes, true)}, nil
}

// topSubuserPermRoles is taobao.sellercenter.subuser.permissions.roles.get:
// nick is the sub-account ("main:name"); the answer is its directly
// granted permissions and its roles, each with only role_id, role_name and
// its permissions, as TOP documents them, under subuser_permission (an
// empty object for an account with neither).
func topSubuserPermRoles(_ *Server, c *topCall) (map[string]any, error) {
	a, err := c.account(top.ParamNick, "")
	if err != nil {
		return nil, err
	}
	perm := map[string]any{}
	if len(a.ExtraPermissions) > 0 {
		perm["permissions"] = topPermissions(a.ExtraPermissions, false)
	}
	roles := make([]map[string]any, 0, len(a.RoleIDs))
	for _, id := range a.RoleIDs {
		r, err := c.client.GetRole(c.ctx, id)
		if err != nil {
			return nil, err
		}
		role := map[string]any{"role_id": number(r.ID), "role_name": r.Name}
		if len(r.Permissions) > 0 {
			role["permissions"] = topPermissions(r.Permissions, false)
		}
		roles = append(roles, role)
	}
	if len(roles) > 0 {
		perm["roles"] = wrapped("role", roles)
	}
	return map[string]any{"subuser_permission": perm}, nil
}

// topPresenceLog is taobao.qianniu.cloudkefu.onlinestatuslog.get:
// account_ids (1–5), start_date and end_date (whole days, GMT+8). It
// answers the presence changes of the shop's activity feed (what the
// sub-accounts did, or what /admin/activity injected) in those days, as
// TOP's records: Online 1, Offline -1, Busy, Break and Suspended 2
// (suspended), Resumed 3; the type is 5 (suspension) for 2 and 3, else 8
// (PC).
func topPresenceLog(_ *Server, c *topCall) (map[string]any, error) {
	raw := c.get(top.ParamAccountIDs)
	if raw == "" {
		return nil, missingArg(top.ParamAccountIDs)
	}
	ids := strings.Split(raw, ",")
	if len(ids) > top.MaxPresenceAccounts {
		return nil, invalidArg(top.ParamAccountIDs, "at most %d accounts", top.MaxPresenceAccounts)
	}
	for i, id := range ids {
		ids[i] = strings.TrimSpace(id)
		if n, err := strconv.ParseInt(ids[i], 10, 64); err != nil || n <= 0 {
			return nil, invalidArg(top.ParamAccountIDs, "%q is not an account ID", ids[i])
		}
	}
	from, err := c.dateParam(top.ParamStartDate)
	if err != nil {
		return nil, err
	}
	to, err := c.dateParam(top.ParamEndDate)
	if err != nil {
		return nil, err
	}
	if to.Before(from) {
		return nil, invalidArg(top.ParamEndDate, "must not be before start_date")
	}
	q := platform.ActivityQuery{Since: from, Until: to.AddDate(0, 0, 1), AccountIDs: ids}
	var records []map[string]any
	for {
		page, err := c.client.ListActivity(c.ctx, q)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Entries {
			if e.Kind != platform.ActivityPresence {
				continue
			}
			status, typ := topPresence(e.Presence)
			records = append(records, map[string]any{
				"status": int64(status), "type": typ, "domain": "cntaobao", "main_account_id": stableID("seller", c.main),
				"account_id": number(e.AccountID), "change_time_ts": e.Time.UnixMilli(), "change_time": top.FormatTimestamp(e.Time),
			})
		}
		if q.Cursor = page.Next; q.Cursor == "" {
			break
		}
	}
	out := map[string]any{}
	if len(records) > 0 {
		out["record_list"] = wrapped("record_list", records)
	}
	return out, nil
}

// topPresence is an activity presence as TOP's status and record type.
func topPresence(p string) (top.PresenceStatus, int64) {
	switch p {
	case string(platform.PresenceOnline):
		return top.PresenceOnline, top.PresenceTypePC
	case platform.ActivityPresenceOffline:
		return top.PresenceOffline, top.PresenceTypePC
	case platform.ActivityPresenceResumed:
		return top.PresenceResumed, top.PresenceTypeSuspension
	}
	return top.PresenceSuspended, top.PresenceTypeSuspension
}

// dateParam reads a required date ("yyyy-MM-dd" or a TOP timestamp; only
// the day counts) as the start of that day in GMT+8.
func (c *topCall) dateParam(name string) (time.Time, error) {
	v := c.get(name)
	if v == "" {
		return time.Time{}, missingArg(name)
	}
	t, err := top.ParseTimestamp(v)
	if err != nil {
		if t, err = time.ParseInLocation(time.DateOnly, v, top.CST); err != nil {
			return time.Time{}, invalidArg(name, "must be yyyy-MM-dd or yyyy-MM-dd HH:mm:ss")
		}
	}
	y, m, d := t.In(top.CST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, top.CST), nil
}
