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

// A SubAccount's chat seat: presence and reception capacity are the
// agent's own settings (Douyin's help page for Feige: the agent chooses 在线
// or 忙碌 and sets their 接待人数; the main account sees the capacity but
// cannot change it). The operator reads them into status and writes them
// only at events: the spec's starting values changing (creation included)
// and a schedule boundary. It never puts them back, and they are not drift.

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// schedule works out what the seat's schedule sets now and its
// boundaries, and looks again at the next one. The presence in status
// stays what was last read from the platform.
func (r *SubAccountReconciler) schedule(_ context.Context, s *subAccountScope) (stepResult, error) {
	sa, seat := s.sa, s.sa.Spec.ChatSeat
	if seat == nil || s.desired.Seat == nil {
		sa.Status.Presence, sa.Status.SeatStart = nil, nil
		return stepResult{}, nil
	}
	p, st, boundary, change, err := scheduledPresence(seat, s.desired.Seat.Presence, r.now())
	if err != nil {
		return stepResult{}, err
	}
	s.scheduled, s.boundary = p, boundary
	if old := sa.Status.Presence; old != nil {
		st.Current, st.ReceivesMessages, st.LastBoundary = old.Current, old.ReceivesMessages, old.LastBoundary
	}
	sa.Status.Presence = st
	return stepResult{requeueAfter: change}, nil
}

// observeSeat records the seat as read from the platform: the agent's
// presence and capacity.
func observeSeat(sa *shopv1alpha1.SubAccount, seat *platform.Seat) {
	if seat == nil {
		sa.Status.ChatSeatCapacity = 0
		if sa.Status.Presence != nil {
			sa.Status.Presence.Current, sa.Status.Presence.ReceivesMessages = "", false
		}
		return
	}
	sa.Status.ChatSeatCapacity = seat.Capacity
	if sa.Status.Presence == nil {
		sa.Status.Presence = &shopv1alpha1.PresenceStatus{}
	}
	sa.Status.Presence.Current = shopv1alpha1.Presence(seat.Presence)
	sa.Status.Presence.ReceivesMessages = seat.Presence == platform.PresenceOnline
}

// seatWrite is what the main account writes of the agent's settings now,
// and why.
type seatWrite struct {
	// capacity and presence to write; 0 and "" leave them to the agent.
	capacity int32
	presence platform.Presence
	// start: the spec's starting values changed (or the seat is new);
	// boundary: a schedule boundary not acted at yet.
	start, boundary bool
}

func (w seatWrite) any() bool { return w.start || w.boundary }

// boundaryPending says a schedule boundary passed that the operator has
// not acted at.
func (s *subAccountScope) boundaryPending() bool {
	if s.boundary.IsZero() {
		return false
	}
	p := s.sa.Status.Presence
	return p == nil || p.LastBoundary == nil || p.LastBoundary.Time.Before(s.boundary)
}

// seatWrites says which of the agent's settings the main account writes
// now: the starting presence (the schedule's, inside a window) and, where
// the main account may set it, the starting capacity, when the spec's
// values differ from those last acted on; the scheduled presence at a
// boundary not acted at yet. An account that already had a seat before
// the operator recorded its starting values (an adopted account, an
// upgrade) keeps what its agent set.
func (s *subAccountScope) seatWrites() seatWrite {
	seat := s.desired.Seat
	if seat == nil {
		return seatWrite{}
	}
	var w seatWrite
	start := s.sa.Status.SeatStart
	if start == nil && s.sa.Status.AccountID != "" && s.sa.Status.ChatSeatCapacity != 0 {
		start = &shopv1alpha1.SeatStartStatus{Presence: shopv1alpha1.Presence(seat.Presence)}
		if !s.cat.SeatCapacityBySubAccount {
			start.Capacity = seat.Capacity
		}
		s.sa.Status.SeatStart = start
	}
	if start == nil || start.Presence != shopv1alpha1.Presence(seat.Presence) {
		w.presence, w.start = s.scheduled, true
	}
	if !s.cat.SeatCapacityBySubAccount && (start == nil || start.Capacity != seat.Capacity) {
		w.capacity, w.start = seat.Capacity, true
	}
	if s.boundaryPending() {
		w.presence, w.boundary = s.scheduled, true
	}
	return w
}

// withSeatWrites is state (the main account's) with w's settings.
func withSeatWrites(state platform.AccountState, w seatWrite) platform.AccountState {
	if state.Seat == nil || !w.any() {
		return state
	}
	seat := *state.Seat
	seat.Capacity, seat.Presence = w.capacity, w.presence
	state.Seat = &seat
	return state
}

// recordSeatWrites records in status what w wrote: the starting values
// acted on, the boundary acted at.
func (s *subAccountScope) recordSeatWrites(w seatWrite) {
	seat := s.desired.Seat
	if seat == nil {
		return
	}
	if w.start {
		start := &shopv1alpha1.SeatStartStatus{Presence: shopv1alpha1.Presence(seat.Presence)}
		if w.capacity != 0 {
			start.Capacity = w.capacity
		} else if old := s.sa.Status.SeatStart; old != nil {
			start.Capacity = old.Capacity
		}
		s.sa.Status.SeatStart = start
	}
	if !s.boundary.IsZero() && (w.boundary || w.start) {
		if s.sa.Status.Presence == nil {
			s.sa.Status.Presence = &shopv1alpha1.PresenceStatus{}
		}
		s.sa.Status.Presence.LastBoundary = &metav1.Time{Time: s.boundary}
	}
}

// seatWriteWords names what w changed, for Events.
func (s *subAccountScope) seatWriteWords(w seatWrite) []string {
	var out []string
	switch {
	case w.boundary:
		at := s.boundary.Format("Mon 15:04 ") + s.boundary.Location().String()
		msg := fmt.Sprintf("presence set to %s at the %s schedule boundary", platform.PresenceMeaning(w.presence), at)
		if p := s.sa.Status.Presence; p != nil && p.Window != "" {
			msg += " (window " + p.Window + " began)"
		} else {
			msg += " (no window in force)"
		}
		out = append(out, msg)
	case w.start && w.presence != "":
		out = append(out, "starting presence "+platform.PresenceMeaning(w.presence))
	}
	if w.capacity != 0 {
		out = append(out, fmt.Sprintf("starting reception capacity %d", w.capacity))
	}
	return out
}
