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
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// shopSteps is the Shop's reconcile, in order (runSteps). A step that
// fails ends the list. CredentialsValid is the credentials step's
// success or failure; the conditions the later steps report on (what is
// in use, awaited or not supported) are derived from their reports in one
// place, setConditions, whichever step ended the list.
func (r *ShopReconciler) shopSteps() []step[*shopScope] {
	return []step[*shopScope]{
		{name: "credentials", run: r.credentials,
			condition: shopv1alpha1.ConditionCredentialsValid, ok: fixed[*shopScope]("the platform accepted the credentials")},
		// spec.openPlatform's app (Pinduoduo); sets its own condition,
		// OpenPlatformCredentialsValid, which is absent without one.
		{name: "openPlatform", run: r.openPlatform},
		{name: "seats", run: r.seats},
		{name: "service", run: serviceOn},
		{name: "drift", run: r.drift},
		{name: "activity", run: r.activity},
		// A suspended Shop stops here: the steps after write to the
		// platform, or report on what those could not write.
		{name: "suspended", run: stopWhenSuspended},
		{name: "departments", run: r.departments},
		{name: "contacts", run: r.contacts},
		{name: "limits", run: limits},
	}
}

// shopScope is everything one reconcile of a Shop works with: what it read
// before the steps, what the steps found, and the platform client, made
// once and shared by every step that calls the platform.
type shopScope struct {
	shop    *shopv1alpha1.Shop
	catalog *catalog.Catalog
	memo    *shopMemo
	conn    *Connector

	// driftDue says a drift check is due: its interval has passed, or
	// shop.subaccount.io/requested-at has a new value (requested).
	driftDue  bool
	requested string

	// pc is the platform client, made by client() on first use; fingerprint
	// identifies the credentials it was made with.
	pc          platform.Client
	caps        platform.Capabilities
	fingerprint string

	// secret is the credentials Secret (credentials step).
	secret *corev1.Secret
	// info is ShopInfo's answer when this reconcile asked the platform
	// (credentials step); nil when the last answer still stands.
	// infoFrom and infoTo are when that call began and ended.
	info             *platform.ShopInfo
	infoFrom, infoTo time.Time

	// What the steps found, for setConditions. A nil report means the
	// step did not get that far, and its condition stays as it was.
	departments *departmentsReport
	contacts    *contactsReport
	limits      *limitsReport
	activity    *activityReport
}

func (s *shopScope) object() conditioned { return s.shop }

// newShopScope prepares a reconcile of shop: its platform's catalog must
// exist, and whether a drift check is due is decided once for every step.
func (r *ShopReconciler) newShopScope(shop *shopv1alpha1.Shop) (*shopScope, error) {
	cat, err := catalogFor(shop)
	if err != nil {
		return nil, err
	}
	requested := shop.Annotations[shopv1alpha1.AnnotationRequestedAt]
	return &shopScope{
		shop: shop, catalog: cat, memo: r.memo(shop), conn: r.Connector,
		driftDue:  r.untilDriftCheck(shop) == 0 || requested != shop.Status.LastHandledRequestedAt,
		requested: requested,
	}, nil
}

// client returns the platform client for the Shop, connecting on the first
// call only: one reconcile connects once, whichever steps need the platform.
func (s *shopScope) client(ctx context.Context) (platform.Client, error) {
	if s.pc != nil {
		return s.pc, nil
	}
	pc, fingerprint, err := s.conn.connect(ctx, s.shop)
	if err != nil {
		return nil, err
	}
	s.pc, s.caps, s.fingerprint = pc, platform.CapabilitiesOf(pc), fingerprint
	return pc, nil
}

// stepCondition is a step's verdict on its own condition.
type stepCondition struct {
	// status is the condition's status; "" removes the condition.
	status          metav1.ConditionStatus
	reason, message string
}

func (c stepCondition) apply(shop *shopv1alpha1.Shop, condType string) {
	if c.status == "" {
		removeCondition(shop, condType)
		return
	}
	setCondition(shop, condType, c.status, c.reason, c.message)
}

// setConditions derives DepartmentsSynced, ContactsVerified and
// PlatformLimits from the steps' reports. Ready, Reconciling and Stalled
// are summarize's.
func (s *shopScope) setConditions() {
	if s.departments != nil {
		s.departments.condition().apply(s.shop, shopv1alpha1.ConditionDepartmentsSynced)
	}
	if s.contacts != nil {
		s.contacts.condition().apply(s.shop, shopv1alpha1.ConditionContactsVerified)
	}
	if s.limits != nil {
		s.limits.condition().apply(s.shop, shopv1alpha1.ConditionPlatformLimits)
	}
	if s.activity != nil {
		s.activity.condition().apply(s.shop, shopv1alpha1.ConditionActivityMonitored)
	}
}

// seats counts the Shop's seats: the quota from spec.seats or the
// platform, and the seats used by the accounts no SubAccount held at the
// last ShopInfo plus the SubAccounts holding one now (from the cache, so a
// SubAccount coming or going costs no platform call).
func (r *ShopReconciler) seats(ctx context.Context, s *shopScope) (stepResult, error) {
	shop := s.shop
	managed, err := byIndex[*shopv1alpha1.SubAccount](ctx, r.Client, &shopv1alpha1.SubAccountList{}, shop.Namespace, indexSubAccountShop, shop.Name)
	if err != nil {
		return stepResult{}, fmt.Errorf("listing SubAccounts of the shop: %w", err)
	}
	holding, waiting := quotaHolders(managed)
	// The accounts just created that the cache does not show held yet
	// are not nobody's (createdNotHeld); asked on every count, so that
	// what it notes is forgotten once held.
	created, overlapped := r.Drift.createdNotHeld(client.ObjectKeyFromObject(shop), managed, s.infoFrom, s.infoTo)
	if s.info != nil {
		s.memo.check = &shopCheck{generation: shop.Generation, secretVersion: s.secret.ResourceVersion,
			quota: s.info.SeatsTotal, unmanaged: max(s.info.SeatsUsed-holding-created, 0),
			service: s.info.Service, ledger: s.info.SeatLedger, recount: overlapped}
	}
	var check shopCheck
	if s.memo.check != nil {
		check = *s.memo.check
	}
	total := check.quota
	if seats := shop.Spec.Seats; seats != nil && check.ledger == nil {
		total = seats.Included + seats.Purchased
	}
	used := check.unmanaged + holding
	shop.Status.Seats = &shopv1alpha1.AccountQuotaStatus{Used: used, Total: total, Managed: int32(len(managed)),
		Unmanaged: check.unmanaged, Waiting: int32(len(waiting)), Ledger: ledgerStatus(check.ledger, used)}
	return stepResult{}, nil
}

// stopWhenSuspended ends the reconcile of a suspended Shop.
func stopWhenSuspended(_ context.Context, s *shopScope) (stepResult, error) {
	return stepResult{done: s.shop.Spec.Suspend}, nil
}

// drift runs the drift check when it is due (checkDrift) and records it.
func (r *ShopReconciler) drift(ctx context.Context, s *shopScope) (stepResult, error) {
	if !s.driftDue {
		return stepResult{}, nil
	}
	if err := r.checkDrift(ctx, s); err != nil {
		return stepResult{}, err
	}
	now := metav1.NewTime(r.now())
	s.shop.Status.LastSyncTime = &now
	s.shop.Status.LastHandledRequestedAt = s.requested
	return stepResult{}, nil
}

// untilDriftCheck is how long until the shop's next drift check is due.
// lastSyncTime records the last one, so a restart does not check early.
func (r *ShopReconciler) untilDriftCheck(shop *shopv1alpha1.Shop) time.Duration {
	interval := shop.DriftCheckIntervalOrDefault()
	last := shop.Status.LastSyncTime
	if last == nil {
		return 0
	}
	// A requeue may fire a little early; within a second counts as due.
	if left := last.Add(interval).Sub(r.now()); left > time.Second {
		return left
	}
	return 0
}

// limits gathers, for PlatformLimits, the fields of the spec the
// departments and contacts steps found the platform's API cannot apply.
func limits(_ context.Context, s *shopScope) (stepResult, error) {
	s.limits = &limitsReport{platform: s.shop.Spec.Platform}
	if s.departments != nil {
		s.limits.unsupported = append(s.limits.unsupported, s.departments.unsupported()...)
	}
	if s.contacts != nil {
		s.limits.unsupported = append(s.limits.unsupported, s.contacts.unsupported()...)
	}
	return stepResult{}, nil
}

// limitsReport is what the limits step found.
type limitsReport struct {
	platform    shopv1alpha1.Platform
	unsupported []string
}

// condition is PlatformLimits: True naming what the platform's API cannot
// apply, absent when it can apply everything.
func (l limitsReport) condition() stepCondition {
	if len(l.unsupported) == 0 {
		return stepCondition{}
	}
	return stepCondition{status: metav1.ConditionTrue, reason: shopv1alpha1.ReasonNotSupported,
		message: fmt.Sprintf("%s's API cannot apply %s; set them in the platform's back office", l.platform, strings.Join(l.unsupported, ", "))}
}

// shopReadyMessage is the Shop's Ready message: its seats, and who waits
// for one.
func shopReadyMessage(shop *shopv1alpha1.Shop) string {
	s := shop.Status.Seats
	if s == nil {
		return "connected"
	}
	msg := fmt.Sprintf("connected; %d of %d seats used", s.Used, s.Total)
	msg += ledgerMessage(s.Ledger)
	if s.Waiting > 0 {
		msg += fmt.Sprintf("; %d SubAccounts wait for a free seat (the oldest is served first)", s.Waiting)
	}
	return msg
}
