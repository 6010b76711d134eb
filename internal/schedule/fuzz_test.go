package schedule

import (
	"testing"
	"time"
)

// FuzzSchedule: Validate and At never panic on any schedule; a schedule
// Validate accepts gives, at any instant, either the base presence or a
// window's presence, names a window exactly when it gives the window's
// presence, and a next change that is after the instant and within the
// week (plus a day for a daylight-saving shift).
func FuzzSchedule(f *testing.F) {
	f.Add("Asia/Shanghai", "lunch", "Mon", "12:00", "13:00", "Break", "night", "", "22:00", "06:00", "Busy", int64(1704164645))
	f.Add("America/New_York", "a", "Sun", "01:30", "03:00", "Busy", "b", "Sun", "02:00", "24:00", "Busy", int64(1710054000))
	f.Add("", "", "Xyz", "24:00", "24:00", "Online", "x", "Mon", "9:00", "25:61", "", int64(-1))
	f.Add("Local", "w", "Tue", "00:00", "00:00", "Break", "w", "Tue", "00:00", "24:00", "Break", int64(1<<40))
	f.Fuzz(func(t *testing.T, zone, n1, d1, s1, e1, p1, n2, d2, s2, e2, p2 string, unix int64) {
		window := func(name, day, start, end, presence string) Window {
			w := Window{Name: name, Start: start, End: end, Presence: presence}
			if day != "" {
				w.Days = []string{day}
			}
			return w
		}
		s := Schedule{TimeZone: zone, Windows: []Window{window(n1, d1, s1, e1, p1), window(n2, d2, s2, e2, p2)}}
		errs := s.Validate()
		now := time.Unix(unix%(1<<36), 0) // years 0 to 4147: far enough, and within time.Time's arithmetic
		presence, name, next := s.At("Online", now)
		if len(errs) > 0 {
			return
		}
		switch {
		case name == "" && presence != "Online":
			t.Fatalf("no window in force, but presence %q", presence)
		case name != "" && name != n1 && name != n2:
			t.Fatalf("window %q is not in the schedule", name)
		case name == n1 && name != n2 && presence != presenceOf(p1), name == n2 && name != n1 && presence != presenceOf(p2):
			t.Fatalf("window %q in force with presence %q", name, presence)
		}
		if !next.IsZero() && (!next.After(now) || next.Sub(now) > 8*24*time.Hour) {
			t.Fatalf("at %s the next change is %s", now, next)
		}
	})
}

// presenceOf is a window's presence with its default.
func presenceOf(p string) string {
	if p == "" {
		return "Break"
	}
	return p
}
