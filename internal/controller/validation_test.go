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

package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// admissionCase is one input the API server must refuse (or accept) by the
// CRDs' OpenAPI schemas and CEL rules alone, before any controller runs.
type admissionCase struct {
	name string
	kind string // Shop, Role, SubAccount or Staff
	// create is a JSON merge patch (RFC 7386) applied to a valid object of
	// kind before it is created; null removes a field.
	create string
	// update, when set, is a JSON merge patch sent to the object after it was
	// created: the case is about the update, not the create.
	update string
	// want is the text the refusal must contain; empty means accepted.
	want string
}

// Human-readable texts of the CRDs' rules, as users see them.
const (
	msgAccountNamePattern   = "accountName must start with a letter or digit and contain only letters, digits, '.', '_' or '-' (no ':' or spaces)"
	msgAccountNameImmutable = "accountName is immutable: create a new SubAccount to rename a login"
	msgShopRefImmutable     = "shopRef is immutable"
	msgPhone                = "phone must be an 11-digit mainland mobile number such as 13800138000 or E.164 such as +8613800138000"
	msgDuplicateRoles       = "roles must not contain the same Role twice"
	msgRotationPeriod       = "rotationPeriod must be at least 1h"
	msgPasswordLength       = "password.length applies to generated passwords only; remove it or password.secretRef"
	msgRoleNeedsPermissions = "a Role needs a template or at least one permission"
	msgDisplayNameSpaces    = "displayName must not start or end with spaces"
	msgPlatformImmutable    = "platform is immutable"
	msgMainAccountImmutable = "mainAccount is immutable: sub-account logins are derived from it"
	msgMainAccountColon     = "mainAccount must not contain ':'"
	msgDriftCheckInterval   = "driftCheckInterval must be at least 30s"
	msgEndpoint             = "endpoint must be an http(s) URL"
)

var admissionCases = []admissionCase{
	// SubAccount
	// Issue 15, item 6: names that end up in a label value (63 characters)
	// and Secret names that are not DNS subdomains never work: refused.
	{name: "SubAccount name of 64 characters", kind: "SubAccount", create: `{"metadata":{"name":"` + strings.Repeat("a", 64) + `"}}`,
		want: "a SubAccount's name must be at most 63 characters"},
	{name: "SubAccount name of 63 characters", kind: "SubAccount", create: `{"metadata":{"name":"` + strings.Repeat("a", 63) + `"}}`},
	{name: "Shop name of 64 characters", kind: "Shop", create: `{"metadata":{"name":"` + strings.Repeat("s", 64) + `"}}`,
		want: "a Shop's name must be at most 63 characters"},
	{name: "credentialsSecret name not a DNS name", kind: "SubAccount", create: `{"spec":{"credentialsSecret":{"name":"Bad_Name"}}}`,
		want: "credentialsSecret.name must be a Secret name"},
	{name: "seat capacity 0", kind: "SubAccount", create: `{"spec":{"seat":{"capacity":0}}}`,
		want: "spec.seat.capacity in body should be greater than or equal to 1"},
	{name: "seat capacity 51", kind: "SubAccount", create: `{"spec":{"seat":{"capacity":51}}}`,
		want: "spec.seat.capacity in body should be less than or equal to 50"},
	{name: "seat capacity 50", kind: "SubAccount", create: `{"spec":{"seat":{"capacity":50}}}`},
	{name: "phone too short", kind: "SubAccount", create: `{"spec":{"phone":"12345"}}`, want: msgPhone},
	{name: "phone E.164 with leading zero", kind: "SubAccount", create: `{"spec":{"phone":"+0861380013800"}}`, want: msgPhone},
	{name: "phone 12 digits", kind: "SubAccount", create: `{"spec":{"phone":"138001380001"}}`, want: msgPhone},
	{name: "phone mainland", kind: "SubAccount", create: `{"spec":{"phone":"13800138000"}}`},
	{name: "phone E.164", kind: "SubAccount", create: `{"spec":{"phone":"+8613800138000"}}`},
	{name: "empty accountName", kind: "SubAccount", create: `{"spec":{"accountName":""}}`,
		want: "spec.accountName in body should be at least 1 chars long"},
	{name: "accountName with colon", kind: "SubAccount", create: `{"spec":{"accountName":"main:sub"}}`, want: msgAccountNamePattern},
	{name: "accountName with space", kind: "SubAccount", create: `{"spec":{"accountName":"xiao hong"}}`, want: msgAccountNamePattern},
	{name: "accountName starting with dash", kind: "SubAccount", create: `{"spec":{"accountName":"-xiaohong"}}`, want: msgAccountNamePattern},
	{name: "accountName of 33 characters", kind: "SubAccount", create: `{"spec":{"accountName":"` + strings.Repeat("a", 33) + `"}}`,
		want: "spec.accountName: Too long: may not be more than 32"},
	{name: "accountName of 32 characters", kind: "SubAccount", create: `{"spec":{"accountName":"` + strings.Repeat("a", 32) + `"}}`},
	{name: "Chinese accountName", kind: "SubAccount", create: `{"spec":{"accountName":"小红"}}`},
	// 20 characters but 60 bytes: the limit is in characters, as on the platforms.
	{name: "Chinese accountName of 20 characters", kind: "SubAccount", create: `{"spec":{"accountName":"` + strings.Repeat("客", 20) + `"}}`},
	{name: "accountName change", kind: "SubAccount", update: `{"spec":{"accountName":"xiaoming"}}`, want: msgAccountNameImmutable},
	{name: "SubAccount shopRef change", kind: "SubAccount", update: `{"spec":{"shopRef":{"name":"other-shop"}}}`, want: msgShopRefImmutable},
	{name: "duplicate roles", kind: "SubAccount", create: `{"spec":{"roles":[{"name":"a"},{"name":"a"}]}}`, want: msgDuplicateRoles},
	{name: "distinct roles", kind: "SubAccount", create: `{"spec":{"roles":[{"name":"a"},{"name":"b"}]}}`},
	{name: "rotationPeriod 30m", kind: "SubAccount", create: `{"spec":{"password":{"rotationPeriod":"30m"}}}`, want: msgRotationPeriod},
	{name: "rotationPeriod 1h", kind: "SubAccount", create: `{"spec":{"password":{"rotationPeriod":"1h"}}}`},
	{name: "password length with secretRef", kind: "SubAccount",
		create: `{"spec":{"password":{"length":16,"secretRef":{"name":"vault-pw"}}}}`, want: msgPasswordLength},
	{name: "SubAccount deletionPolicy Keep", kind: "SubAccount", create: `{"spec":{"deletionPolicy":"Keep"}}`,
		want: `spec.deletionPolicy: Unsupported value: "Keep": supported values: "Delete", "Disable", "Retain"`},
	{name: "presence Away", kind: "SubAccount", create: `{"spec":{"seat":{"presence":"Away"}}}`,
		want: `spec.seat.presence: Unsupported value: "Away": supported values: "Online", "Busy", "Break"`},

	// Role
	{name: "Role without template or permissions", kind: "Role", create: `{"spec":{"template":null}}`, want: msgRoleNeedsPermissions},
	{name: "Role with empty permissions only", kind: "Role", create: `{"spec":{"template":null,"permissions":[]}}`, want: msgRoleNeedsPermissions},
	{name: "Role with permissions only", kind: "Role", create: `{"spec":{"template":null,"permissions":["item-edit"]}}`},
	{name: "Role template boss", kind: "Role", create: `{"spec":{"template":"boss"}}`,
		want: `spec.template: Unsupported value: "boss"`},
	{name: "Role permission with a space", kind: "Role", create: `{"spec":{"permissions":["item edit"]}}`,
		want: "spec.permissions[0] in body should match '^[A-Za-z0-9][A-Za-z0-9._:-]*$'"},
	{name: "Role displayName with leading space", kind: "Role", create: `{"spec":{"displayName":" 客服"}}`, want: msgDisplayNameSpaces},
	{name: "Role displayName with trailing space", kind: "Role", create: `{"spec":{"displayName":"客服 "}}`, want: msgDisplayNameSpaces},
	{name: "Role deletionPolicy Disable", kind: "Role", create: `{"spec":{"deletionPolicy":"Disable"}}`,
		want: `spec.deletionPolicy: Unsupported value: "Disable": supported values: "Delete", "Retain"`},
	{name: "Role shopRef change", kind: "Role", update: `{"spec":{"shopRef":{"name":"other-shop"}}}`, want: msgShopRefImmutable},

	// Shop
	{name: "Shop platform jd", kind: "Shop", create: `{"spec":{"platform":"jd"}}`,
		want: `spec.platform: Unsupported value: "jd": supported values: "taobao", "pinduoduo", "douyin"`},
	{name: "Shop platform change", kind: "Shop", update: `{"spec":{"platform":"douyin"}}`, want: msgPlatformImmutable},
	{name: "Shop mainAccount change", kind: "Shop", update: `{"spec":{"mainAccount":"another-main"}}`, want: msgMainAccountImmutable},
	{name: "Shop mainAccount with colon", kind: "Shop", create: `{"spec":{"mainAccount":"main:sub"}}`, want: msgMainAccountColon},
	{name: "Shop driftCheckInterval 10s", kind: "Shop", create: `{"spec":{"driftCheckInterval":"10s"}}`, want: msgDriftCheckInterval},
	{name: "Shop driftCheckInterval 30s", kind: "Shop", create: `{"spec":{"driftCheckInterval":"30s"}}`},
	{name: "Shop endpoint ftp", kind: "Shop", create: `{"spec":{"endpoint":"ftp://x"}}`, want: msgEndpoint},
	{name: "Shop api TOP on pinduoduo", kind: "Shop", create: `{"spec":{"platform":"pinduoduo","api":"TOP"}}`,
		want: "api TOP is Taobao's open API: only a taobao Shop can use it"},
	{name: "Shop api TOP on taobao", kind: "Shop", create: `{"spec":{"platform":"taobao","api":"TOP"}}`},
	{name: "Shop endpoint https", kind: "Shop", create: `{"spec":{"endpoint":"https://gw.api.taobao.com/router/rest"}}`},
	{name: "Shop requestsPerSecond 0", kind: "Shop", create: `{"spec":{"rateLimit":{"requestsPerSecond":0}}}`,
		want: "spec.rateLimit.requestsPerSecond in body should be greater than or equal to 1"},

	// Staff
	{name: "Staff with empty assignments", kind: "Staff", create: `{"spec":{"assignments":[]}}`,
		want: "spec.assignments: Invalid value: 0: spec.assignments in body should have at least 1 items"},
	{name: "Staff without assignments", kind: "Staff", create: `{"spec":{"assignments":null}}`,
		want: "spec.assignments: Required value"},
	{name: "Staff assignment with shops and shopSelector", kind: "Staff",
		create: `{"spec":{"assignments":[{"shops":["a"],"shopSelector":{"matchLabels":{"brand":"lefa"}},"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`,
		want:   msgStaffShopsOrSelector},
	{name: "Staff assignment picking no shops", kind: "Staff",
		create: `{"spec":{"assignments":[{"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`, want: msgStaffShopsOrSelector},
	{name: "Staff empty shopSelector", kind: "Staff",
		create: `{"spec":{"assignments":[{"shopSelector":{},"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`, want: msgStaffEmptySelector},
	{name: "Staff empty roleSelector", kind: "Staff",
		create: `{"spec":{"assignments":[{"shops":["a"],"roleSelector":{"matchLabels":{}}}]}}`, want: msgStaffEmptySelector},
	{name: "Staff selector In without values", kind: "Staff",
		create: `{"spec":{"assignments":[{"shopSelector":{"matchExpressions":[{"key":"brand","operator":"In"}]},"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`,
		want:   msgStaffSelectorValues},
	{name: "Staff selector Exists with values", kind: "Staff",
		create: `{"spec":{"assignments":[{"shopSelector":{"matchExpressions":[{"key":"brand","operator":"Exists","values":["x"]}]},"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`,
		want:   msgStaffSelectorValues},
	{name: "Staff selector by platform", kind: "Staff",
		create: `{"spec":{"assignments":[{"shopSelector":{"matchExpressions":[{"key":"shop.subaccount.io/platform","operator":"In","values":["pinduoduo","douyin"]}]},"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`},
	{name: "Staff shop twice in one assignment", kind: "Staff",
		create: `{"spec":{"assignments":[{"shops":["a","a"],"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`,
		want:   `spec.assignments[0].shops[1]: Duplicate value: "a"`},
	{name: "Staff shop in two assignments", kind: "Staff",
		create: `{"spec":{"assignments":[{"shops":["a","b"],"roleSelector":{"matchLabels":{"job":"cs"}}},{"shops":["b"],"roleSelector":{"matchLabels":{"job":"ops"}}}]}}`,
		want:   "a shop may be named in one assignment only"},
	{name: "Staff without any accountName", kind: "Staff", create: `{"spec":{"accountName":null}}`,
		want: "give accountName, or an accountName in every assignment"},
	{name: "Staff with accountName per assignment", kind: "Staff",
		create: `{"spec":{"accountName":null,"assignments":[{"shops":["a"],"accountName":"li","roleSelector":{"matchLabels":{"job":"cs"}}}]}}`},
	// A phone per assignment and per shop (a second Douyin shop verified
	// on another number).
	{name: "Staff phone per assignment and per shop", kind: "Staff",
		create: `{"spec":{"assignments":[{"shops":["dy","dy2"],"phone":"13900139042","shopPhones":[{"shop":"dy2","phone":"+8613700137000"}],"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`},
	{name: "Staff shopPhones with a selector", kind: "Staff",
		create: `{"spec":{"assignments":[{"shopSelector":{"matchLabels":{"brand":"lefa"}},"shopPhones":[{"shop":"dy2","phone":"13900139042"}],"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`},
	{name: "Staff bad assignment phone", kind: "Staff",
		create: `{"spec":{"assignments":[{"shops":["dy"],"phone":"12345","roleSelector":{"matchLabels":{"job":"cs"}}}]}}`,
		want:   msgStaffPhone},
	{name: "Staff bad shop phone", kind: "Staff",
		create: `{"spec":{"assignments":[{"shops":["dy"],"shopPhones":[{"shop":"dy","phone":"0800-123"}],"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`,
		want:   msgStaffPhone},
	{name: "Staff shop phone for a shop not named", kind: "Staff",
		create: `{"spec":{"assignments":[{"shops":["dy"],"shopPhones":[{"shop":"dy2","phone":"13900139042"}],"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`,
		want:   "shopPhones may name only shops the assignment's shops list names"},
	{name: "Staff shop phone twice", kind: "Staff",
		create: `{"spec":{"assignments":[{"shops":["dy"],"shopPhones":[{"shop":"dy","phone":"13900139042"},{"shop":"dy","phone":"13900139043"}],"roleSelector":{"matchLabels":{"job":"cs"}}}]}}`,
		want:   `spec.assignments[0].shopPhones[1]: Duplicate value`},
	{name: "Staff name of 31 characters", kind: "Staff", create: `{"metadata":{"name":"` + strings.Repeat("p", 31) + `"}}`,
		want: "a Staff's name must be at most 30 characters"},
}

const (
	msgStaffShopsOrSelector = "an assignment picks its shops with either shops (names) or shopSelector, not both and not neither"
	msgStaffEmptySelector   = "a selector needs matchLabels or matchExpressions: an empty one would pick everything"
	msgStaffSelectorValues  = "In and NotIn need values; Exists and DoesNotExist take none"
	msgStaffPhone           = "phone must be an 11-digit mainland mobile number such as 13800138000 or E.164 such as +8613800138000"
)

// validObject is an object of kind that admission accepts.
func validObject(kind, ns, name string) map[string]any {
	var spec map[string]any
	switch kind {
	case "Shop":
		spec = map[string]any{"platform": "taobao", "mainAccount": "main-" + name,
			"credentialsSecretRef": map[string]any{"name": "shop-api"}}
	case "Role":
		spec = map[string]any{"shopRef": map[string]any{"name": "shop"}, "displayName": "客服", "template": "customer-service"}
	case "SubAccount":
		spec = map[string]any{"shopRef": map[string]any{"name": "shop"}, "accountName": "xiaohong"}
	case "Staff":
		spec = map[string]any{"accountName": "xiaoli", "assignments": []any{map[string]any{
			"shops": []any{"shop"}, "roleSelector": map[string]any{"matchLabels": map[string]any{"job": "customer-service"}}}}}
	default:
		panic("unknown kind " + kind)
	}
	return map[string]any{
		"apiVersion": shopv1alpha1.GroupVersion.String(),
		"kind":       kind,
		"metadata":   map[string]any{"namespace": ns, "name": name},
		"spec":       spec,
	}
}

// mergePatch applies an RFC 7386 JSON merge patch to target.
func mergePatch(target, patch map[string]any) {
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(target, k)
		case map[string]any:
			tv, ok := target[k].(map[string]any)
			if !ok {
				tv = map[string]any{}
				target[k] = tv
			}
			mergePatch(tv, pv)
		default:
			target[k] = v
		}
	}
}

// TestAdmission checks that the CRDs alone refuse bad input with a message
// a person can act on, and accept the good inputs next to it.
func TestAdmission(t *testing.T) {
	runAdmissionCases(t, admissionCases)
}

// runAdmissionCases creates (and updates) each case's object in a new
// namespace and checks the API server's answer.
func runAdmissionCases(t *testing.T, cases []admissionCase) {
	ns := newNamespace(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ctx := context.Background()
			obj := validObject(tc.kind, ns, fmt.Sprintf("case-%d", i))
			if tc.create != "" {
				var patch map[string]any
				g.Expect(json.Unmarshal([]byte(tc.create), &patch)).To(Succeed(), "the case's create patch")
				mergePatch(obj, patch)
			}
			u := &unstructured.Unstructured{Object: obj}
			err := k8s.Create(ctx, u)
			if tc.update == "" {
				expectAdmission(g, err, tc.want)
				return
			}
			g.Expect(err).NotTo(HaveOccurred(), "creating the object to update")
			// A merge patch without resourceVersion: the controllers adding
			// finalizers meanwhile cannot make it conflict.
			err = k8s.Patch(ctx, u, client.RawPatch(types.MergePatchType, []byte(tc.update)))
			expectAdmission(g, err, tc.want)
		})
	}
}

func expectAdmission(g Gomega, err error, want string) {
	if want == "" {
		g.Expect(err).NotTo(HaveOccurred())
		return
	}
	g.Expect(err).To(HaveOccurred(), "the API server must refuse it")
	g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want an Invalid (422) error, got %v", err)
	g.Expect(err.Error()).To(ContainSubstring(want))
}

// crdNames is the part of a CustomResourceDefinition kubectl reads to
// resolve "kubectl get <name>".
type crdNames struct {
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind       string   `json:"kind"`
			Plural     string   `json:"plural"`
			Singular   string   `json:"singular"`
			ShortNames []string `json:"shortNames"`
			Categories []string `json:"categories"`
		} `json:"names"`
	} `json:"spec"`
}

// builtinShortNames are the short names of the resources a stock
// kube-apiserver serves, plus abbreviations everyone types for RBAC.
// A CRD claiming one would make "kubectl get <it>" ambiguous.
var builtinShortNames = []string{
	"cm", "cs", "ep", "ev", "limits", "no", "ns", "po", "pv", "pvc", "quota", "rc", "sa", "svc",
	"deploy", "ds", "rs", "sts", "hpa", "cj", "csr", "ing", "netpol", "pdb", "pc", "sc", "vac",
	"crd", "crds", "rb", "crb",
}

func TestCRDNamesForKubectl(t *testing.T) {
	g := NewWithT(t)
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "crd", "bases", "*.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	byKind := map[string]crdNames{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		var crd crdNames
		g.Expect(yaml.Unmarshal(data, &crd)).To(Succeed(), f)
		byKind[crd.Spec.Names.Kind] = crd
	}
	g.Expect(byKind).To(HaveLen(4))

	want := map[string][]string{"Shop": {"shp"}, "Role": {"shoprole", "srole"}, "SubAccount": {"subacct", "suba"}, "Staff": {"stf", "shstaff"}}
	var all []string
	for kind, short := range want {
		crd, ok := byKind[kind]
		g.Expect(ok).To(BeTrue(), "no CRD for %s", kind)
		g.Expect(crd.Spec.Group).To(Equal(shopv1alpha1.GroupVersion.Group))
		g.Expect(crd.Spec.Names.Categories).To(ContainElement("shopstaff"), "kubectl get shopstaff must list %s", kind)
		g.Expect(crd.Spec.Names.ShortNames).To(ConsistOf(short), kind)
		for _, s := range crd.Spec.Names.ShortNames {
			g.Expect(builtinShortNames).NotTo(ContainElement(s), "%s short name %q shadows a built-in one", kind, s)
			g.Expect(all).NotTo(ContainElement(s), "short name %q is used twice", s)
			all = append(all, s)
		}
	}
	slices.Sort(all)
	g.Expect(all).To(Equal([]string{"shoprole", "shp", "shstaff", "srole", "stf", "suba", "subacct"}))
}
