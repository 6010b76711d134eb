//go:build e2e

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

package e2e

import (
	"net/http"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// The harness's helpers under the names the tests use.
var (
	begin          = harness.Begin
	kubectl        = harness.Kubectl
	kubectlIn      = harness.KubectlIn
	runKubectl     = harness.RunKubectl
	namespace      = harness.Namespace
	jsonpath       = harness.JSONPath
	waitReady      = harness.WaitReady
	credentials    = harness.Credentials
	rememberSecret = harness.RememberSecret
)

// shop is one of shopsim's shops (hack/shopsim.example.yaml) with its
// API credentials.
type shop = harness.Shop

var (
	// hongxing is the shop of config/samples.
	hongxing = shop{Platform: platform.Taobao, MainAccount: "hongxing", AppKey: "12345678", AppSecret: "demo-app-secret", AccessToken: "demo-session-token"}
	// pdd is the Pinduoduo shop, used by the deletion policy test.
	pdd = shop{Platform: platform.Pinduoduo, MainAccount: "拼多多小店", AppKey: "pdd-demo-client-id", AppSecret: "demo-pdd-client-secret", AccessToken: "demo-pdd-access-token"}
	// douyin is only here so that its credentials are checked for too.
	douyin = shop{Platform: platform.Douyin, MainAccount: "抖店旗舰店", AppKey: "7000000000000000000", AppSecret: "demo-douyin-app-secret", AccessToken: "demo-douyin-access-token"}
)

// httpClient is for the suite's own plain requests (metrics).
var httpClient = &http.Client{Timeout: 10 * time.Second}
