package main

import (
	"context"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

func TestActivity(t *testing.T) {
	ns := newNamespace(t)
	newShop(t, ns, "hongxing", shopv1alpha1.PlatformTaobao, nil)
	at := func(s string) metav1.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return metav1.Time{Time: tm}
	}
	login, op := at("2026-11-30T08:00:00Z"), at("2026-11-30T09:15:00Z")
	newSubAccount(t, ns, "xiaohong", "hongxing", func(sa *shopv1alpha1.SubAccount) {
		sa.Status.LoginName = "hongxing:xiaohong"
		sa.Status.LastLogin, sa.Status.LastActivity = &login, &op
		sa.Status.RecentActivity = []shopv1alpha1.ActivityEntry{
			{Time: op, Kind: "Operation", Operation: "item.update", Target: "item 6123"},
			{Time: at("2026-11-30T08:30:00Z"), Kind: "Presence", Presence: "Break"},
			{Time: login, Kind: "Login"},
		}
		apimeta.SetStatusCondition(&sa.Status.Conditions, metav1.Condition{Type: shopv1alpha1.ConditionInactive,
			Status: metav1.ConditionTrue, Reason: shopv1alpha1.ReasonInactive, Message: "last used 2026-11-30T09:15:00Z, longer ago than 72h"})
	})
	r := plugin(t, ns, "activity", "xiaohong")
	expectOK(t, r)
	contains(t, r.stdout,
		"xiaohong (hongxing:xiaohong, shop hongxing)\n",
		"last login:     2026-11-30T08:00:00Z (",
		"last activity:  2026-11-30T09:15:00Z (",
		"inactive:       YES (last used 2026-11-30T09:15:00Z, longer ago than 72h)\n",
		"2026-11-30T09:15:00Z  Operation  item.update item 6123\n",
		"2026-11-30T08:30:00Z  Presence   Break\n",
		"2026-11-30T08:00:00Z  Login      -\n")
	if strings.Index(r.stdout, "09:15:00Z  Operation") > strings.Index(r.stdout, "08:00:00Z  Login") {
		t.Errorf("not newest first:\n%s", r.stdout)
	}

	// Nothing seen yet, on a shop whose feed is not available.
	shop := &shopv1alpha1.Shop{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hongxing"}, shop); err != nil {
		t.Fatal(err)
	}
	apimeta.SetStatusCondition(&shop.Status.Conditions, metav1.Condition{Type: shopv1alpha1.ConditionActivityMonitored,
		Status: metav1.ConditionFalse, Reason: shopv1alpha1.ReasonNotSupported, Message: "the platform gateway has no activity feed"})
	if err := k8s.Status().Update(context.Background(), shop); err != nil {
		t.Fatal(err)
	}
	newSubAccount(t, ns, "daming", "hongxing", nil)
	r = plugin(t, ns, "activity", "daming")
	expectOK(t, r)
	contains(t, r.stdout, "the shop's activity feed is not available: the platform gateway has no activity feed\n",
		"last login:     never seen\n", "no activity seen yet\n")
	expectFail(t, plugin(t, ns, "activity", "nobody"), `subaccount "nobody" not found`)
}
