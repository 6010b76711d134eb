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

// Package schedule works out a customer-service seat's presence from a
// weekly schedule of breaks and off-shift hours.
//
// A seat has a base presence (Online, Busy or Break, the seat's spec). A
// Schedule lists weekly Windows, each making the agent Break (小休, short
// break) or Busy (忙碌, cannot receive messages) for a
// stretch of local time on some days of the week. Schedule.At says which
// presence is in force at an instant, which window put it there, and when the
// answer next changes, so a controller can requeue exactly then.
//
// Lunch from 12:00 to 12:30, Beijing time, Monday to Friday:
//
//	s := schedule.Schedule{
//		TimeZone: "Asia/Shanghai",
//		Windows: []schedule.Window{{
//			Name:     "lunch",
//			Days:     []string{"Mon", "Tue", "Wed", "Thu", "Fri"},
//			Start:    "12:00",
//			End:      "12:30",
//			Presence: "Break",
//		}},
//	}
//	presence, window, next := s.At("Online", now)
//	// Mon 12:10 → "Break", "lunch", Mon 12:30
//	// Mon 12:30 → "Online", "", Tue 12:00
//
// # Local time and daylight saving
//
// Start and End are wall-clock times in the schedule's time zone. A window
// takes place at most once per listed day: it starts the first moment the
// local clock reads Start or later on that day, and ends the first moment
// after that the clock reads End or later (on the next day when End is
// before Start). In zones with daylight saving this means:
//
//   - when clocks go forward (New York, 02:00 → 03:00), a window starting
//     in the skipped hour begins when the clock jumps (02:30–04:00 runs
//     03:00–04:00), and a window wholly inside the skipped hour
//     (02:15–02:45) does not take place that day;
//   - when clocks go back (New York, 02:00 EDT → 01:00 EST), a window
//     starts at the first 01:30 and is not repeated, and a window ending in
//     or after the repeated hour lasts the extra hour (01:30–02:00 runs from
//     01:30 EDT to 02:00 EST, 90 minutes).
//
// Asia/Shanghai has no daylight saving. The time zone database is embedded
// (time/tzdata), so results do not depend on the machine.
package schedule

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	// Embed the IANA time zone database: containers are often built
	// without /usr/share/zoneinfo.
	_ "time/tzdata"
)

const (
	// DefaultTimeZone is used when Schedule.TimeZone is empty.
	DefaultTimeZone = "Asia/Shanghai"

	// PresenceBreak is a short break (小休). The default presence of a window.
	PresenceBreak = "Break"
	// PresenceBusy cannot receive messages (忙碌).
	PresenceBusy = "Busy"

	// MaxWindows is the most windows a Schedule may have.
	MaxWindows = 50
	// MaxNameLength is the longest window name.
	MaxNameLength = 63
)

// Days are the accepted day names, Monday first.
var Days = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
)

// Schedule is a seat's weekly schedule of breaks and off-shift hours.
type Schedule struct {
	// timeZone is the IANA time zone the windows' times are in, e.g.
	// "Asia/Shanghai" or "America/New_York". Default "Asia/Shanghai".
	// +optional
	// +kubebuilder:default="Asia/Shanghai"
	// +kubebuilder:validation:MaxLength=64
	TimeZone string `json:"timeZone,omitempty"`

	// windows are the weekly stretches of time in which the seat is on Break
	// or Busy instead of its own presence. Outside every window the seat's
	// own presence applies. Windows that overlap must have the same presence.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=50
	Windows []Window `json:"windows,omitempty"`
}

// Window is a weekly stretch of local time with a presence.
type Window struct {
	// name identifies the window, e.g. "lunch"; unique in the schedule. It is
	// reported as the window in force.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// days are the days the window starts on: Mon, Tue, Wed, Thu, Fri, Sat,
	// Sun. Empty means every day.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=7
	// +kubebuilder:validation:items:Enum=Mon;Tue;Wed;Thu;Fri;Sat;Sun
	Days []string `json:"days,omitempty"`

	// start is when the window begins, "HH:MM" in 24-hour local time,
	// "00:00" to "23:59".
	// +required
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]$`
	Start string `json:"start"`

	// end is when the window ends, "HH:MM" in 24-hour local time, "00:00" to
	// "24:00" (midnight at the end of the day). An end before start means
	// the window crosses midnight and ends on the next day ("22:00" to
	// "06:00"). It must differ from start.
	// +required
	// +kubebuilder:validation:Pattern=`^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$`
	End string `json:"end"`

	// presence is the seat's presence inside the window: Break (小休, short
	// break) or Busy (忙碌, receives no new customers). Default Break.
	// +optional
	// +kubebuilder:default=Break
	// +kubebuilder:validation:Enum=Break;Busy
	Presence string `json:"presence,omitempty"`
}

// DeepCopyInto copies s into out, so that a Schedule can be embedded in API
// types whose deepcopy functions are generated.
func (s *Schedule) DeepCopyInto(out *Schedule) {
	*out = *s
	if s.Windows != nil {
		out.Windows = make([]Window, len(s.Windows))
		for i := range s.Windows {
			s.Windows[i].DeepCopyInto(&out.Windows[i])
		}
	}
}

// DeepCopy returns a deep copy of s.
func (s *Schedule) DeepCopy() *Schedule {
	if s == nil {
		return nil
	}
	out := new(Schedule)
	s.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies w into out.
func (w *Window) DeepCopyInto(out *Window) {
	*out = *w
	if w.Days != nil {
		out.Days = append([]string(nil), w.Days...)
	}
}

// DeepCopy returns a deep copy of w.
func (w *Window) DeepCopy() *Window {
	if w == nil {
		return nil
	}
	out := new(Window)
	w.DeepCopyInto(out)
	return out
}

// FieldError is one problem Validate found.
type FieldError struct {
	// Field is the offending field's path within the Schedule, e.g.
	// "timeZone" or "windows[1].start".
	Field string
	// Window is the name of the window concerned; "" for the time zone.
	Window string
	// Detail says what is wrong and how to put it right.
	Detail string
}

func (e *FieldError) Error() string {
	if e.Window != "" {
		return fmt.Sprintf("%s (window %q): %s", e.Field, e.Window, e.Detail)
	}
	return e.Field + ": " + e.Detail
}

// Validate returns every problem with s, each a *FieldError naming the field
// and window; nil when s is valid. At ignores what Validate rejects (an
// unknown time zone makes At return the base presence), so validate first
// and report the errors, e.g. on a condition.
func (s Schedule) Validate() []error {
	var errs []error
	add := func(field, window, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Window: window, Detail: fmt.Sprintf(format, args...)})
	}

	if _, err := s.location(); err != nil {
		add("timeZone", "", "%v", err)
	}
	if len(s.Windows) > MaxWindows {
		add("windows", "", "%d windows; at most %d are allowed", len(s.Windows), MaxWindows)
	}

	var ok []compiled
	seen := map[string]int{}
	for i, w := range s.Windows {
		path := fmt.Sprintf("windows[%d]", i)
		switch {
		case w.Name == "":
			add(path+".name", "", "required: name the window, e.g. \"lunch\"")
		case len(w.Name) > MaxNameLength:
			add(path+".name", w.Name, "%d characters; at most %d are allowed", len(w.Name), MaxNameLength)
		}
		if j, dup := seen[w.Name]; dup && w.Name != "" {
			add(path+".name", w.Name, "duplicate name: windows[%d] is also called %q; names must be unique", j, w.Name)
		} else {
			seen[w.Name] = i
		}

		// good says whether the window can be checked for overlaps, on the
		// days that are known.
		good := true
		var knownDays []string
		seenDay := map[string]bool{}
		for k, d := range w.Days {
			field := fmt.Sprintf("%s.days[%d]", path, k)
			switch {
			case dayIndex(d) < 0:
				hint := ""
				for _, name := range Days {
					if strings.EqualFold(d, name) || (len(d) > 3 && strings.EqualFold(d[:3], name)) {
						hint = fmt.Sprintf(" (did you mean %q?)", name)
					}
				}
				add(field, w.Name, "unknown day %q%s; use Mon, Tue, Wed, Thu, Fri, Sat or Sun", d, hint)
			case seenDay[d]:
				add(field, w.Name, "%q is listed twice", d)
			default:
				knownDays = append(knownDays, d)
			}
			seenDay[d] = true
		}
		if len(w.Days) > 0 && len(knownDays) == 0 {
			good = false
		}

		start, startOK := parseClock(w.Start, false)
		if !startOK {
			good = false
			if w.Start == "24:00" {
				add(path+".start", w.Name, "\"24:00\" can only be an end; a window that starts at midnight starts at \"00:00\"")
			} else {
				add(path+".start", w.Name, "%q is not a time: use \"HH:MM\", 24-hour, \"00:00\" to \"23:59\"", w.Start)
			}
		}
		end, endOK := parseClock(w.End, true)
		if !endOK {
			good = false
			add(path+".end", w.Name, "%q is not a time: use \"HH:MM\", 24-hour, \"00:00\" to \"24:00\"", w.End)
		}
		if startOK && endOK && start == end {
			good = false
			add(path+".end", w.Name, "equals start (%q): the window would be empty; for a whole day use start \"00:00\" and end \"24:00\"", w.Start)
		}

		switch w.Presence {
		case "", PresenceBreak, PresenceBusy:
		case "Online":
			good = false
			add(path+".presence", w.Name, "\"Online\" cannot be scheduled: a window makes the seat Break or Busy, and outside windows the seat's own presence applies")
		default:
			good = false
			hint := ""
			for _, p := range []string{PresenceBreak, PresenceBusy} {
				if strings.EqualFold(w.Presence, p) {
					hint = fmt.Sprintf(" (did you mean %q?)", p)
				}
			}
			add(path+".presence", w.Name, "unknown presence %q%s; use Break (小休, short break) or Busy (忙碌, cannot receive messages)", w.Presence, hint)
		}

		if good {
			known := w
			known.Days = knownDays
			if c, cok := known.compile(i); cok {
				ok = append(ok, c)
			}
		}
	}

	for a := 0; a < len(ok); a++ {
		for b := a + 1; b < len(ok); b++ {
			if ok[a].presence == ok[b].presence {
				continue
			}
			if msg := overlap(ok[a], ok[b]); msg != "" {
				add(fmt.Sprintf("windows[%d]", ok[b].index), ok[b].name,
					"overlaps windows[%d] %q %s, with a different presence (%s vs %s); windows that overlap must have the same presence",
					ok[a].index, ok[a].name, msg, ok[a].presence, ok[b].presence)
			}
		}
	}
	return errs
}

// At returns the presence in force at now, given the seat's base presence
// (Online, Busy or Break): the presence of the window now falls in, else
// base. window is the name of that window, "" outside every window. next is
// the first instant after now at which presence or window changes (a window
// start or end), in the schedule's time zone; the answer is the same for
// every instant in [now, next). next is the zero Time when the answer never
// changes: no windows, or one window covering the whole week.
//
// When windows of the same presence overlap, the one that started first is
// in force until it ends (ties go to the earlier in the list). Windows and a
// time zone that Validate rejects are ignored.
func (s Schedule) At(base string, now time.Time) (presence string, window string, next time.Time) {
	loc, err := s.location()
	if err != nil {
		return base, "", time.Time{}
	}
	var ws []compiled
	for i, w := range s.Windows {
		if c, ok := w.compile(i); ok {
			ws = append(ws, c)
		}
	}
	if len(ws) == 0 {
		return base, "", time.Time{}
	}

	occs := occurrences(ws, loc, now)
	answer := func(t time.Time) (string, string) { return s.answerAt(occs, base, t) }

	presence, window = answer(now)
	// Occurrences starting on the day before an instant's day or on it
	// decide its answer, so answers are known up to the horizon, at least
	// eight days after now: more than the week that repeats.
	y, m, d := now.In(loc).Date()
	horizon := resolve(loc, time.Date(y, m, d+horizonDays, 0, 0, 0, 0, time.UTC), 0)
	var bounds []time.Time
	for _, o := range occs {
		for _, b := range [2]time.Time{o.start, o.end} {
			if b.After(now) && b.Before(horizon) {
				bounds = append(bounds, b)
			}
		}
	}
	sort.Slice(bounds, func(i, j int) bool { return bounds[i].Before(bounds[j]) })
	for _, b := range bounds {
		if p, w := answer(b); p != presence || w != window {
			return presence, window, b.In(loc)
		}
	}
	// Nothing changes within the next week and more: the weekly pattern is
	// constant.
	return presence, window, time.Time{}
}

// LastBoundary returns the latest instant at or before now at which the
// presence or window in force changed to what At answers for now: the
// boundary a controller acts at once, leaving the presence to the agent
// until the next one. It is the zero Time when the answer has not changed
// in the week and more before now (no windows, or a constant pattern).
func (s Schedule) LastBoundary(base string, now time.Time) time.Time {
	loc, err := s.location()
	if err != nil {
		return time.Time{}
	}
	var ws []compiled
	for i, w := range s.Windows {
		if c, ok := w.compile(i); ok {
			ws = append(ws, c)
		}
	}
	if len(ws) == 0 {
		return time.Time{}
	}
	// Occurrences from horizonDays before now's day: a boundary more than
	// a week back means the weekly pattern is constant.
	// Occurrences starting on the day before an instant's day or on it
	// decide its answer, so answers are known after cutoff.
	y, m, d := now.In(loc).Date()
	cutoff := resolve(loc, time.Date(y, m, d-horizonDays, 0, 0, 0, 0, time.UTC), 0)
	occs := occurrences(ws, loc, cutoff)
	occs = append(occs, occurrences(ws, loc, now)...)
	at := func(t time.Time) (string, string) {
		return s.answerAt(occs, base, t)
	}
	presence, window := at(now)
	var bounds []time.Time
	for _, o := range occs {
		for _, b := range [2]time.Time{o.start, o.end} {
			if !b.After(now) && b.After(cutoff) {
				bounds = append(bounds, b)
			}
		}
	}
	sort.Slice(bounds, func(i, j int) bool { return bounds[i].After(bounds[j]) })
	for _, b := range bounds {
		if p, w := at(b.Add(-time.Nanosecond)); p != presence || w != window {
			return b.In(loc)
		}
	}
	return time.Time{}
}

// answerAt is the presence and window in force at t among occs: the
// occurrence that started first wins (ties: the earlier in the list).
func (Schedule) answerAt(occs []occurrence, base string, t time.Time) (string, string) {
	best := -1
	for i, o := range occs {
		if t.Before(o.start) || !t.Before(o.end) {
			continue
		}
		if best < 0 || o.start.Before(occs[best].start) ||
			o.start.Equal(occs[best].start) && o.w.index < occs[best].w.index {
			best = i
		}
	}
	if best < 0 {
		return base, ""
	}
	return occs[best].w.presence, occs[best].w.name
}

// compiled is a valid window in minutes.
type compiled struct {
	index    int
	name     string
	presence string
	days     [7]bool // Monday first
	start    int     // minutes after midnight of the day it starts on
	end      int     // minutes after that midnight, > start; > 1440 crosses midnight
}

func (w Window) compile(index int) (compiled, bool) {
	c := compiled{index: index, name: w.Name, presence: w.Presence}
	switch c.presence {
	case "":
		c.presence = PresenceBreak
	case PresenceBreak, PresenceBusy:
	default:
		return c, false
	}
	if w.Name == "" {
		return c, false
	}
	if len(w.Days) == 0 {
		c.days = [7]bool{true, true, true, true, true, true, true}
	}
	for _, d := range w.Days {
		i := dayIndex(d)
		if i < 0 {
			return c, false
		}
		c.days[i] = true
	}
	var ok1, ok2 bool
	c.start, ok1 = parseClock(w.Start, false)
	c.end, ok2 = parseClock(w.End, true)
	if !ok1 || !ok2 || c.start == c.end {
		return c, false
	}
	if c.end < c.start {
		c.end += minutesPerDay
	}
	return c, true
}

// occurrence is one window taking place on one day.
type occurrence struct {
	w          *compiled
	start, end time.Time
}

// horizonDays is how many local days after now's At looks for a change.
const horizonDays = 9

// occurrences lists the windows taking place on the local days from the day
// before now's to the day before the horizon.
func occurrences(ws []compiled, loc *time.Location, now time.Time) []occurrence {
	y, m, d := now.In(loc).Date()
	var occs []occurrence
	for i := -1; i < horizonDays; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC)
		wd := (int(day.Weekday()) + 6) % 7
		for k := range ws {
			w := &ws[k]
			if !w.days[wd] {
				continue
			}
			start, end := resolve(loc, day, w.start), resolve(loc, day, w.end)
			if start.Before(end) { // empty when wholly inside a skipped hour
				occs = append(occs, occurrence{w: w, start: start, end: end})
			}
		}
	}
	return occs
}

// resolve returns the first instant at which the clock in loc reads the
// given minutes after midnight of day (a UTC midnight naming a civil date),
// or later: the earlier of two when the clocks go back, the moment the clock
// jumps past it when they go forward.
func resolve(loc *time.Location, day time.Time, minutes int) time.Time {
	want := day.Add(time.Duration(minutes) * time.Minute) // wall clock, as UTC
	t := time.Date(want.Year(), want.Month(), want.Day(), want.Hour(), want.Minute(), 0, 0, loc)
	switch got := wall(t); {
	case got.Equal(want):
		// Exists; when the clocks went back, it may also exist earlier,
		// in the zone before.
		if zoneStart, _ := t.ZoneBounds(); !zoneStart.IsZero() {
			_, offset := zoneStart.Add(-time.Nanosecond).Zone()
			if u := want.Add(-time.Duration(offset) * time.Second).In(loc); wall(u).Equal(want) && u.Before(t) {
				return u
			}
		}
		return t
	case got.After(want):
		// Skipped: t is past the jump, which is where its zone starts.
		if zoneStart, _ := t.ZoneBounds(); !zoneStart.IsZero() {
			return zoneStart
		}
	default:
		// Skipped: t is before the jump, which is where its zone ends.
		if _, zoneEnd := t.ZoneBounds(); !zoneEnd.IsZero() {
			return zoneEnd
		}
	}
	return t
}

// wall returns t's wall clock reading as a UTC time.
func wall(t time.Time) time.Time {
	_, offset := t.Zone()
	return t.UTC().Add(time.Duration(offset) * time.Second)
}

var locations sync.Map // name → *time.Location

func (s Schedule) location() (*time.Location, error) {
	name := s.TimeZone
	if name == "" {
		name = DefaultTimeZone
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	if name == "Local" {
		// The operator's machine's zone: not something a spec can rely on.
		return nil, fmt.Errorf("\"Local\" depends on the machine: use an IANA name such as \"Asia/Shanghai\"")
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as \"Asia/Shanghai\" or \"America/New_York\"", name)
	}
	locations.Store(name, l)
	return l, nil
}

func dayIndex(d string) int {
	for i, name := range Days {
		if d == name {
			return i
		}
	}
	return -1
}

// parseClock parses "HH:MM" into minutes after midnight; "24:00" only when
// allow24.
func parseClock(s string, allow24 bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case h == 24 && m == 0 && allow24:
		return minutesPerDay, true
	case h < 24 && m < 60:
		return h*60 + m, true
	}
	return 0, false
}

// overlap describes where a and b overlap in the week, e.g. "on Mon
// 12:15–12:30 (also Tue, Wed)", or returns "" when they do not.
func overlap(a, b compiled) string {
	type span struct{ lo, hi int }
	var spans []span
	for da := range 7 {
		if !a.days[da] {
			continue
		}
		for db := range 7 {
			if !b.days[db] {
				continue
			}
			aLo, aHi := da*minutesPerDay+a.start, da*minutesPerDay+a.end
			for _, shift := range []int{-minutesPerWeek, 0, minutesPerWeek} {
				bLo, bHi := db*minutesPerDay+b.start+shift, db*minutesPerDay+b.end+shift
				lo, hi := max(aLo, bLo), min(aHi, bHi)
				if lo < hi {
					// Shift so that the overlap starts within the week.
					week := lo - ((lo%minutesPerWeek)+minutesPerWeek)%minutesPerWeek
					spans = append(spans, span{lo - week, hi - week})
				}
			}
		}
	}
	if len(spans) == 0 {
		return ""
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	first := spans[0]
	msg := "on " + formatSpan(first.lo, first.hi)
	var also []string
	listed := map[int]bool{first.lo / minutesPerDay: true}
	for _, s := range spans[1:] {
		if day := s.lo / minutesPerDay; !listed[day] {
			listed[day] = true
			also = append(also, Days[day])
		}
	}
	if len(also) > 0 {
		msg += " (also " + strings.Join(also, ", ") + ")"
	}
	return msg
}

// formatSpan formats minutes of the week lo to hi: "Mon 12:15–12:30",
// "Mon 23:00–24:00", "Sun 23:00–Mon 01:00".
func formatSpan(lo, hi int) string {
	clock := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	loDay, loMin := lo/minutesPerDay, lo%minutesPerDay
	if hi <= (loDay+1)*minutesPerDay {
		return fmt.Sprintf("%s %s–%s", Days[loDay], clock(loMin), clock(hi-loDay*minutesPerDay))
	}
	hiDay := (hi / minutesPerDay) % 7
	return fmt.Sprintf("%s %s–%s %s", Days[loDay], clock(loMin), Days[hiDay], clock(hi%minutesPerDay))
}
