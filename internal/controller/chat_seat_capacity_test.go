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
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// douyinSeatAgent creates a Douyin agent with a seat of the given capacity
// and verifies its phone; it returns once the agent is Ready. optIn sets
// the Shop's signInAsAgent: StartingCapacity.
func douyinSeatAgent(t *testing.T, capacity int32, optIn bool) (testShop, *shopv1alpha1.SubAccount) {
	t.Helper()
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Douyin, 10, func(s *shopv1alpha1.Shop) {
		if optIn {
			s.Spec.SignInAsAgent = shopv1alpha1.SignInAsAgentStartingCapacity
		}
	})
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	sa := newSubAccount(ns, "agent", "cs")
	sa.Spec.Phone = uniquePhone()
	sa.Spec.ChatSeat = &shopv1alpha1.ChatSeatSpec{Chat: true, Capacity: capacity, Presence: shopv1alpha1.PresenceOnline}
	create(t, sa)
	if optIn && capacity != memory.DefaultSeatCapacity {
		cond := waitCondition(t, sa, shopv1alpha1.ConditionSeatCapacityApplied, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
		NewWithT(t).Expect(cond.Message).To(ContainSubstring("once its phone is verified"))
	}
	NewWithT(t).Expect(sa.Status.Chat).To(BeFalse(), "no chat before the account is authorised")
	verifyPhone(t, sa)
	waitCurrent(t, sa)
	NewWithT(t).Expect(sa.Status.Chat).To(BeTrue(), "chat on once authorised")
	return ts, sa
}

// capacityAudit lists the shop's account.seat.capacity audit entries (the
// operator signed in as the agent), checking their source.
func capacityAudit(t *testing.T, ts testShop, sa *shopv1alpha1.SubAccount) []string {
	var out []string
	for _, e := range engine.Audit(ts.platform, ts.main) {
		if e.Action == memory.ActionSeatCapacity {
			NewWithT(t).Expect(e.Source).To(Equal("SubAccount/" + sa.Namespace + "/" + sa.Name))
			out = append(out, e.Detail)
		}
	}
	return out
}

// By default the operator never acts as an employee: on Douyin only the
// agent sets the reception capacity, so the spec's value is intent only,
// the condition shows the gap, and nothing signs in as the agent. Once the
// agent sets it, status shows it and the gap closes.
func TestDouyinCapacityIsTheAgents(t *testing.T) {
	g := NewWithT(t)
	ts, sa := douyinSeatAgent(t, 25, false)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionSeatCapacityApplied, metav1.ConditionFalse, shopv1alpha1.ReasonAgentOwned)
	g.Expect(cond.Message).To(And(ContainSubstring("only the agent"), ContainSubstring("intent only"),
		ContainSubstring("the agent's is 10"), ContainSubstring("Nothing is retried")))
	g.Expect(sa.Status.ChatSeatCapacity).To(BeEquivalentTo(memory.DefaultSeatCapacity))
	g.Expect(mustAccount(t, ts, sa.Spec.AccountName).Seat.Capacity).To(BeEquivalentTo(memory.DefaultSeatCapacity))
	g.Expect(capacityAudit(t, ts, sa)).To(BeEmpty(), "the operator never signed in as the agent")
	for _, e := range eventsFor(t, sa) {
		g.Expect(e.Reason).NotTo(Equal("SeatCapacitySet"))
	}

	// The agent sets 25 in Feige: the next drift check shows it.
	_, err := engine.SetSeatAsAgent(ts.platform, ts.main, sa.Status.AccountID, "", 25)
	g.Expect(err).NotTo(HaveOccurred())
	requestDriftCheck(t, sa.Namespace)
	cond = waitCondition(t, sa, shopv1alpha1.ConditionSeatCapacityApplied, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(cond.Message).To(ContainSubstring("reception capacity 25, as the spec asks"))
	g.Expect(sa.Status.ChatSeatCapacity).To(BeEquivalentTo(25))
	g.Expect(capacityAudit(t, ts, sa)).To(BeEmpty())
}

// With the Shop's opt-in (signInAsAgent: StartingCapacity) the operator
// signs in as the agent to set the starting capacity, once per spec value:
// the audit says it was done on the agent's behalf, and the agent's later
// change stands.
func TestDouyinStartingCapacityOptIn(t *testing.T) {
	g := NewWithT(t)
	ts, sa := douyinSeatAgent(t, 25, true)
	g.Expect(sa.Status.ChatSeatCapacity).To(BeEquivalentTo(25))
	cond := waitCondition(t, sa, shopv1alpha1.ConditionSeatCapacityApplied, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(cond.Message).To(ContainSubstring("on the agent's behalf"))
	acct := mustAccount(t, ts, sa.Spec.AccountName)
	g.Expect(acct.Seat).To(Equal(&platform.Seat{Chat: true, Capacity: 25, Presence: platform.PresenceOnline}))
	g.Expect(capacityAudit(t, ts, sa)).To(Equal([]string{
		"reception capacity 10 -> 25, set by the API caller on the sub-account's behalf, signed in with its login"}))
	eventuallyEvents(t, sa, ContainElement(And(HaveField("Reason", "SeatCapacitySet"),
		HaveField("Note", ContainSubstring("on the agent's behalf")))))

	// The agent lowers it to 15: shown, never put back.
	_, err := engine.SetSeatAsAgent(ts.platform, ts.main, sa.Status.AccountID, "", 15)
	g.Expect(err).NotTo(HaveOccurred())
	requestDriftCheck(t, sa.Namespace)
	g.Eventually(func() int32 {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return sa.Status.ChatSeatCapacity
	}, timeout, interval).Should(BeEquivalentTo(15))
	cond = waitCondition(t, sa, shopv1alpha1.ConditionSeatCapacityApplied, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(cond.Message).To(ContainSubstring("the agent has since set 15, which stands"))
	g.Expect(mustAccount(t, ts, sa.Spec.AccountName).Seat.Capacity).To(BeEquivalentTo(15))
	g.Expect(capacityAudit(t, ts, sa)).To(HaveLen(1))

	// A new spec value is a new starting value: set once.
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.ChatSeat.Capacity = 40 })
	g.Eventually(func() int32 { return mustAccount(t, ts, sa.Spec.AccountName).Seat.Capacity }, timeout, interval).Should(BeEquivalentTo(40))
	waitCurrent(t, sa)
	g.Expect(sa.Status.ChatSeatCapacity).To(BeEquivalentTo(40))
	g.Expect(capacityAudit(t, ts, sa)).To(HaveLen(2))

	// The password never reaches status, conditions or Events.
	pw := string(secretOf(t, sa).Data[shopv1alpha1.SecretKeyPassword])
	g.Expect(pw).NotTo(BeEmpty())
	g.Expect(conditionsOf(sa)).NotTo(ContainSubstring(pw))
	for _, e := range eventsFor(t, sa) {
		g.Expect(e.Note).NotTo(ContainSubstring(pw))
	}
}

// Under the opt-in, when the platform refuses the sub-account's own login although its
// password logs in, the SubAccount stalls with LoginRejected; when the
// password does not log in (the platform lost it: a crash, a change in the
// back office), the credential check repairs it and the capacity is set.
func TestDouyinCapacityLoginRejectedAndRepaired(t *testing.T) {
	g := NewWithT(t)
	ts, sa := douyinSeatAgent(t, 20, true)
	pw := string(secretOf(t, sa).Data[shopv1alpha1.SecretKeyPassword])

	engine.SetFault(func(method string) error {
		if method == "SetSeatCapacity" {
			return platform.NewError(platform.ErrUnauthorized, "actAs", "risk control: new device")
		}
		return nil
	})
	t.Cleanup(func() { engine.SetFault(nil) })
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.ChatSeat.Capacity = 30 })
	cond := waitCondition(t, sa, shopv1alpha1.ConditionSeatCapacityApplied, metav1.ConditionFalse, shopv1alpha1.ReasonLoginRejected)
	g.Expect(cond.Message).To(ContainSubstring("risk control: new device"))
	g.Expect(cond.Message).To(ContainSubstring(sa.Status.SecretName))
	g.Expect(cond.Message).NotTo(ContainSubstring(pw))
	waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonLoginRejected)
	engine.SetFault(nil)

	// The platform loses the password; the next change repairs it.
	g.Expect(ts.client(t).SetPassword(context.Background(), sa.Status.AccountID, "changed-in-back-office")).To(Succeed())
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.ChatSeat.Capacity = 35 })
	g.Eventually(func() int32 { return mustAccount(t, ts, sa.Spec.AccountName).Seat.Capacity }, timeout, interval).Should(BeEquivalentTo(35))
	waitCurrent(t, sa)
	eventuallyEvents(t, sa, ContainElement(HaveField("Reason", "PasswordRepaired")))
	ok, err := ts.client(t).CheckCredentials(context.Background(), sa.Spec.AccountName, pw)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue(), "the Secret's password logs in again")
}

// Under the opt-in, a disabled Douyin account cannot sign in: its starting capacity waits, without
// blocking Ready (disabled is what the spec asks for).
func TestDouyinCapacityWaitsWhileDisabled(t *testing.T) {
	g := NewWithT(t)
	ts, sa := douyinSeatAgent(t, 10, true) // the default: nothing to set
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Disabled = true; s.Spec.ChatSeat.Capacity = 12 })
	cond := waitCondition(t, sa, shopv1alpha1.ConditionSeatCapacityApplied, metav1.ConditionFalse, shopv1alpha1.ReasonAccountDisabled)
	g.Expect(cond.Message).To(ContainSubstring("when the account is enabled"))
	waitCurrent(t, sa)
	g.Expect(mustAccount(t, ts, sa.Spec.AccountName).Seat.Capacity).To(BeEquivalentTo(memory.DefaultSeatCapacity))
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Disabled = false })
	g.Eventually(func() int32 { return mustAccount(t, ts, sa.Spec.AccountName).Seat.Capacity }, timeout, interval).Should(BeEquivalentTo(12))
}

// ownLogin reads the login from the credentials Secret: a missing Secret,
// a missing key, or an older revision than the one just written each get a
// clear outcome, never the password.
func TestOwnLogin(t *testing.T) {
	sa := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "agent"}}
	secret := func(data map[string]string, rev string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "agent-credentials",
			Annotations: map[string]string{shopv1alpha1.AnnotationPasswordRevision: rev}}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	full := map[string]string{shopv1alpha1.SecretKeyUsername: "main:agent", shopv1alpha1.SecretKeyPassword: "Secret-pa55"}
	tests := []struct {
		name   string
		objs   []client.Object
		reason string
	}{
		{"missing", nil, shopv1alpha1.ReasonSecretNotFound},
		{"no password", []client.Object{secret(map[string]string{shopv1alpha1.SecretKeyUsername: "main:agent"}, "2")}, shopv1alpha1.ReasonSecretInvalid},
		{"older revision", []client.Object{secret(full, "1")}, shopv1alpha1.ReasonProgressing},
		{"ok", []client.Object{secret(full, "2")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			r := &SubAccountReconciler{Client: fake.NewClientBuilder().WithScheme(scheme).WithObjects(tt.objs...).Build()}
			login, err := r.ownLogin(context.Background(), sa, credentials{revision: 2})
			if tt.reason == "" {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(login).To(Equal(platform.SubAccountLogin{Name: "main:agent", Password: "Secret-pa55"}))
				return
			}
			var o *outcome
			g.Expect(err).To(BeAssignableToTypeOf(o))
			o = err.(*outcome)
			g.Expect(o.reason).To(Equal(tt.reason))
			g.Expect(o.message).To(ContainSubstring("agent-credentials"))
			g.Expect(strings.Contains(o.message, "Secret-pa55")).To(BeFalse())
			g.Expect(o.stalled).To(Equal(tt.reason == shopv1alpha1.ReasonSecretInvalid))
			g.Expect(o.requeueAfter).To(BeNumerically(">", time.Duration(0)))
		})
	}
}
