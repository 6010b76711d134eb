package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// activity prints what the account did, as the operator last read it
// from the platform's activity feed: last login, last activity, whether it
// is inactive, and the recent entries, newest first. It reads the
// SubAccount and its Shop only: the feed is read by the operator, once
// per shop per check, never by the plugin.
func (k *cli) activity(ctx context.Context, args []string) error {
	sa, shop, err := k.subAccountAndShop(ctx, args[0])
	if err != nil {
		return err
	}
	st := sa.Status
	login := st.LoginName
	if login == "" {
		login = sa.Spec.AccountName
	}
	fmt.Fprintf(k.out, "%s (%s, shop %s)\n", sa.Name, login, shop.Name)
	if c := apimeta.FindStatusCondition(shop.Status.Conditions, shopv1alpha1.ConditionActivityMonitored); c != nil && c.Status != metav1.ConditionTrue {
		fmt.Fprintf(k.out, "the shop's activity feed is not available: %s\n", c.Message)
	}
	fmt.Fprintf(k.out, "last login:     %s\n", k.when(st.LastLogin))
	fmt.Fprintf(k.out, "last activity:  %s\n", k.when(st.LastActivity))
	if c := apimeta.FindStatusCondition(st.Conditions, shopv1alpha1.ConditionInactive); c != nil {
		state := "no"
		if c.Status == metav1.ConditionTrue {
			state = "YES"
		}
		fmt.Fprintf(k.out, "inactive:       %s (%s)\n", state, c.Message)
	}
	if len(st.RecentActivity) == 0 {
		fmt.Fprintln(k.out, "no activity seen yet")
		return nil
	}
	tw := tabwriter.NewWriter(k.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tWHAT")
	for _, e := range st.RecentActivity {
		what := e.Presence
		if e.Kind == "Operation" {
			what = strings.TrimSpace(e.Operation + " " + e.Target)
		}
		if what == "" {
			what = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), e.Kind, what)
	}
	return tw.Flush()
}

// when prints a time and how long ago it was, or "never seen".
func (k *cli) when(t *metav1.Time) string {
	if t == nil {
		return "never seen"
	}
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), k.now().Sub(t.Time).Round(time.Minute))
}

// subAccountAndShop reads the SubAccount and the Shop it names.
func (k *cli) subAccountAndShop(ctx context.Context, name string) (*shopv1alpha1.SubAccount, *shopv1alpha1.Shop, error) {
	sa, err := k.getSubAccount(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	shop := &shopv1alpha1.Shop{}
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: sa.Spec.ShopRef.Name}, shop); err != nil {
		return nil, nil, fmt.Errorf("reading shop %q: %w", sa.Spec.ShopRef.Name, err)
	}
	return sa, shop, nil
}
