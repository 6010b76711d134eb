//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// departmentsByPath reads shopsim's department tree as path → department.
func departmentsByPath(s shop) (map[string]wire.Department, error) {
	var list wire.DepartmentList
	if _, err := s.Call(http.MethodGet, wire.PathDepartments, nil, nil, &list); err != nil {
		return nil, err
	}
	byID := map[string]wire.Department{}
	for _, d := range list.Items {
		byID[d.ID] = d
	}
	out := map[string]wire.Department{}
	for _, d := range list.Items {
		path := d.Name
		for p := d.ParentID; p != ""; p = byID[p].ParentID {
			path = byID[p].Name + "/" + path
		}
		out[path] = d
	}
	return out, nil
}

// TestSampleDepartments: the sample Taobao shop's department tree is on
// shopsim and in the Shop's status with the same IDs, and each sample
// agent is a member of the department its spec names.
func TestSampleDepartments(t *testing.T) {
	g := begin(t)
	ns := samples(t)
	kubectl(t, "wait", "-n", ns, "shop/hongxing", "--for=condition=DepartmentsSynced", "--timeout=60s")

	onShopsim, err := departmentsByPath(hongxing)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(onShopsim).To(HaveKey("客服部"))
	g.Expect(onShopsim).To(HaveKey("客服部/售前"))
	g.Expect(onShopsim).To(HaveKey("客服部/售后"))
	g.Expect(onShopsim).To(HaveKey("运营部"))
	g.Expect(onShopsim).To(HaveKey("财务部"))
	g.Expect(onShopsim["客服部/售后"].ParentID).To(Equal(onShopsim["客服部"].ID))

	accounts, err := hongxing.Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	for name, path := range map[string]string{"xiaohong": "客服部", "daming": "运营部", "xiaolan": "客服部/售后"} {
		g.Expect(accounts[name].Profile.DepartmentID).To(Equal(onShopsim[path].ID), "%s's department on shopsim", name)
	}

	// status.departments: every department of shopsim, same ID, members
	// counted (kubectl shows what the operator wrote).
	g.Eventually(func(g Gomega) {
		var status []shopv1alpha1.DepartmentStatus
		g.Expect(json.Unmarshal([]byte(jsonpath(t, ns, "shop/hongxing", "{.status.departments}")), &status)).To(Succeed())
		byPath := map[string]shopv1alpha1.DepartmentStatus{}
		for _, d := range status {
			byPath[d.Path] = d
		}
		for path, d := range onShopsim {
			g.Expect(byPath).To(HaveKey(path))
			g.Expect(byPath[path].ID).To(Equal(d.ID), "the ID of %s", path)
		}
		g.Expect(byPath["客服部/售后"].Members).To(BeEquivalentTo(1))
		g.Expect(byPath["运营部"].Members).To(BeEquivalentTo(1))
		g.Expect(byPath["财务部"].Members).To(BeEquivalentTo(0))
	}).Should(Succeed())

	// Every department write is in shopsim's audit log with the Shop behind it.
	entries, err := hongxing.Audit()
	g.Expect(err).NotTo(HaveOccurred())
	created := 0
	for _, e := range entries {
		if e.Action == "department.create" {
			g.Expect(e.Source).To(Equal("Shop/" + ns + "/hongxing"))
			created++
		}
	}
	g.Expect(created).To(BeNumerically(">=", 5))
}

// TestTOPDepartments: through Taobao's own open API the departments are
// read (taobao.subuser.departments.get on shopsim's /router/rest) and
// shown, and a declared one TOP cannot create is reported in
// PlatformLimits; the Shop stays Ready and nothing is created or deleted.
func TestTOPDepartments(t *testing.T) {
	g := begin(t)
	samples(t) // the sample tree is on hongxing
	ns := namespace(t, "e2e-top-departments")
	before, err := departmentsByPath(hongxing)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(before).To(HaveKey("客服部/售后"))

	kubectlIn(t, shopYAML(hongxing, "hongxing-top", "top-departments", `  api: TOP
  departments:
    - name: 客服部
      children:
        - name: 售后
    - name: 仓储部
`), "apply", "-n", ns, "-f", "-")
	waitReady(t, ns, "shop/top-departments")
	kubectl(t, "wait", "-n", ns, "shop/top-departments", "--timeout=60s", "--for=condition=PlatformLimits=True")
	limits := jsonpath(t, ns, "shop/top-departments", `{.status.conditions[?(@.type=="PlatformLimits")].message}`)
	g.Expect(limits).To(ContainSubstring("departments (仓储部)"))
	g.Expect(limits).NotTo(ContainSubstring("客服部"))

	var status []shopv1alpha1.DepartmentStatus
	g.Expect(json.Unmarshal([]byte(jsonpath(t, ns, "shop/top-departments", "{.status.departments}")), &status)).To(Succeed())
	g.Expect(status).To(ContainElement(And(HaveField("Path", "客服部/售后"), HaveField("ID", before["客服部/售后"].ID),
		HaveField("Managed", false))))
	after, err := departmentsByPath(hongxing)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(after).To(Equal(before), "nothing created or deleted through TOP")
}

// shopYAML is a Shop named name for the shopsim shop s, with its API
// credentials in Secret secret, and more spec fields (indented YAML).
func shopYAML(s shop, secret, name, spec string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %[1]s
  labels:
    shop.subaccount.io/secret: shop-api
type: Opaque
stringData:
  appKey: %[3]q
  appSecret: %[4]q
  accessToken: %[5]q
---
apiVersion: shop.subaccount.io/v1alpha1
kind: Shop
metadata:
  name: %[2]s
spec:
  platform: %[6]s
  mainAccount: %[7]s
  endpoint: %[8]s
  credentialsSecretRef:
    name: %[1]s
%[9]s`, secret, name, s.AppKey, s.AppSecret, s.AccessToken, s.Platform, s.MainAccount, env.ShopsimURL, spec)
}
