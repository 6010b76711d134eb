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
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// The activity feed is read by the Shop, one page per check for the whole
// shop (on its driftCheckInterval), and handed to its SubAccounts through
// the DriftTracker: never a platform call per account.
const (
	// activityLookback is how far back the first check after a start
	// reads (TOP keeps its online-status log 30 days); the SubAccounts'
	// status keeps what was read before.
	activityLookback = 30 * 24 * time.Hour
	// activityFollowUp is how soon the next page is read when a check's
	// page was not the last one.
	activityFollowUp = 5 * time.Second
	// recentActivityEntries is how many entries a SubAccount's status
	// keeps.
	recentActivityEntries = 10
)

// activityMemo is where the Shop's reading of the feed stands.
type activityMemo struct {
	// since is the time the next sweep reads from: the newest entry seen,
	// or the lookback before the first sweep.
	since time.Time
	// cursor continues a sweep whose last page was not the end; newest is
	// the newest entry the sweep has seen so far.
	cursor string
	newest time.Time
}

// activityFinding is what the Shop's activity check hands a SubAccount:
// the entries it read about its account, and that the feed was read (the
// SubAccount may see the Shop before its ActivityMonitored condition is
// written).
type activityFinding struct {
	entries []platform.Activity
	read    bool
}

// noteActivity hands a SubAccount the entries the Shop's check read about
// its account and re-queues it.
func (d *DriftTracker) noteActivity(ctx context.Context, sa *shopv1alpha1.SubAccount, entries []platform.Activity) {
	d.mu.Lock()
	if d.activity == nil {
		d.activity = map[client.ObjectKey]activityFinding{}
	}
	k := client.ObjectKeyFromObject(sa)
	d.activity[k] = activityFinding{entries: append(d.activity[k].entries, entries...), read: true}
	d.mu.Unlock()
	select {
	case d.subAccounts <- event.GenericEvent{Object: sa}:
	case <-ctx.Done():
	}
}

// takeActivity returns the entries handed to sa since its last reconcile
// and forgets them.
func (d *DriftTracker) takeActivity(sa *shopv1alpha1.SubAccount) activityFinding {
	if d == nil {
		return activityFinding{}
	}
	k := client.ObjectKeyFromObject(sa)
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.activity[k]
	delete(d.activity, k)
	return out
}

// activityReport is what the Shop's activity step found, for
// ActivityMonitored.
type activityReport struct {
	status          metav1.ConditionStatus
	reason, message string
}

func (a activityReport) condition() stepCondition {
	return stepCondition{status: a.status, reason: a.reason, message: a.message}
}

// activity reads one page of the shop's activity feed when a check is
// due (or a sweep is under way), hands each SubAccount its entries, and
// wakes those whose Inactive condition is to change. A platform without a
// feed (an older gateway) or a failed read is reported on
// ActivityMonitored, never retried before the next check: the rest of the
// Shop does not depend on it.
func (r *ShopReconciler) activity(ctx context.Context, s *shopScope) (stepResult, error) {
	m := &s.memo.activity
	if !s.driftDue && m.cursor == "" {
		return stepResult{}, nil
	}
	pc, err := s.client(ctx)
	if err != nil {
		return stepResult{}, err
	}
	now := r.now()
	if !s.caps.ActivityFeed {
		s.activity = &activityReport{metav1.ConditionFalse, shopv1alpha1.ReasonNotSupported,
			fmt.Sprintf("%s's API has no activity feed: last login and activity are not shown and inactivityThreshold is not applied", s.shop.Spec.Platform)}
		return stepResult{}, nil
	}
	subs := &shopv1alpha1.SubAccountList{}
	if err := r.List(ctx, subs, client.InNamespace(s.shop.Namespace), client.MatchingFields{indexSubAccountShop: s.shop.Name}); err != nil {
		return stepResult{}, fmt.Errorf("listing SubAccounts of the shop: %w", err)
	}
	byID := map[string]*shopv1alpha1.SubAccount{}
	for i := range subs.Items {
		if id := subs.Items[i].Status.AccountID; id != "" && subs.Items[i].DeletionTimestamp.IsZero() {
			byID[id] = &subs.Items[i]
		}
	}
	if m.since.IsZero() {
		m.since = now.Add(-activityLookback)
	}
	q := platform.ActivityQuery{Since: m.since, Cursor: m.cursor, Limit: platform.MaxActivityPageSize}
	if s.caps.ActivityNeedsAccountIDs {
		for id := range byID {
			q.AccountIDs = append(q.AccountIDs, id)
		}
		slices.Sort(q.AccountIDs) // a stable order for the cursor
	}
	var page platform.ActivityPage
	if len(q.AccountIDs) > 0 || !s.caps.ActivityNeedsAccountIDs {
		page, err = pc.ListActivity(ctx, q)
	}
	switch {
	case errors.Is(err, platform.ErrNotSupported):
		*m = activityMemo{since: m.since}
		s.activity = &activityReport{metav1.ConditionFalse, shopv1alpha1.ReasonNotSupported,
			"the platform gateway has no activity feed (it predates it): last login and activity are not shown and inactivityThreshold is not applied; asked again at the next check"}
		return stepResult{}, nil
	case err != nil:
		*m = activityMemo{since: m.since}
		s.activity = &activityReport{metav1.ConditionFalse, shopv1alpha1.ReasonPlatformError,
			fmt.Sprintf("reading the activity feed failed; read again at the next check: %v", err)}
		return stepResult{}, nil
	}
	found := map[string][]platform.Activity{}
	for _, e := range page.Entries {
		found[e.AccountID] = append(found[e.AccountID], e)
		if e.Time.After(m.newest) {
			m.newest = e.Time
		}
	}
	for id, sa := range byID {
		entries := found[id]
		last := latest(sa.Status.LastActivity, entries, false)
		cond := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionInactive)
		want, _, _ := inactivity(s.shop, true, sa, last, now)
		if len(entries) > 0 || (cond == nil) != (want == "") || (cond != nil && cond.Status != want) {
			r.Drift.noteActivity(ctx, sa, entries)
		}
	}
	s.activity = &activityReport{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
		fmt.Sprintf("the activity feed is read every %s", s.shop.DriftCheckIntervalOrDefault())}
	if m.cursor = page.Next; m.cursor != "" {
		return stepResult{requeueAfter: activityFollowUp}, nil
	}
	if m.newest.After(m.since) {
		m.since = m.newest
	}
	return stepResult{}, nil
}

// latest is the newest of t and the entries' times (logins only, when
// logins is set).
func latest(t *metav1.Time, entries []platform.Activity, logins bool) time.Time {
	var out time.Time
	if t != nil {
		out = t.Time
	}
	for _, e := range entries {
		if (!logins || e.Kind == platform.ActivityLogin) && e.Time.After(out) {
			out = e.Time
		}
	}
	return out
}

// inactivity is the Inactive condition sa should have: absent ("") without
// an inactivityThreshold, an activity feed read (monitored), or an
// account; True when the account was last used (or, never seen used,
// declared) longer ago than the threshold; else False, with how long
// until it would turn True.
func inactivity(shop *shopv1alpha1.Shop, monitored bool, sa *shopv1alpha1.SubAccount, last, now time.Time) (metav1.ConditionStatus, string, time.Duration) {
	threshold := shop.Spec.InactivityThreshold
	if threshold == nil || sa.Status.AccountID == "" || !monitored {
		return "", "", 0
	}
	since, what := last, "last used "+last.UTC().Format(time.RFC3339)
	if last.IsZero() {
		since, what = sa.CreationTimestamp.Time, "never seen used since it was declared at "+sa.CreationTimestamp.UTC().Format(time.RFC3339)
	}
	if left := since.Add(threshold.Duration).Sub(now); left > 0 {
		return metav1.ConditionFalse, fmt.Sprintf("%s; inactive after %s without a login or activity", what, threshold.Duration), left
	}
	return metav1.ConditionTrue, fmt.Sprintf("%s, longer ago than the Shop's inactivityThreshold %s: disable or offboard the account if it is no longer needed",
		what, threshold.Duration), 0
}

// takeActivity records the entries the Shop's check handed over (last
// login, last activity, the recent entries) and sets Inactive, with an
// Event when the account becomes inactive. It looks again when the
// account would turn inactive.
func (r *SubAccountReconciler) takeActivity(_ context.Context, s *subAccountScope) (stepResult, error) {
	sa := s.sa
	found := r.Drift.takeActivity(sa)
	entries := found.entries
	st := &sa.Status
	if t := latest(st.LastLogin, entries, true); !t.IsZero() {
		st.LastLogin = &metav1.Time{Time: t}
	}
	if t := latest(st.LastActivity, entries, false); !t.IsZero() {
		st.LastActivity = &metav1.Time{Time: t}
	}
	st.RecentActivity = mergeRecent(st.RecentActivity, entries)
	var last time.Time
	if st.LastActivity != nil {
		last = st.LastActivity.Time
	}
	monitored := found.read || apimeta.IsStatusConditionTrue(s.shop.Status.Conditions, shopv1alpha1.ConditionActivityMonitored)
	status, msg, left := inactivity(s.shop, monitored, sa, last, r.now())
	switch status {
	case "":
		removeCondition(sa, shopv1alpha1.ConditionInactive)
	case metav1.ConditionTrue:
		if !apimeta.IsStatusConditionTrue(st.Conditions, shopv1alpha1.ConditionInactive) {
			r.Recorder.Eventf(sa, nil, corev1.EventTypeWarning, shopv1alpha1.ReasonInactive, "CheckActivity",
				"sub-account %s: %s", st.LoginName, msg)
		}
		setCondition(sa, shopv1alpha1.ConditionInactive, status, shopv1alpha1.ReasonInactive, msg)
	default:
		setCondition(sa, shopv1alpha1.ConditionInactive, status, shopv1alpha1.ReasonActive, msg)
	}
	return stepResult{requeueAfter: left}, nil
}

// mergeRecent adds entries to the recent ones: newest first, each once, at
// most recentActivityEntries.
func mergeRecent(recent []shopv1alpha1.ActivityEntry, entries []platform.Activity) []shopv1alpha1.ActivityEntry {
	if len(entries) == 0 {
		return recent
	}
	out := slices.Clone(recent)
	for _, e := range entries {
		entry := shopv1alpha1.ActivityEntry{Time: metav1.Time{Time: e.Time.UTC().Truncate(time.Second)}, Kind: string(e.Kind),
			Presence: cut(e.Presence, 32), Operation: cut(e.Operation, 128), Target: cut(e.Target, 256)}
		if !slices.ContainsFunc(out, func(o shopv1alpha1.ActivityEntry) bool {
			return o.Time.Equal(&entry.Time) && o.Kind == entry.Kind && o.Presence == entry.Presence &&
				o.Operation == entry.Operation && o.Target == entry.Target
		}) {
			out = append(out, entry)
		}
	}
	slices.SortStableFunc(out, func(a, b shopv1alpha1.ActivityEntry) int { return b.Time.Compare(a.Time.Time) })
	if len(out) > recentActivityEntries {
		out = out[:recentActivityEntries]
	}
	return out
}

// cut bounds s to n bytes at a rune boundary (the status fields' limits).
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
