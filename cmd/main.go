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

// Command manager runs the subaccount-operator controllers
// (internal/manager).
package main

import (
	"os"

	// Mozilla's root certificates, used only when the system has none: the
	// image ('make image') has no CA bundle, and the manager speaks TLS to
	// each Shop's gateway and to Taobao's TOP. SSL_CERT_FILE (a mounted
	// bundle, e.g. for a private CA) takes precedence.
	_ "golang.org/x/crypto/x509roots/fallback"
	// Client authentication plugins (OIDC) for a kubeconfig outside a
	// cluster.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"github.com/subaccount-operator/subaccount-operator/internal/manager"
)

func main() { os.Exit(manager.Main(manager.Hooks{})) }
