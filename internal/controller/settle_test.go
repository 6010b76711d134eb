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

// Issue 15, item 6: names and fields at and around every limit, generated
// from a seed, through admission and the real reconcilers (envtest, the
// memory platform). The parsers have fuzz targets of their own; this is
// the whole path, where a value that passes admission but can never be
// written (a label value, a Secret name) used to leave an object
// retrying forever.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// The generator's seed and size: the defaults run in make test; another
// seed or a larger count explores further (SETTLE_SEED=7 SETTLE_COUNT=200).
const (
	settleSeedVar  = "SETTLE_SEED"
	settleCountVar = "SETTLE_COUNT"
	// settleTimeout bounds how long the generated objects may take to
	// settle: every reconcile here is against the in-memory platform.
	settleTimeout = 90 * time.Second
)

// TestGeneratedObjectsSettle is the property: every generated Shop, Role
// and SubAccount is refused at admission with a message naming the field,
// or reaches Ready, or Stalled with a message, or waits (with a message)
// on something that is itself not Ready or on a person's SMS code; none is
// left retrying (Reconciling with Progressing, PlatformError and the
// like). And no Secret value, password or SMS code appears in any status
// or Event.
func TestGeneratedObjectsSettle(t *testing.T) {
	seed, count := uint64(15), 40
	if v := os.Getenv(settleSeedVar); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", settleSeedVar, v, err)
		}
		seed = n
	}
	if v := os.Getenv(settleCountVar); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", settleCountVar, v)
		}
		count = n
	}
	t.Logf("seed %d, %d objects (repeat with %s=%d %s=%d)", seed, count, settleSeedVar, seed, settleCountVar, count)
	ctx := context.Background()
	ns := newNamespace(t)
	gen := newObjectGen(t, ns, seed)

	var created []client.Object
	refused := map[string]bool{} // kind/name refused at admission
	for i := range count {
		obj := gen.next(i)
		err := k8s.Create(ctx, obj)
		if err == nil {
			created = append(created, obj)
			continue
		}
		refused[kindOf(obj)+"/"+obj.GetName()] = true
		if testing.Verbose() {
			t.Logf("refused: %s %.12s…: %.300s", kindOf(obj), obj.GetName(), err)
		}
		if !apierrors.IsInvalid(err) {
			t.Errorf("%s %q: refused with %v, want 422 Invalid naming the field", kindOf(obj), obj.GetName(), err)
			continue
		}
		// A clear message: every cause names its field and says what is
		// wrong with it.
		var status apierrors.APIStatus
		_ = errorsAs(err, &status)
		for _, c := range status.Status().Details.Causes {
			if c.Field == "" || strings.TrimSpace(c.Message) == "" {
				t.Errorf("%s %q: refused with a cause that names no field or says nothing: %+v (%v)", kindOf(obj), obj.GetName(), c, err)
			}
		}
	}
	t.Logf("%d created, %d refused at admission", len(created), len(refused))

	var unsettled []string
	NewWithT(t).Eventually(func() []string {
		unsettled = unsettled[:0]
		for _, obj := range created {
			if why := settled(ctx, obj, refused); why != "" {
				unsettled = append(unsettled, why)
			}
		}
		return unsettled
	}, settleTimeout, 250*time.Millisecond).Should(BeEmpty(), "objects neither Ready, Stalled nor waiting on something not Ready")

	outcomes := map[string]int{}
	for _, obj := range created {
		ready := apimeta.FindStatusCondition(obj.(conditioned).GetConditions(), shopv1alpha1.ConditionReady)
		outcomes[kindOf(obj)+" "+ready.Reason]++
		if testing.Verbose() && ready.Status != metav1.ConditionTrue {
			t.Logf("%s %.12s…: %s: %.300s", kindOf(obj), obj.GetName(), ready.Reason, ready.Message)
		}
	}
	t.Logf("outcomes: %v", outcomes)

	// Nothing secret in what people read.
	secrets := gen.secretValues(ctx)
	for _, obj := range created {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatalf("reading %s %q: %v", kindOf(obj), obj.GetName(), err)
		}
		status, err := json.Marshal(statusOf(obj))
		if err != nil {
			t.Fatal(err)
		}
		if what := leaked(string(status), secrets); what != "" {
			t.Errorf("%s %q: status holds %s", kindOf(obj), obj.GetName(), what)
		}
	}
	events := &eventsv1.EventList{}
	if err := k8s.List(ctx, events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		if what := leaked(e.Note, secrets); what != "" {
			t.Errorf("Event %s (%s) about %s %q holds %s", e.Name, e.Reason, e.Regarding.Kind, e.Regarding.Name, what)
		}
	}
}

// errorsAs is errors.As for the API status interface.
func errorsAs(err error, target *apierrors.APIStatus) bool {
	s, ok := err.(apierrors.APIStatus)
	if ok {
		*target = s
	}
	return ok
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *shopv1alpha1.Shop:
		return "Shop"
	case *shopv1alpha1.Role:
		return "Role"
	case *shopv1alpha1.SubAccount:
		return "SubAccount"
	}
	return fmt.Sprintf("%T", obj)
}

func statusOf(obj client.Object) any {
	switch o := obj.(type) {
	case *shopv1alpha1.Shop:
		return o.Status
	case *shopv1alpha1.Role:
		return o.Status
	case *shopv1alpha1.SubAccount:
		return o.Status
	}
	return nil
}

// waitingOn is what an object may wait for without a person's action
// being the only way on: another object becoming Ready.
var waitingOn = map[string]bool{
	shopv1alpha1.ReasonShopNotFound: true, shopv1alpha1.ReasonShopNotReady: true,
	shopv1alpha1.ReasonRoleNotFound: true, shopv1alpha1.ReasonRoleNotReady: true,
	shopv1alpha1.ReasonDepartmentNotFound: true,
}

// settled says why obj has not settled, or "" when it has (see
// TestGeneratedObjectsSettle).
func settled(ctx context.Context, obj client.Object, refused map[string]bool) string {
	key := client.ObjectKeyFromObject(obj)
	if err := k8s.Get(ctx, key, obj); err != nil {
		return fmt.Sprintf("%s %q: %v", kindOf(obj), obj.GetName(), err)
	}
	c := obj.(conditioned)
	conds := c.GetConditions()
	ready := apimeta.FindStatusCondition(conds, shopv1alpha1.ConditionReady)
	desc := fmt.Sprintf("%s %q: %s", kindOf(obj), obj.GetName(), conditionsOf(obj))
	switch {
	case ready == nil:
		return desc + " (no Ready condition yet)"
	case ready.ObservedGeneration != obj.GetGeneration():
		return desc + " (Ready is for an older generation)"
	case ready.Status == metav1.ConditionTrue:
		return ""
	case strings.TrimSpace(ready.Message) == "":
		return desc + " (not Ready, and no message says why)"
	case apimeta.IsStatusConditionTrue(conds, shopv1alpha1.ConditionStalled):
		return ""
	case ready.Reason == shopv1alpha1.ReasonPendingVerification:
		return "" // a person hands the SMS code over
	case !waitingOn[ready.Reason]:
		return desc + " (retrying: neither Ready, Stalled nor waiting on another object)"
	}
	// Waiting on another object: it must itself be missing or not Ready.
	var deps []client.Object
	switch o := obj.(type) {
	case *shopv1alpha1.Role:
		deps = append(deps, &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: o.Spec.ShopRef.Name}})
	case *shopv1alpha1.SubAccount:
		deps = append(deps, &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: o.Spec.ShopRef.Name}})
		for _, r := range o.Spec.Roles {
			deps = append(deps, &shopv1alpha1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: r.Name}})
		}
	}
	for _, d := range deps {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d)
		if apierrors.IsNotFound(err) || (err == nil && !apimeta.IsStatusConditionTrue(d.(conditioned).GetConditions(), shopv1alpha1.ConditionReady)) {
			return ""
		}
	}
	return desc + " (waiting, yet everything it names is Ready)"
}

// leaked names the secret value s contains, or "".
func leaked(s string, secrets map[string]string) string {
	for v, what := range secrets {
		if strings.HasPrefix(what, "SMS code") {
			// Six digits: only as a number of its own, not inside a phone.
			if regexp.MustCompile(`(^|\D)` + v + `(\D|$)`).MatchString(s) {
				return what
			}
			continue
		}
		if strings.Contains(s, v) {
			return what
		}
	}
	return ""
}

// objectGen generates Shops, Roles and SubAccounts whose names and fields
// sit at, just under and just over every limit the API and the platforms
// have, plus the Secrets and platform shops they need.
type objectGen struct {
	t    *testing.T
	ns   string
	rnd  *rand.Rand
	base map[platform.Name]string // a working Shop per platform
	// shops and roles generated so far (whether admission took them or
	// not): later objects refer to them.
	shops, roles []string
	shopPlatform map[string]platform.Name
	rolesOf      map[string][]string // shop → roles
	phones       []string
	// invalid is how many of the current object's fields may still take a
	// value admission refuses: one object in three gets one, so that most
	// objects reach the controllers with every other field at its limit.
	invalid int
}

func newObjectGen(t *testing.T, ns string, seed uint64) *objectGen {
	g := &objectGen{t: t, ns: ns, rnd: rand.New(rand.NewPCG(seed, seed^0x15)),
		base: map[platform.Name]string{}, shopPlatform: map[string]platform.Name{}, rolesOf: map[string][]string{}}
	// A working Shop and Role per platform, so that most generated objects
	// get as far as the platform.
	for _, p := range []platform.Name{platform.Taobao, platform.Pinduoduo, platform.Douyin} {
		name := "base-" + string(p)
		newShopWith(t, ns, name, "main-"+randomSuffix(), p, 100, func(s *shopv1alpha1.Shop) {
			s.Spec.Adoption = &shopv1alpha1.ShopAdoption{Policy: shopv1alpha1.ShopAdoptionAny}
		})
		role := newRole(ns, name+"-cs", "客服", "customer-service")
		role.Spec.ShopRef.Name = name
		create(t, role)
		g.base[p] = name
		g.shopPlatform[name] = p
		g.rolesOf[name] = []string{role.Name}
	}
	return g
}

func (g *objectGen) intn(n int) int          { return g.rnd.IntN(n) }
func (g *objectGen) chance(percent int) bool { return g.rnd.IntN(100) < percent }
func pickOf[T any](g *objectGen, xs ...T) T  { return xs[g.rnd.IntN(len(xs))] }

// edge picks one of the valid values, or now and then (while the object
// may take one) one that admission refuses.
func edge[T any](g *objectGen, valid []T, invalid ...T) T {
	if g.invalid > 0 && len(invalid) > 0 && g.chance(15) {
		g.invalid--
		return pickOf(g, invalid...)
	}
	return pickOf(g, valid...)
}

// around is a length at or just under limit, a small one, or now and
// then just over it.
func (g *objectGen) around(limit int) int {
	return edge(g, []int{1, 2, limit - 1, limit, limit}, limit+1)
}

// dnsName is a unique DNS subdomain name of about n characters (n above
// 253 is refused by the API server), now and then with upper case or '_'
// (refused too).
func (g *objectGen) dnsName(i, n int) string {
	prefix := fmt.Sprintf("g%02d", i)
	var b strings.Builder
	b.WriteString(prefix)
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	for b.Len() < n {
		last := b.String()[b.Len()-1]
		if b.Len() < n-1 && last != '-' && last != '.' && g.chance(10) {
			b.WriteByte(pickOf[byte](g, '-', '.'))
			continue
		}
		b.WriteByte(alnum[g.intn(len(alnum))])
	}
	s := b.String()
	if bad := edge(g, []string{""}, "A", "_"); bad != "" {
		s = s[:len(s)-1] + bad
	}
	return s
}

// alphabets for free text, one character (code point: what the API's
// length limits count) each: ASCII, Chinese, emoji (4 bytes, a surrogate
// pair in JSON) and the joiner that makes one picture of two, combining
// marks, right-to-left, zero-width and controls.
var alphabets = [][]string{
	{"a", "b", "Z", "0", "9"},
	{"客", "服", "小", "红", "售", "前"},
	{"😀", "🛒", "👩", "\u200d", "💻"},
	{"e", "\u0301", "n", "\u0303"},
	{"ש", "ל", "ו", "ם"},
	{"\u200b", "\u200d", "\ufeff"},
	{" ", "\t", "\n"},
}

// text is free text of n characters from one or two alphabets.
func (g *objectGen) text(n int) string {
	a, b := pickOf(g, alphabets...), pickOf(g, alphabets...)
	var out strings.Builder
	for range n {
		src := a
		if g.chance(20) {
			src = b
		}
		out.WriteString(pickOf(g, src...))
	}
	return out.String()
}

// word is text of letters and digits only (Chinese or ASCII), as account
// and department names take.
func (g *objectGen) word(n int) string {
	letters := pickOf(g, alphabets[0], alphabets[1], []string{"a", "客", "1", "_", "-", "."})
	var out strings.Builder
	for range n {
		out.WriteString(pickOf(g, letters...))
	}
	return out.String()
}

func (g *objectGen) phone() string {
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + g.intn(10)))
		}
		return b.String()
	}
	p := edge(g, []string{
		"1" + string(byte('3'+g.intn(7))) + digits(9),  // mainland
		"+" + string(byte('1'+g.intn(9))) + digits(6),  // E.164, shortest
		"+" + string(byte('1'+g.intn(9))) + digits(14), // E.164, longest
	},
		"+"+string(byte('1'+g.intn(9)))+digits(15), // one too many
		"12"+digits(9), "1"+digits(11), "+0"+digits(10), "",
	)
	g.phones = append(g.phones, p)
	return p
}

// shopRef names a base Shop (most often), a generated one or none at all.
func (g *objectGen) shopRef() string {
	switch {
	case len(g.shops) > 0 && g.chance(30):
		return pickOf(g, g.shops...)
	case g.chance(3):
		return "no-such-shop"
	}
	return g.base[pickOf(g, platform.Taobao, platform.Pinduoduo, platform.Douyin)]
}

// codes are permission codes: from the shop's catalog (some high-risk),
// unknown ones, and ones the pattern refuses.
func (g *objectGen) codes(p platform.Name) []string {
	cat, err := catalog.For(p)
	if err != nil {
		g.t.Fatal(err)
	}
	// A set (the API refuses a code twice): the catalog's codes in random
	// order, then made-up ones the controller refuses as unknown.
	n := edge(g, []int{0, 1, 3, 20, 500}, 501)
	out := make([]string, 0, n)
	for _, i := range g.rnd.Perm(len(cat.Permissions)) {
		if len(out) == n || (len(out) >= 20 && n < 500) {
			break
		}
		out = append(out, cat.Permissions[i].Code)
	}
	for i := 0; len(out) < n; i++ {
		out = append(out, fmt.Sprintf("made-up-%03d", i))
	}
	if n > 0 && g.chance(10) {
		out[0] = "no-such-code" // refused by the controller
	}
	if n > 0 {
		out[n-1] = edge(g, []string{out[n-1]}, "-bad", strings.Repeat("x", 129), "a b")
	}
	return out
}

// next generates object i: a Shop, a Role or a SubAccount, with what it
// needs created first (its Secrets, its shop on the platform).
func (g *objectGen) next(i int) client.Object {
	g.invalid = 0
	if g.chance(35) {
		g.invalid = 1
	}
	switch {
	case i%5 == 0:
		return g.shop(i)
	case i%5 == 1:
		return g.role(i)
	}
	return g.subAccount(i)
}

func (g *objectGen) shop(i int) client.Object {
	p := pickOf(g, platform.Taobao, platform.Pinduoduo, platform.Douyin)
	name := g.dnsName(i, edge(g, []int{8, 62, 63, 63}, 64, 254))
	main := fmt.Sprintf("m%02d", i) + g.word(g.around(64)-3) + edge(g, []string{""}, ":x")
	creds := platform.Credentials{AppKey: "ak-" + randomSuffix(), AppSecret: "as-" + randomSuffix() + randomSuffix(),
		AccessToken: "at-" + randomSuffix() + randomSuffix()}
	_ = engine.AddShop(memory.ShopSetup{Platform: p, MainAccount: main, Credentials: creds, SeatQuota: 100}) // a main account the platform refuses stays unknown there
	secretName := name + "-api"
	if len(secretName) > 253 {
		secretName = secretName[len(secretName)-253:]
	}
	data := credentialsData(creds)
	labels := map[string]string{shopv1alpha1.LabelSecretRole: shopv1alpha1.SecretRoleShopAPI}
	switch {
	case g.chance(8):
		labels = nil
	case g.chance(8):
		delete(data, shopv1alpha1.SecretKeyAccessToken)
	}
	if g.chance(95) {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: g.ns, Name: strings.TrimLeft(secretName, "-.")}, StringData: data}
		secret.Labels = labels
		if err := k8s.Create(context.Background(), secret); err != nil && !apierrors.IsInvalid(err) {
			g.t.Fatalf("creating Secret %q: %v", secret.Name, err)
		}
		secretName = secret.Name
	}
	shop := &shopv1alpha1.Shop{
		ObjectMeta: metav1.ObjectMeta{Namespace: g.ns, Name: name},
		Spec: shopv1alpha1.ShopSpec{
			Platform: shopv1alpha1.Platform(p), MainAccount: main,
			CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: secretName},
			RateLimit: shopv1alpha1.RateLimit{RequestsPerSecond: int32(edge(g, []int{1000, 10000}, 10001)),
				Burst: int32(edge(g, []int{1000, 10000}, 10001))},
		},
	}
	if g.chance(20) {
		shop.Spec.Seats = &shopv1alpha1.ShopAccountQuota{Included: int32(edge(g, []int{0, 1, 10000}, 10001)),
			Purchased: int32(edge(g, []int{0, 10000}, 10001))}
	}
	if g.chance(15) {
		shop.Spec.DriftCheckInterval = &metav1.Duration{Duration: edge(g, []time.Duration{30 * time.Second, 24 * time.Hour}, 29*time.Second)}
	}
	if g.chance(15) {
		shop.Spec.Endpoint = edge(g, []string{"https://" + strings.Repeat("a", 63) + ".example.com", "http://127.0.0.1:1",
			"https://example.com/" + strings.Repeat("p", 2028)}, "ftp://example.com", "https://example.com/"+strings.Repeat("p", 2029))
	}
	if p == platform.Taobao || g.chance(10) {
		shop.Spec.Departments = g.departments()
	}
	if g.chance(40) {
		for range edge(g, []int{1, 2, 10}, 11) {
			shop.Spec.NotificationContacts = append(shop.Spec.NotificationContacts,
				shopv1alpha1.NotificationContact{Name: g.text(g.around(32)), Phone: g.phone()})
		}
	}
	if g.chance(30) {
		shop.Spec.Adoption = &shopv1alpha1.ShopAdoption{Policy: pickOf(g, shopv1alpha1.ShopAdoptionAny, shopv1alpha1.ShopAdoptionNever)}
	}
	g.shops = append(g.shops, name)
	g.shopPlatform[name] = p
	return shop
}

// departments is a department tree at its limits: 50 top-level, 200 in
// all, names of 32 characters, names with '/' or only spaces.
func (g *objectGen) departments() []shopv1alpha1.Department {
	name := func() string {
		return edge(g, []string{g.word(g.around(32))}, "a/b", "   ")
	}
	var out []shopv1alpha1.Department
	for range edge(g, []int{1, 3, 50}, 51) {
		d := shopv1alpha1.Department{Name: name()}
		if g.chance(20) {
			for range edge(g, []int{1, 4}, 50) {
				sub := shopv1alpha1.SubDepartment{Name: name()}
				if g.chance(10) {
					sub.Children = append(sub.Children, shopv1alpha1.LeafDepartment{Name: name()})
				}
				d.Children = append(d.Children, sub)
			}
		}
		out = append(out, d)
	}
	return out
}

func (g *objectGen) role(i int) client.Object {
	shop := g.shopRef()
	p := g.shopPlatform[shop]
	if p == "" {
		p = platform.Taobao
	}
	r := &shopv1alpha1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: g.ns, Name: g.dnsName(i, edge(g, []int{8, 63, 64, 253}, 254))},
		Spec: shopv1alpha1.RoleSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: shop},
			DisplayName: g.text(g.around(64)), Description: g.text(edge(g, []int{0, 256}, 257)),
			AllowHighRisk: g.chance(30), DeletionPolicy: pickOf(g, shopv1alpha1.DeletionPolicyDelete, shopv1alpha1.DeletionPolicyRetain)},
	}
	if g.chance(60) {
		r.Spec.Template = shopv1alpha1.RoleTemplate(pickOf(g, catalog.TemplateNames()...))
	}
	if !g.chance(30) || r.Spec.Template == "" {
		r.Spec.Permissions = g.codes(p)
	}
	g.roles = append(g.roles, r.Name)
	g.rolesOf[shop] = append(g.rolesOf[shop], r.Name)
	return r
}

func (g *objectGen) subAccount(i int) client.Object {
	shop := g.shopRef()
	p := g.shopPlatform[shop]
	if p == "" {
		p = platform.Taobao
	}
	sa := &shopv1alpha1.SubAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: g.ns, Name: g.dnsName(i, edge(g, []int{8, 40, 62, 63, 63}, 64))},
		Spec: shopv1alpha1.SubAccountSpec{
			ShopRef:     shopv1alpha1.LocalObjectReference{Name: shop},
			AccountName: fmt.Sprintf("a%02d", i) + g.word(g.around(32)-3),
			DisplayName: g.text(edge(g, []int{0, 1, 20, 32}, 33)),
			Employee: shopv1alpha1.Employee{Name: g.text(edge(g, []int{0, 64}, 65)), Number: g.word(edge(g, []int{0, 32}, 33)),
				Department: g.departmentPath()},

			AllowHighRisk:  g.chance(20),
			Disabled:       g.chance(10),
			DeletionPolicy: pickOf(g, shopv1alpha1.DeletionPolicyDelete, shopv1alpha1.DeletionPolicyDisable, shopv1alpha1.DeletionPolicyRetain),
		},
	}
	if p == platform.Douyin || g.chance(30) {
		sa.Spec.Phone = g.phone()
	}
	sa.Spec.AccountName = edge(g, []string{sa.Spec.AccountName}, "", "a:b", "a b", "-a", strings.Repeat("客", 33), "😀")
	// Roles: mostly the base Shop's working one (or none), so that most
	// SubAccounts get as far as the platform; else the shop's generated
	// ones, or another shop's, missing ones, 20 or 21, twice the same.
	pool := g.rolesOf[shop]
	switch {
	case g.chance(70):
		if len(pool) > 0 {
			sa.Spec.Roles = []shopv1alpha1.LocalObjectReference{{Name: pool[0]}}
		}
	case g.chance(60):
		for range min(len(pool), pickOf(g, 1, 2, 3)) {
			sa.Spec.Roles = append(sa.Spec.Roles, shopv1alpha1.LocalObjectReference{Name: pickOf(g, pool...)})
		}
	default:
		pool = append(slices.Clone(g.roles), "no-such-role")
		for range edge(g, []int{1, 2, 20}, 21) {
			sa.Spec.Roles = append(sa.Spec.Roles, shopv1alpha1.LocalObjectReference{Name: pickOf(g, pool...)})
		}
	}
	slices.SortFunc(sa.Spec.Roles, func(a, b shopv1alpha1.LocalObjectReference) int { return strings.Compare(a.Name, b.Name) })
	if edge(g, []bool{true}, false) {
		sa.Spec.Roles = slices.Compact(sa.Spec.Roles)
	}
	if g.chance(30) {
		sa.Spec.ExtraPermissions = g.codes(p)
	}
	g.password(i, sa)
	if g.chance(30) {
		sa.Spec.CredentialsSecret = g.credentialsSecret(i)
	}
	if g.chance(40) {
		sa.Spec.ChatSeat = g.seat()
	}
	if g.chance(15) {
		sa.Spec.Adoption = pickOf(g, shopv1alpha1.AdoptionPreview, shopv1alpha1.AdoptionAdopt)
	}
	return sa
}

// departmentPath is an employee's department: declared on a base Shop or
// not, long, with empty segments.
func (g *objectGen) departmentPath() string {
	if g.chance(50) {
		return edge(g, []string{""}, "/a", "a/", "a//b")
	}
	parts := make([]string, pickOf(g, 1, 2, 3, 40))
	for i := range parts {
		parts[i] = g.word(pickOf(g, 1, 2, 32))
	}
	p := strings.Join(parts, "/")
	return strings.Trim(p[:min(len(p), edge(g, []int{128}, 129))], "/")
}

// password is a generated one of a length at the limits, or one from a
// Secret that opts in (or not), with a value short, long, or unicode.
func (g *objectGen) password(i int, sa *shopv1alpha1.SubAccount) {
	if g.chance(50) {
		if g.chance(50) {
			sa.Spec.Password.Length = int32(edge(g, []int{6, 128}, 5, 129))
		}
		if g.chance(20) {
			sa.Spec.Password.RotationPeriod = &metav1.Duration{Duration: edge(g, []time.Duration{time.Hour, 24 * 365 * time.Hour}, 59*time.Minute)}
		}
		return
	}
	name := fmt.Sprintf("g%02d-password", i)
	value := pickOf(g, "", "Ab1!x", "Ab1!xy", strings.Repeat("Passw0rd", 30), "客服密码Ab1!"+randomSuffix(), "pw-"+randomSuffix()+randomSuffix())
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: g.ns, Name: name}, StringData: map[string]string{"password": value}}
	if g.chance(85) {
		secret.Labels = map[string]string{shopv1alpha1.LabelSecretRole: shopv1alpha1.SecretRolePassword}
	}
	create(g.t, secret)
	sa.Spec.Password.SecretRef = &shopv1alpha1.SecretKeyReference{Name: name, Key: pickOf(g, "password", "password", "missing")}
}

// credentialsSecret names the credentials Secret (at and over 253
// characters, not a DNS name) and gives it labels and annotations of
// every kind, including ones the API server refuses on a Secret.
func (g *objectGen) credentialsSecret(i int) shopv1alpha1.CredentialsSecretSpec {
	var spec shopv1alpha1.CredentialsSecretSpec
	if g.chance(50) {
		spec.Name = edge(g, []string{g.dnsName(i, pickOf(g, 8, 252, 253))}, g.dnsName(i, 254), "Not_A_Name")
	}
	if g.chance(50) {
		spec.Labels = map[string]string{}
		for range pickOf(g, 1, 3) {
			k := pickOf(g, "team", "example.com/owner", strings.Repeat("k", 63), strings.Repeat("k", 64), "bad key", "客服",
				shopv1alpha1.LabelSecretRole)
			spec.Labels[k] = pickOf(g, "a", strings.Repeat("v", 63), strings.Repeat("v", 64), "not a value", "客服", "")
		}
	}
	if g.chance(50) {
		spec.Annotations = map[string]string{}
		for range pickOf(g, 1, 3) {
			k := pickOf(g, "note", "example.com/owner", "bad key", strings.Repeat("k", 64), shopv1alpha1.AnnotationLogin)
			spec.Annotations[k] = g.text(pickOf(g, 1, 100, 300))
		}
	}
	return spec
}

// seat is a chat seat with capacity, presence and a schedule at the
// limits: time zones real, made up and overlong, windows that wrap, end
// at 24:00 or start where they end, 50 of them or 51.
func (g *objectGen) seat() *shopv1alpha1.ChatSeatSpec {
	seat := &shopv1alpha1.ChatSeatSpec{Chat: g.chance(80), Capacity: int32(edge(g, []int{0, 1, 50}, 51)),
		Presence: pickOf(g, shopv1alpha1.Presence(""), shopv1alpha1.PresenceOnline, shopv1alpha1.PresenceBusy, shopv1alpha1.PresenceBreak)}
	if g.chance(50) {
		return seat
	}
	sched := &shopv1alpha1.ChatSeatSchedule{TimeZone: edge(g, []string{"", "Asia/Shanghai", "UTC", "Mars/Olympus_Mons", "Local",
		"America/Argentina/ComodRivadavia", strings.Repeat("Z", 64)}, strings.Repeat("Z", 65))}
	hhmm := func(end bool) string {
		valid := []string{"00:00", "23:59", "12:30", fmt.Sprintf("%02d:%02d", g.intn(24), g.intn(60))}
		if end {
			valid = append(valid, "24:00")
		}
		return edge(g, valid, "24:00", "9:00")
	}
	for w := range edge(g, []int{1, 2, 50}, 51) {
		win := shopv1alpha1.ScheduleWindow{Name: edge(g, []string{fmt.Sprintf("w%d", w)}, strings.Repeat("w", 64)),
			Start: hhmm(false), End: hhmm(true),
			Presence: edge(g, []shopv1alpha1.Presence{shopv1alpha1.PresenceBusy, shopv1alpha1.PresenceBreak}, shopv1alpha1.PresenceOnline)}
		days := []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
		for _, d := range g.rnd.Perm(7)[:pickOf(g, 0, 1, 5, 7)] {
			win.Days = append(win.Days, days[d])
		}
		if bad := edge(g, []string{""}, "mon", "Mon"); bad != "" {
			win.Days = append(win.Days, bad) // unknown, or twice the same
		}
		sched.Windows = append(sched.Windows, win)
	}
	seat.Schedule = sched
	return seat
}

// secretValues is every secret the namespace's objects could leak: every
// value of every Secret there (API credentials, passwords handed in and
// generated) and every SMS code the platform sent to a generated phone.
// Values shorter than 6 characters are left out: they are not secrets
// anyone could use, and would match by chance.
func (g *objectGen) secretValues(ctx context.Context) map[string]string {
	out := map[string]string{}
	list := &corev1.SecretList{}
	if err := k8s.List(ctx, list, client.InNamespace(g.ns)); err != nil {
		g.t.Fatal(err)
	}
	public := []string{shopv1alpha1.SecretKeyShop, shopv1alpha1.SecretKeyPlatform, shopv1alpha1.SecretKeyAccountName,
		shopv1alpha1.SecretKeyUsername, shopv1alpha1.SecretKeyAppKey}
	for _, s := range list.Items {
		for k, v := range s.Data {
			if len(v) >= 6 && !slices.Contains(public, k) {
				out[string(v)] = fmt.Sprintf("the value of Secret %s, key %s", s.Name, k)
			}
		}
	}
	outbox := engine.Outbox()
	for _, p := range g.phones {
		if m, ok := outbox[p]; ok {
			out[m.Code] = "SMS code sent to " + p
		}
	}
	return out
}

// What the generator found: labels or annotations in spec.credentialsSecret
// that the API server refuses on a Secret (a label key with a space, a
// label value in Chinese, annotations over 256 KiB in all) left the
// SubAccount retrying the Secret's write forever (Progressing), with
// nothing reaching the platform. CEL cannot check them at admission within
// the API server's cost budget (map keys have no length limit in a CRD's
// schema), so the SubAccount is Stalled with the API server's reason.
func TestCredentialsSecretTheAPIServerRefusesIsStalled(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	huge := newSubAccount(ns, "xiaohong", "cs")
	huge.Spec.CredentialsSecret.Annotations = map[string]string{
		"example.com/a": strings.Repeat("a", 200<<10), "example.com/b": strings.Repeat("b", 100<<10)}
	create(t, huge)
	badLabel := newSubAccount(ns, "xiaoming", "cs")
	badLabel.Spec.CredentialsSecret.Labels = map[string]string{"bad key": "客服"}
	create(t, badLabel)

	cond := waitCondition(t, huge, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonInvalidSpec)
	g.Expect(cond.Message).To(HavePrefix(`the API server refuses the credentials Secret "xiaohong-credentials": metadata.annotations: `))
	g.Expect(cond.Message).To(HaveSuffix("; change spec.credentialsSecret"))
	g.Expect(len(cond.Message)).To(BeNumerically("<", 1024), "the API server's causes, each cut, not the values")
	cond = waitCondition(t, badLabel, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonInvalidSpec)
	g.Expect(cond.Message).To(HavePrefix(`the API server refuses the credentials Secret "xiaoming-credentials": metadata.labels: Invalid value: "bad key"`))
	g.Expect(cond.Message).To(ContainSubstring(`metadata.labels: Invalid value: "客服"`))
	g.Expect(engine.Accounts(ts.platform, ts.main)).To(BeEmpty(), "nothing reaches the platform without its Secret")
}
