/*
Copyright 2026 The subaccount-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

// Shop is one of shopsim's shops with its API credentials. Its methods
// call the shopsim of E over the signed gateway API, as the shop's back
// office (or another tool holding the shop's credentials) would.
type Shop struct {
	Platform    platform.Name
	MainAccount string
	AppKey      string
	AppSecret   string
	AccessToken string
}

// RememberSecrets registers the shop's app secret and access token for
// the secret hygiene check.
func (s Shop) RememberSecrets() {
	RememberSecret("the app secret of "+string(s.Platform)+"/"+s.MainAccount, s.AppSecret)
	RememberSecret("the access token of "+string(s.Platform)+"/"+s.MainAccount, s.AccessToken)
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// Call sends a signed request to shopsim for path (relative to the shop's
// prefix, already escaped) and decodes a 2xx answer into out. It returns
// the status; a non-2xx answer is also an error carrying the error body.
func (s Shop) Call(method, path string, query url.Values, in, out any) (int, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return 0, err
		}
	}
	u := E.ShopsimURL + wire.ShopPrefix(s.Platform, s.MainAccount) + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	wire.SignRequest(req, s.AppKey, s.AppSecret, s.AccessToken, body, time.Now())
	// The suite's own signatures are searched for too.
	RememberSecret("a request signature of the suite", req.Header.Get(wire.HeaderSignature))
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding %q: %w", method, path, data, err)
		}
	}
	return resp.StatusCode, nil
}

// Accounts lists the shop's accounts (GET /accounts), by account name.
func (s Shop) Accounts() (map[string]wire.Account, error) {
	out := map[string]wire.Account{}
	for page := 1; ; page++ {
		var list wire.AccountList
		q := url.Values{"page": {fmt.Sprint(page)}, "pageSize": {fmt.Sprint(wire.MaxPageSize)}}
		if _, err := s.Call(http.MethodGet, wire.PathAccounts, q, nil, &list); err != nil {
			return nil, err
		}
		for _, a := range list.Items {
			out[a.Name] = a
		}
		if len(list.Items) == 0 || len(out) >= list.Total {
			return out, nil
		}
	}
}

// AccountPath is the escaped path of account id, plus suffix.
func AccountPath(id, suffix string) string {
	return strings.Replace(wire.PathAccount, "{id}", url.PathEscape(id), 1) + suffix
}

// AccountByName is GET /accounts/by-name/{name}: the account and the
// status (404 when there is none).
func (s Shop) AccountByName(name string) (wire.Account, int, error) {
	var a wire.Account
	status, err := s.Call(http.MethodGet, strings.Replace(wire.PathAccountName, "{name}", url.PathEscape(name), 1), nil, nil, &a)
	return a, status, err
}

// Login is POST /login: whether name (or main:name) logs in with password.
func (s Shop) Login(name, password string) (bool, error) {
	var res wire.LoginResult
	_, err := s.Call(http.MethodPost, wire.PathLogin, nil, wire.LoginCheck{Name: name, Password: password}, &res)
	return res.OK, err
}

// Audit is GET /audit: the shop's write log.
func (s Shop) Audit() ([]wire.AuditEntry, error) {
	var list wire.AuditList
	_, err := s.Call(http.MethodGet, wire.PathAudit, nil, nil, &list)
	return list.Items, err
}

// admin calls one of shopsim's /admin endpoints with the run's token.
func admin(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, E.ShopsimURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+E.AdminToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// SetFaults replaces shopsim's fault injection.
func SetFaults(f shopsim.Faults) error {
	return admin(http.MethodPut, shopsim.AdminPathFaults, f, nil)
}

// Stats reads shopsim's per-shop API call counters.
func Stats() (shopsim.Stats, error) {
	var s shopsim.Stats
	err := admin(http.MethodGet, shopsim.AdminPathStats, nil, &s)
	return s, err
}

// RememberSignatures registers every request signature shopsim received
// so far for the secret hygiene check, and returns how many there were.
func RememberSignatures() (int, error) {
	var sigs shopsim.Signatures
	if err := admin(http.MethodGet, shopsim.AdminPathSignatures, nil, &sigs); err != nil {
		return 0, err
	}
	for _, s := range sigs.Items {
		RememberSecret("a request signature shopsim received", s)
	}
	return len(sigs.Items), nil
}

// SMS reads the latest verification code shopsim "sent" to phone, from its
// admin outbox (standing in for the phone). The code is remembered as a
// secret.
func SMS(phone string) (shopsim.SMSMessage, error) {
	var m shopsim.SMSMessage
	err := admin(http.MethodGet, shopsim.AdminPathSMS+"?phone="+url.QueryEscape(phone), nil, &m)
	RememberSecret("the SMS code sent to "+phone, m.Code)
	return m, err
}

// SignIn stands in for an employee signing in to the shop's back office
// with their sub-account's login and password: shopsim records a Login in
// the shop's activity feed. A wrong password is an error.
func SignIn(p platform.Name, mainAccount, login, password string) error {
	return admin(http.MethodPost, shopsim.AdminPathSignIn, shopsim.SignIn{Platform: p, MainAccount: mainAccount, Login: login,
		Password: password}, nil)
}

// InjectActivity adds an entry to a shop's activity feed through shopsim's
// admin API, as if the sub-account had done it (a zero time is now).
func InjectActivity(in shopsim.ActivityInjection) error {
	return admin(http.MethodPost, shopsim.AdminPathActivity, in, nil)
}
