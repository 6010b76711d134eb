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

// Command gateway-conformance checks a running gateway against the gateway
// protocol v1 end to end (package conformance) and prints a report: each
// check passed, failed (with the request that failed, without a secret)
// or skipped. It exits 1 when a check failed, 2 on bad usage.
//
//	go run ./cmd/gateway-conformance --endpoint https://gateway.example.com --credentials shop.yaml
//
// It writes to the shop (accounts, roles, a contact, all deleted at the
// end): run it against a test shop. docs/writing-a-gateway.md describes
// the credentials file.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/subaccount-operator/subaccount-operator/pkg/gateway"
	"github.com/subaccount-operator/subaccount-operator/pkg/gateway/conformance"
)

// credentialsFile is the --credentials file: the shop, its credentials
// (each also from an environment variable), and how to read the SMS codes
// the gateway sends (for the verification check).
type credentialsFile struct {
	Platform       gateway.Name `json:"platform"`
	MainAccount    string       `json:"mainAccount"`
	AppKey         string       `json:"appKey"`
	AppKeyEnv      string       `json:"appKeyEnv"`
	AppSecret      string       `json:"appSecret"`
	AppSecretEnv   string       `json:"appSecretEnv"`
	AccessToken    string       `json:"accessToken"`
	AccessTokenEnv string       `json:"accessTokenEnv"`
	// SMSCodeCommand prints the latest code sent to $PHONE (a program with
	// its arguments); ShopsimAdminToken reads it from shopsim's
	// /admin/sms instead, and has the activity check's account sign in to
	// shopsim (/admin/sign-in) to page over its entries.
	SMSCodeCommand       []string `json:"smsCodeCommand"`
	ShopsimAdminToken    string   `json:"shopsimAdminToken"`
	ShopsimAdminTokenEnv string   `json:"shopsimAdminTokenEnv"`
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gateway-conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "", "the gateway's base URL, e.g. https://gateway.example.com")
	credsPath := fs.String("credentials", "", "YAML or JSON file: platform, mainAccount, appKey, appSecret, accessToken (or *Env), optional smsCodeCommand or shopsimAdminToken")
	accounts := fs.Int("accounts", conformance.DefaultAccounts, "how many accounts the paging check pages over (the suite creates the missing ones)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long the whole run may take")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *endpoint == "" || *credsPath == "" {
		_, _ = fmt.Fprintln(stderr, "gateway-conformance: --endpoint and --credentials are required")
		return 2
	}
	u, err := url.Parse(*endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		_, _ = fmt.Fprintln(stderr, "gateway-conformance: --endpoint must be an http(s) URL with a host")
		return 2
	}
	target, err := loadTarget(*credsPath, *endpoint)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "gateway-conformance: %v\n", err)
		return 2
	}
	target.Accounts = *accounts
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	report := conformance.Run(ctx, target)
	if *asJSON {
		err = report.WriteJSON(stdout)
	} else {
		err = report.WriteText(stdout)
	}
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "gateway-conformance: writing the report: %v\n", err)
		return 1
	}
	if !report.Passed() {
		return 1
	}
	return 0
}

func loadTarget(path, endpoint string) (conformance.Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return conformance.Target{}, fmt.Errorf("reading the credentials file: %w", err)
	}
	var f credentialsFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return conformance.Target{}, fmt.Errorf("the credentials file %s: %w", path, err)
	}
	creds := gateway.Credentials{AppKey: fromEnv(f.AppKey, f.AppKeyEnv), AppSecret: fromEnv(f.AppSecret, f.AppSecretEnv),
		AccessToken: fromEnv(f.AccessToken, f.AccessTokenEnv)}
	if f.Platform == "" || f.MainAccount == "" || creds.AppKey == "" || creds.AppSecret == "" || creds.AccessToken == "" {
		return conformance.Target{}, fmt.Errorf("the credentials file %s must give platform, mainAccount, appKey, appSecret and accessToken", path)
	}
	t := conformance.Target{Endpoint: endpoint, Shop: gateway.Shop{Platform: f.Platform, MainAccount: f.MainAccount}, Credentials: creds}
	switch admin := fromEnv(f.ShopsimAdminToken, f.ShopsimAdminTokenEnv); {
	case len(f.SMSCodeCommand) > 0:
		t.Codes = commandCodes(f.SMSCodeCommand)
	case admin != "":
		t.Codes = shopsimCodes(strings.TrimRight(endpoint, "/"), admin)
	}
	if admin := fromEnv(f.ShopsimAdminToken, f.ShopsimAdminTokenEnv); admin != "" {
		t.Activity = shopsimSignIns(strings.TrimRight(endpoint, "/"), admin, t.Shop)
	}
	return t, nil
}

func fromEnv(value, env string) string {
	if env != "" {
		return os.Getenv(env)
	}
	return value
}

// commandCodes runs argv with PHONE set and reads the code from its output.
func commandCodes(argv []string) func(context.Context, string) (string, error) {
	return func(ctx context.Context, phone string) (string, error) {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "PHONE="+phone)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("running smsCodeCommand: %w", err)
		}
		return strings.TrimSpace(out.String()), nil
	}
}

// shopsimCodes reads shopsim's GET /admin/sms (a real gateway has none).
func shopsimCodes(endpoint, token string) func(context.Context, string) (string, error) {
	return func(ctx context.Context, phone string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/admin/sms?phone="+url.QueryEscape(phone), nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", fmt.Errorf("reading shopsim's SMS outbox: %w", err)
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("reading shopsim's SMS outbox: status %d", resp.StatusCode)
		}
		var msg struct {
			Code string `json:"code"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&msg); err != nil || msg.Code == "" {
			return "", errors.New("reading shopsim's SMS outbox: no code in the answer")
		}
		return msg.Code, nil
	}
}

// shopsimSignIns has the account sign in to shopsim's back office n
// times (POST /admin/sign-in), each recorded in the activity feed.
func shopsimSignIns(endpoint, token string, shop gateway.Shop) func(context.Context, string, string, int) error {
	return func(ctx context.Context, name, password string, n int) error {
		body, err := json.Marshal(map[string]string{"platform": string(shop.Platform), "mainAccount": shop.MainAccount,
			"login": name, "password": password})
		if err != nil {
			return err
		}
		for range n {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/admin/sign-in", bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("signing in to shopsim: %w", err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				return fmt.Errorf("signing in to shopsim: status %d", resp.StatusCode)
			}
		}
		return nil
	}
}
