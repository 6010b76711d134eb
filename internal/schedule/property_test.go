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

package schedule

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// zones with daylight saving of every kind: an hour at 02:00 (New York), at
// 01:00 UTC (London), half an hour (Lord Howe), at midnight (Santiago),
// negative in winter (Dublin), and a whole skipped day (Apia, 2011).
var dstZones = []string{
	"America/New_York", "Europe/London", "Australia/Lord_Howe",
	"America/Santiago", "Europe/Dublin", "Pacific/Apia", "Asia/Shanghai",
}

// transitions lists loc's offset changes in [from, to).
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var ts []time.Time
	for t := from.In(loc); ; {
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			return ts
		}
		ts = append(ts, end)
		t = end
	}
}

// firstAtOrAfter finds, minute by minute, the first instant whose wall clock
// in loc reads want (a wall clock time as UTC) or later, when loc's offset
// is at most maxOffset around then.
func firstAtOrAfter(loc *time.Location, want time.Time, maxOffset time.Duration) time.Time {
	for u := want.Add(-maxOffset - time.Minute); ; u = u.Add(time.Minute) {
		if !wall(u.In(loc)).Before(want) {
			return u
		}
	}
}

// resolve agrees with a search, minute by minute, for the first instant the
// clock reads a time, on the days around every transition.
func TestResolveAroundTransitions(t *testing.T) {
	for _, name := range dstZones {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			loc := mustLoad(name)
			ts := transitions(loc, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
			ts = append(ts, transitions(loc, time.Date(2011, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC))...)
			if name != "Asia/Shanghai" {
				g.Expect(ts).NotTo(BeEmpty())
			}
			checked := 0
			for _, tr := range ts {
				before, after := tr.Add(-time.Nanosecond).In(loc), tr.In(loc)
				_, off1 := before.Zone()
				_, off2 := after.Zone()
				maxOffset := time.Duration(max(off1, off2)) * time.Second
				for _, local := range []time.Time{before, after} {
					y, m, d := local.Date()
					for _, dd := range []int{-1, 0} {
						day := time.Date(y, m, d+dd, 0, 0, 0, 0, time.UTC)
						for minutes := 0; minutes <= minutesPerDay; minutes++ {
							clock := day.Add(time.Duration(minutes) * time.Minute)
							near := clock.Sub(wall(before)).Abs() < 3*time.Hour || clock.Sub(wall(after)).Abs() < 3*time.Hour
							if minutes%15 != 0 && !near {
								continue
							}
							got := resolve(loc, day, minutes)
							g.Expect(got).To(BeTemporally("==", firstAtOrAfter(loc, clock, maxOffset)), "%s %02d:%02d", day.Format("2006-01-02"), minutes/60, minutes%60)
							checked++
						}
					}
				}
			}
			t.Logf("%d transitions, %d times checked", len(ts), checked)
		})
	}
}

func randomSchedule(rng *rand.Rand, zone string) Schedule {
	s := Schedule{TimeZone: zone}
	if zone == DefaultTimeZone && rng.IntN(2) == 0 {
		s.TimeZone = ""
	}
	for i := range rng.IntN(6) {
		w := Window{Name: fmt.Sprintf("w%d", i)}
		if rng.IntN(4) > 0 {
			for _, d := range Days {
				if rng.IntN(5) < 2 {
					w.Days = append(w.Days, d)
				}
			}
		}
		start := randomMinute(rng)
		end := randomMinute(rng)
		if rng.IntN(8) == 0 {
			end = minutesPerDay
		}
		if end == start {
			end = (start + 30) % minutesPerDay
		}
		w.Start = fmt.Sprintf("%02d:%02d", start/60, start%60)
		w.End = fmt.Sprintf("%02d:%02d", end/60, end%60)
		w.Presence = []string{"", PresenceBreak, PresenceBusy}[rng.IntN(3)]
		if rng.IntN(20) == 0 {
			w.Start = "25:00" // invalid: ignored
		}
		s.Windows = append(s.Windows, w)
	}
	return s
}

// randomMinute is often on the hour or half hour, and often in the small
// hours when clocks change.
func randomMinute(rng *rand.Rand) int {
	switch rng.IntN(4) {
	case 0:
		return rng.IntN(48) * 30
	case 1:
		return rng.IntN(4*60 + 1)
	default:
		return rng.IntN(minutesPerDay)
	}
}

// randomInstant is in 2025–2026, often within hours of a transition.
func randomInstant(rng *rand.Rand, ts []time.Time) time.Time {
	if len(ts) > 0 && rng.IntN(2) == 0 {
		tr := ts[rng.IntN(len(ts))]
		return tr.Add(time.Duration(rng.Int64N(int64(4*24*time.Hour))) - 2*24*time.Hour)
	}
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return from.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
}

// For random schedules and instants, the answer holds from now until next
// and changes at next.
func TestAtProperty(t *testing.T) {
	same := func(s Schedule, base string, at time.Time, presence, window string) bool {
		p, w, _ := s.At(base, at)
		return p == presence && w == window
	}
	for i, zone := range dstZones {
		rng := rand.New(rand.NewPCG(20260302, uint64(i)))
		loc := mustLoad(zone)
		ts := transitions(loc, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		if zone == "Pacific/Apia" {
			ts = transitions(loc, time.Date(2011, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC))
		}
		t.Run(zone, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			changes := 0
			for range 100 {
				s := randomSchedule(rng, zone)
				base := []string{"Online", "Busy", "Break"}[rng.IntN(3)]
				for range 15 {
					now := randomInstant(rng, ts)
					presence, window, next := s.At(base, now)
					g.Expect(presence).To(BeElementOf("Online", "Busy", "Break"))
					desc := fmt.Sprintf("%+v base %s now %s → %s %q next %s", s, base, now.In(loc), presence, window, next)

					p, w, n := s.At(base, now.In(time.UTC))
					g.Expect([]string{p, w}).To(Equal([]string{presence, window}), desc)
					g.Expect(n).To(BeTemporally("==", next), desc)

					// The last boundary: the answer changed there and holds
					// from there to now.
					if last := s.LastBoundary(base, now); !last.IsZero() {
						g.Expect(last.After(now)).To(BeFalse(), "last boundary %s: %s", last, desc)
						g.Expect(same(s, base, last, presence, window)).To(BeTrue(), "differs at the last boundary %s: %s", last, desc)
						g.Expect(same(s, base, last.Add(-time.Nanosecond), presence, window)).To(BeFalse(), "no change at the last boundary %s: %s", last, desc)
						_, _, after := s.At(base, last)
						g.Expect(after.IsZero() || after.After(now)).To(BeTrue(), "changes again at %s before now: %s", after, desc)
					}

					if next.IsZero() {
						for range 4 {
							later := now.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
							g.Expect(same(s, base, later, presence, window)).To(BeTrue(), "never changes, but does at %s: %s", later, desc)
						}
						continue
					}
					changes++
					g.Expect(next.After(now)).To(BeTrue(), desc)
					g.Expect(next.Sub(now)).To(BeNumerically("<=", 8*24*time.Hour), desc)
					g.Expect(next.Location()).To(Equal(loc), desc)
					samples := []time.Time{next.Add(-time.Nanosecond), next.Add(-time.Second)}
					for range 4 {
						samples = append(samples, now.Add(time.Duration(rng.Int64N(int64(next.Sub(now))))))
					}
					for _, at := range samples {
						if at.Before(now) {
							continue
						}
						g.Expect(same(s, base, at, presence, window)).To(BeTrue(), "differs at %s: %s", at, desc)
					}
					g.Expect(same(s, base, next, presence, window)).To(BeFalse(), "same at next: %s", desc)
				}
			}
			g.Expect(changes).To(BeNumerically(">", 500))
		})
	}
}

// In Beijing time (no daylight saving), At agrees minute by minute with the
// week drawn on a grid, for random schedules of windows that do not overlap.
func TestAtAgainstWeekGrid(t *testing.T) {
	g := NewWithT(t)
	rng := rand.New(rand.NewPCG(7, 11))
	monday := time.Date(2026, time.March, 2, 0, 0, 0, 0, shanghai)
	for range 25 {
		// Draw windows on the grid, skipping any that would overlap.
		var grid [minutesPerWeek]int
		for i := range grid {
			grid[i] = -1
		}
		var s Schedule
		for _, w := range randomSchedule(rng, DefaultTimeZone).Windows {
			c, ok := w.compile(len(s.Windows))
			if !ok {
				continue
			}
			var cells []int
			free := true
			for d := range 7 {
				if !c.days[d] {
					continue
				}
				for m := d*minutesPerDay + c.start; m < d*minutesPerDay+c.end; m++ {
					cell := m % minutesPerWeek
					free = free && grid[cell] < 0
					cells = append(cells, cell)
				}
			}
			if !free {
				continue
			}
			for _, cell := range cells {
				grid[cell] = len(s.Windows)
			}
			s.Windows = append(s.Windows, w)
		}
		g.Expect(s.Validate()).To(BeEmpty())

		answer := func(minute int) [2]string { // minutes after monday
			if k := grid[minute%minutesPerWeek]; k >= 0 {
				return [2]string{s.Windows[k].compile0().presence, s.Windows[k].Name}
			}
			return [2]string{"Online", ""}
		}
		// Minutes in the first week, all of them near a change.
		var minutes []int
		for m := range minutesPerWeek {
			if answer(m) != answer(m+1) || answer(m) != answer(m+minutesPerWeek-1) || rng.IntN(40) == 0 {
				minutes = append(minutes, m)
			}
		}
		for _, m := range minutes {
			wantNext := -1
			for j := m + 1; j < m+minutesPerWeek+1; j++ {
				if answer(j) != answer(m) {
					wantNext = j
					break
				}
			}
			for _, offset := range []time.Duration{0, 37 * time.Second} {
				now := monday.Add(time.Duration(m)*time.Minute + offset)
				p, w, next := s.At("Online", now)
				desc := fmt.Sprintf("%+v at %s", s, now)
				g.Expect([2]string{p, w}).To(Equal(answer(m)), desc)
				if wantNext < 0 {
					g.Expect(next).To(BeZero(), desc)
				} else {
					g.Expect(next).To(BeTemporally("==", monday.Add(time.Duration(wantNext)*time.Minute)), desc)
				}
			}
		}
	}
}

func (w Window) compile0() compiled {
	c, _ := w.compile(0)
	return c
}
