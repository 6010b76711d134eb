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
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

var (
	shanghai = mustLoad("Asia/Shanghai")
	newYork  = mustLoad("America/New_York")
)

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// sh is a time in the week of Monday 2 March 2026, Shanghai: day 2 is
// Monday, 8 Sunday, 9 the next Monday.
func sh(day, hour, minute int) time.Time {
	return time.Date(2026, time.March, day, hour, minute, 0, 0, shanghai)
}

func utc(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, time.UTC)
}

var weekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri"}

// meals is lunch 12:00–12:30 (Break by default) and dinner 18:00–18:20
// (Busy), Monday to Friday, Beijing time.
var meals = Schedule{Windows: []Window{
	{Name: "lunch", Days: weekdays, Start: "12:00", End: "12:30"},
	{Name: "dinner", Days: weekdays, Start: "18:00", End: "18:20", Presence: "Busy"},
}}

func TestCalendar(t *testing.T) {
	g := NewWithT(t)
	g.Expect(sh(2, 0, 0).Weekday()).To(Equal(time.Monday))
	g.Expect(sh(8, 0, 0).Weekday()).To(Equal(time.Sunday))
	// New York: clocks go forward on Sunday 8 March 2026 at 02:00 EST
	// (07:00 UTC) and back on Sunday 1 November at 02:00 EDT (06:00 UTC).
	_, end := time.Date(2026, time.March, 1, 0, 0, 0, 0, newYork).ZoneBounds()
	g.Expect(end).To(BeTemporally("==", utc(time.March, 8, 7, 0)))
	_, end = end.ZoneBounds()
	g.Expect(end).To(BeTemporally("==", utc(time.November, 1, 6, 0)))
}

func TestAt(t *testing.T) {
	type want struct {
		presence, window string
		next             time.Time // zero: never changes
	}
	cases := []struct {
		name  string
		sched Schedule
		base  string
		now   time.Time
		want  want
	}{
		// Several windows on one day, and the days in between.
		{"meals: before lunch", meals, "Online", sh(2, 0, 0), want{"Online", "", sh(2, 12, 0)}},
		{"meals: just before lunch", meals, "Online", sh(2, 12, 0).Add(-time.Nanosecond), want{"Online", "", sh(2, 12, 0)}},
		{"meals: lunch starts", meals, "Online", sh(2, 12, 0), want{"Break", "lunch", sh(2, 12, 30)}},
		{"meals: last instant of lunch", meals, "Online", sh(2, 12, 30).Add(-time.Nanosecond), want{"Break", "lunch", sh(2, 12, 30)}},
		{"meals: lunch ends", meals, "Online", sh(2, 12, 30), want{"Online", "", sh(2, 18, 0)}},
		{"meals: dinner", meals, "Online", sh(2, 18, 10), want{"Busy", "dinner", sh(2, 18, 20)}},
		{"meals: after dinner, next is tomorrow's lunch", meals, "Online", sh(2, 18, 20), want{"Online", "", sh(3, 12, 0)}},
		{"meals: Friday evening, next is Monday", meals, "Online", sh(6, 18, 20), want{"Online", "", sh(9, 12, 0)}},
		{"meals: Saturday noon has no lunch", meals, "Online", sh(7, 12, 10), want{"Online", "", sh(9, 12, 0)}},
		{"meals: Sunday just before midnight", meals, "Online", sh(8, 23, 59), want{"Online", "", sh(9, 12, 0)}},
		{"meals: base Busy outside windows", meals, "Busy", sh(7, 9, 0), want{"Busy", "", sh(9, 12, 0)}},
		{"meals: base Break inside a Busy window", meals, "Break", sh(4, 18, 0), want{"Busy", "dinner", sh(4, 18, 20)}},
		{"meals: base equal to the window's presence", meals, "Break", sh(4, 12, 5), want{"Break", "lunch", sh(4, 12, 30)}},
		{"meals: now in UTC", meals, "Online", utc(time.March, 2, 4, 10), want{"Break", "lunch", sh(2, 12, 30)}},

		// Crossing midnight and the week.
		{"overnight: before", overnight, "Online", sh(8, 21, 0), want{"Online", "", sh(8, 22, 0)}},
		{"overnight: Sunday night", overnight, "Online", sh(8, 23, 0), want{"Busy", "night", sh(9, 6, 0)}},
		{"overnight: Monday early, started on Sunday", overnight, "Online", sh(9, 5, 59), want{"Busy", "night", sh(9, 6, 0)}},
		{"overnight: Monday morning", overnight, "Online", sh(9, 6, 0), want{"Online", "", sh(13, 23, 0)}},
		{"overnight: Friday to 24:00", overnight, "Online", sh(6, 23, 30), want{"Break", "late", sh(7, 0, 0)}},
		{"overnight: Saturday, next is Sunday night", overnight, "Online", sh(7, 0, 0), want{"Online", "", sh(8, 22, 0)}},

		// Whole days.
		{"always", Schedule{Windows: []Window{{Name: "closed", Start: "00:00", End: "24:00"}}}, "Online", sh(4, 9, 0),
			want{"Break", "closed", time.Time{}}},
		{"weekdays all day: Wednesday", weekdaysAllDay, "Online", sh(4, 9, 0), want{"Busy", "weekday", sh(7, 0, 0)}},
		{"weekdays all day: Saturday", weekdaysAllDay, "Online", sh(7, 9, 0), want{"Online", "", sh(9, 0, 0)}},
		{"every day 12:00 to 12:00 next day but one minute", Schedule{Windows: []Window{{Name: "w", Start: "12:00", End: "11:59"}}}, "Online", sh(4, 11, 59),
			want{"Online", "", sh(4, 12, 0)}},

		// Adjacent and overlapping windows of the same presence.
		{"adjacent: first", adjacent, "Online", sh(2, 12, 10), want{"Break", "a", sh(2, 12, 30)}},
		{"adjacent: second", adjacent, "Online", sh(2, 12, 30), want{"Break", "b", sh(2, 13, 0)}},
		{"overlapping: the earlier start is in force", overlapping, "Online", sh(2, 12, 45), want{"Break", "A", sh(2, 13, 0)}},
		{"overlapping: then the other", overlapping, "Online", sh(2, 13, 0), want{"Break", "B", sh(2, 13, 30)}},
		{"nested: the inner start changes nothing", nested, "Online", sh(2, 12, 15), want{"Break", "outer", sh(2, 14, 0)}},
		{"same start: the first listed", sameStart, "Online", sh(2, 12, 0), want{"Busy", "first", sh(2, 12, 30)}},
		{"same start: then the longer", sameStart, "Online", sh(2, 12, 30), want{"Busy", "second", sh(2, 13, 0)}},

		// Nothing to schedule.
		{"no windows", Schedule{}, "Online", sh(2, 12, 0), want{"Online", "", time.Time{}}},
		{"unknown time zone", Schedule{TimeZone: "Mars/Olympus", Windows: meals.Windows}, "Busy", sh(2, 12, 0), want{"Busy", "", time.Time{}}},
		{"invalid windows are ignored", Schedule{Windows: []Window{
			{Name: "bad", Start: "25:00", End: "26:00"},
			{Name: "empty", Start: "12:00", End: "12:00"},
			{Name: "online", Start: "12:00", End: "13:00", Presence: "Online"},
			{Name: "lunch", Days: []string{"Mon"}, Start: "12:00", End: "12:30"},
		}}, "Online", sh(2, 12, 0), want{"Break", "lunch", sh(2, 12, 30)}},
		{"only invalid windows", Schedule{Windows: []Window{{Name: "bad", Days: []string{"Funday"}, Start: "12:00", End: "13:00"}}}, "Online", sh(2, 12, 0),
			want{"Online", "", time.Time{}}},

		// New York, clocks forward on Sunday 8 March 2026: 02:00 EST is 03:00 EDT.
		{"spring forward: before the jump", nyNight, "Online", utc(time.March, 8, 6, 0), // 01:00 EST
			want{"Online", "", utc(time.March, 8, 7, 0)}}, // 03:00 EDT: the 02:30 window starts when the clock jumps past 02:30
		{"spring forward: in the window", nyNight, "Online", utc(time.March, 8, 7, 0),
			want{"Break", "night", utc(time.March, 8, 7, 30)}}, // 03:30 EDT
		{"spring forward: after", nyNight, "Online", utc(time.March, 8, 7, 30),
			want{"Online", "", utc(time.March, 9, 6, 30)}}, // Monday 02:30 EDT
		{"spring forward: the day before", nyNight, "Online", utc(time.March, 7, 7, 30), // Saturday 02:30 EST
			want{"Break", "night", utc(time.March, 7, 8, 30)}},
		{"spring forward: a window inside the skipped hour does not happen", nyBlip, "Online", utc(time.March, 8, 6, 0),
			want{"Online", "", utc(time.March, 9, 6, 15)}}, // Monday 02:15 EDT
		{"spring forward: overnight window is an hour shorter", nyOvernight, "Online", utc(time.March, 8, 3, 0), // Saturday 22:00 EST
			want{"Busy", "overnight", utc(time.March, 8, 10, 0)}}, // Sunday 06:00 EDT, 7 hours later

		// New York, clocks back on Sunday 1 November 2026: 02:00 EDT is 01:00 EST.
		{"fall back: before", nyLate, "Online", utc(time.November, 1, 5, 29), // 01:29 EDT
			want{"Online", "", utc(time.November, 1, 5, 30)}},
		{"fall back: first 01:45", nyLate, "Online", utc(time.November, 1, 5, 45), // 01:45 EDT
			want{"Break", "late", utc(time.November, 1, 7, 0)}}, // 02:00 EST
		{"fall back: repeated hour still inside", nyLate, "Online", utc(time.November, 1, 6, 15), // 01:15 EST
			want{"Break", "late", utc(time.November, 1, 7, 0)}},
		{"fall back: after", nyLate, "Online", utc(time.November, 1, 7, 0),
			want{"Online", "", utc(time.November, 8, 6, 30)}}, // next Sunday 01:30 EST
		{"fall back: window in the first 01:00 hour", nyEarly, "Online", utc(time.November, 1, 5, 10), // 01:10 EDT
			want{"Break", "early", utc(time.November, 1, 5, 30)}},
		{"fall back: not repeated in the second", nyEarly, "Online", utc(time.November, 1, 6, 10), // 01:10 EST
			want{"Online", "", utc(time.November, 8, 6, 0)}}, // next Sunday 01:00 EST
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewWithT(t)
			presence, window, next := c.sched.At(c.base, c.now)
			g.Expect(presence).To(Equal(c.want.presence), "presence")
			g.Expect(window).To(Equal(c.want.window), "window")
			if c.want.next.IsZero() {
				g.Expect(next).To(BeZero(), "next")
				return
			}
			g.Expect(next).To(BeTemporally("==", c.want.next), "next: %s", next)
			g.Expect(next.Location().String()).To(Equal(c.sched.tz()), "next is in the schedule's zone")
		})
	}
}

func (s Schedule) tz() string {
	if s.TimeZone == "" {
		return DefaultTimeZone
	}
	return s.TimeZone
}

var (
	overnight = Schedule{Windows: []Window{
		{Name: "night", Days: []string{"Sun"}, Start: "22:00", End: "06:00", Presence: "Busy"},
		{Name: "late", Days: []string{"Fri"}, Start: "23:00", End: "24:00"},
	}}
	weekdaysAllDay = Schedule{Windows: []Window{{Name: "weekday", Days: weekdays, Start: "00:00", End: "24:00", Presence: "Busy"}}}
	adjacent       = Schedule{Windows: []Window{
		{Name: "a", Start: "12:00", End: "12:30"},
		{Name: "b", Start: "12:30", End: "13:00", Presence: "Break"},
	}}
	overlapping = Schedule{Windows: []Window{
		{Name: "B", Start: "12:30", End: "13:30"},
		{Name: "A", Start: "12:00", End: "13:00"},
	}}
	nested = Schedule{Windows: []Window{
		{Name: "inner", Start: "12:30", End: "13:00"},
		{Name: "outer", Start: "12:00", End: "14:00"},
	}}
	sameStart = Schedule{Windows: []Window{
		{Name: "first", Start: "12:00", End: "12:30", Presence: "Busy"},
		{Name: "second", Start: "12:00", End: "13:00", Presence: "Busy"},
	}}
	nyNight     = Schedule{TimeZone: "America/New_York", Windows: []Window{{Name: "night", Start: "02:30", End: "03:30"}}}
	nyBlip      = Schedule{TimeZone: "America/New_York", Windows: []Window{{Name: "blip", Start: "02:15", End: "02:45"}}}
	nyOvernight = Schedule{TimeZone: "America/New_York", Windows: []Window{{Name: "overnight", Days: []string{"Sat"}, Start: "22:00", End: "06:00", Presence: "Busy"}}}
	nyLate      = Schedule{TimeZone: "America/New_York", Windows: []Window{{Name: "late", Days: []string{"Sun"}, Start: "01:30", End: "02:00"}}}
	nyEarly     = Schedule{TimeZone: "America/New_York", Windows: []Window{{Name: "early", Days: []string{"Sun"}, Start: "01:00", End: "01:30"}}}
)

// Samoa skipped Friday 30 December 2011 to move across the date line.
func TestAtSkippedDay(t *testing.T) {
	g := NewWithT(t)
	apia := mustLoad("Pacific/Apia")
	s := Schedule{TimeZone: "Pacific/Apia", Windows: []Window{{Name: "noon", Start: "12:00", End: "13:00"}}}
	presence, window, next := s.At("Online", time.Date(2011, time.December, 29, 13, 0, 0, 0, apia))
	g.Expect([]string{presence, window}).To(Equal([]string{"Online", ""}))
	g.Expect(next).To(BeTemporally("==", time.Date(2011, time.December, 31, 12, 0, 0, 0, apia)))
	g.Expect(next.Sub(time.Date(2011, time.December, 29, 13, 0, 0, 0, apia))).To(Equal(23 * time.Hour))
}

func TestValidate(t *testing.T) {
	lunch := Window{Name: "lunch", Days: weekdays, Start: "12:00", End: "12:30", Presence: "Break"}
	with := func(change func(w *Window)) Schedule {
		w := *lunch.DeepCopy()
		change(&w)
		return Schedule{TimeZone: "Asia/Shanghai", Windows: []Window{w}}
	}
	cases := []struct {
		name  string
		sched Schedule
		want  []string // each error, in order
	}{
		{"empty schedule", Schedule{}, nil},
		{"lunch", Schedule{TimeZone: "Asia/Shanghai", Windows: []Window{lunch}}, nil},
		{"meals", meals, nil},
		{"overnight and 24:00", overnight, nil},
		{"whole day", Schedule{Windows: []Window{{Name: "closed", Start: "00:00", End: "24:00"}}}, nil},
		{"overlapping with the same presence", overlapping, nil},
		{"adjacent with different presence", Schedule{Windows: []Window{
			{Name: "a", Start: "12:00", End: "12:30", Presence: "Break"},
			{Name: "b", Start: "12:30", End: "13:00", Presence: "Busy"},
		}}, nil},
		{"UTC", Schedule{TimeZone: "UTC", Windows: []Window{lunch}}, nil},
		{"New York", nyNight, nil},

		{"unknown time zone", Schedule{TimeZone: "Asia/Beijing"}, []string{
			`timeZone: unknown time zone "Asia/Beijing": use an IANA name such as "Asia/Shanghai" or "America/New_York"`,
		}},
		{"Local", Schedule{TimeZone: "Local"}, []string{`timeZone: "Local" depends on the machine`}},
		{"unknown days", with(func(w *Window) { w.Days = []string{"Mon", "Tues", "mon", "Funday"} }), []string{
			`windows[0].days[1] (window "lunch"): unknown day "Tues" (did you mean "Tue"?); use Mon, Tue, Wed, Thu, Fri, Sat or Sun`,
			`windows[0].days[2] (window "lunch"): unknown day "mon" (did you mean "Mon"?)`,
			`windows[0].days[3] (window "lunch"): unknown day "Funday"; use Mon`,
		}},
		{"overlap on the known days of a window with unknown ones", Schedule{Windows: []Window{
			{Name: "a", Days: []string{"Mon", "Tues"}, Start: "12:00", End: "13:00"},
			{Name: "b", Days: []string{"Mon", "Tue"}, Start: "12:30", End: "13:30", Presence: "Busy"},
			{Name: "c", Days: []string{"Tues"}, Start: "12:00", End: "14:00"},
		}}, []string{
			`windows[0].days[1] (window "a"): unknown day "Tues"`,
			`windows[2].days[0] (window "c"): unknown day "Tues"`,
			`windows[1] (window "b"): overlaps windows[0] "a" on Mon 12:30–13:00, with`,
		}},
		{"duplicate day", with(func(w *Window) { w.Days = []string{"Mon", "Mon"} }), []string{
			`windows[0].days[1] (window "lunch"): "Mon" is listed twice`,
		}},
		{"bad start", with(func(w *Window) { w.Start = "9:00" }), []string{
			`windows[0].start (window "lunch"): "9:00" is not a time: use "HH:MM", 24-hour, "00:00" to "23:59"`,
		}},
		{"start 24:00", with(func(w *Window) { w.Start = "24:00" }), []string{
			`windows[0].start (window "lunch"): "24:00" can only be an end`,
		}},
		{"bad end", with(func(w *Window) { w.End = "12:60" }), []string{
			`windows[0].end (window "lunch"): "12:60" is not a time: use "HH:MM", 24-hour, "00:00" to "24:00"`,
		}},
		{"bad start and end", with(func(w *Window) { w.Start, w.End = "noon", "25:00" }), []string{
			`windows[0].start (window "lunch"): "noon" is not a time`,
			`windows[0].end (window "lunch"): "25:00" is not a time`,
		}},
		{"empty start", with(func(w *Window) { w.Start = "" }), []string{`windows[0].start (window "lunch"): "" is not a time`}},
		{"equal start and end", with(func(w *Window) { w.End = "12:00" }), []string{
			`windows[0].end (window "lunch"): equals start ("12:00"): the window would be empty; for a whole day use start "00:00" and end "24:00"`,
		}},
		{"midnight to midnight", with(func(w *Window) { w.Start, w.End = "00:00", "00:00" }), []string{`windows[0].end (window "lunch"): equals start`}},
		{"Online presence", with(func(w *Window) { w.Presence = "Online" }), []string{
			`windows[0].presence (window "lunch"): "Online" cannot be scheduled`,
		}},
		{"unknown presence", with(func(w *Window) { w.Presence = "Lunch" }), []string{
			`windows[0].presence (window "lunch"): unknown presence "Lunch"; use Break (小休, short break) or Busy (忙碌, cannot receive messages)`,
		}},
		{"presence in lower case", with(func(w *Window) { w.Presence = "busy" }), []string{`unknown presence "busy" (did you mean "Busy"?)`}},
		{"no name", with(func(w *Window) { w.Name = "" }), []string{`windows[0].name: required`}},
		{"long name", with(func(w *Window) { w.Name = strings.Repeat("x", 64) }), []string{`windows[0].name (window "xxx`}},
		{"duplicate names", Schedule{Windows: []Window{lunch, {Name: "lunch", Start: "13:00", End: "13:30"}}}, []string{
			`windows[1].name (window "lunch"): duplicate name: windows[0] is also called "lunch"; names must be unique`,
		}},
		{"too many windows", manyWindows(51), []string{`windows: 51 windows; at most 50 are allowed`}},

		{"overlap with different presence", Schedule{Windows: []Window{
			lunch,
			{Name: "meeting", Days: []string{"Wed", "Mon"}, Start: "12:15", End: "13:00", Presence: "Busy"},
		}}, []string{
			`windows[1] (window "meeting"): overlaps windows[0] "lunch" on Mon 12:15–12:30 (also Wed), with a different presence (Break vs Busy); windows that overlap must have the same presence`,
		}},
		{"overlap after midnight across the week", Schedule{Windows: []Window{
			{Name: "night", Days: []string{"Sun"}, Start: "22:00", End: "06:00", Presence: "Busy"},
			{Name: "early", Days: []string{"Mon"}, Start: "05:00", End: "07:00"},
		}}, []string{`windows[1] (window "early"): overlaps windows[0] "night" on Mon 05:00–06:00, with a different presence (Busy vs Break)`}},
		{"overlap across midnight", Schedule{Windows: []Window{
			{Name: "a", Days: []string{"Sun"}, Start: "22:00", End: "02:00"},
			{Name: "b", Days: []string{"Sun"}, Start: "23:00", End: "03:00", Presence: "Busy"},
		}}, []string{`overlaps windows[0] "a" on Sun 23:00–Mon 02:00, with`}},
		{"overlap up to 24:00", Schedule{Windows: []Window{
			{Name: "a", Days: []string{"Tue"}, Start: "23:00", End: "24:00"},
			{Name: "b", Days: []string{"Tue"}, Start: "22:00", End: "23:30", Presence: "Busy"},
		}}, []string{`on Tue 23:00–23:30,`}},
		{"every pair is named", Schedule{Windows: []Window{
			{Name: "a", Start: "12:00", End: "13:00"},
			{Name: "b", Start: "12:30", End: "13:30", Presence: "Busy"},
			{Name: "c", Start: "12:45", End: "14:00"},
		}}, []string{
			`windows[1] (window "b"): overlaps windows[0] "a" on Mon 12:30–13:00 (also Tue, Wed, Thu, Fri, Sat, Sun)`,
			`windows[2] (window "c"): overlaps windows[1] "b" on Mon 12:45–13:30 (also Tue, Wed, Thu, Fri, Sat, Sun)`,
		}},

		{"everything at once", Schedule{TimeZone: "Nowhere", Windows: []Window{
			{Name: "a", Days: []string{"Xyz"}, Start: "12:00", End: "12:00", Presence: "Away"},
			{Name: "a", Start: "1200", End: "13:00"},
		}}, []string{
			`timeZone: unknown time zone "Nowhere"`,
			`windows[0].days[0] (window "a"): unknown day "Xyz"`,
			`windows[0].end (window "a"): equals start`,
			`windows[0].presence (window "a"): unknown presence "Away"`,
			`windows[1].name (window "a"): duplicate name`,
			`windows[1].start (window "a"): "1200" is not a time`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewWithT(t)
			errs := c.sched.Validate()
			var got []string
			for _, err := range errs {
				got = append(got, err.Error())
			}
			g.Expect(got).To(HaveLen(len(c.want)), "errors:\n%s", strings.Join(got, "\n"))
			for i, want := range c.want {
				g.Expect(got[i]).To(ContainSubstring(want))
			}
		})
	}
}

func TestValidateFieldError(t *testing.T) {
	g := NewWithT(t)
	errs := Schedule{Windows: []Window{{Name: "lunch", Start: "12:00", End: "12:7"}}}.Validate()
	g.Expect(errs).To(HaveLen(1))
	var fe *FieldError
	g.Expect(errors.As(errs[0], &fe)).To(BeTrue())
	g.Expect(*fe).To(Equal(FieldError{
		Field:  "windows[0].end",
		Window: "lunch",
		Detail: `"12:7" is not a time: use "HH:MM", 24-hour, "00:00" to "24:00"`,
	}))
}

func TestParseClock(t *testing.T) {
	g := NewWithT(t)
	for s, want := range map[string]int{"00:00": 0, "09:05": 545, "12:30": 750, "23:59": 1439} {
		got, ok := parseClock(s, false)
		g.Expect(ok).To(BeTrue(), s)
		g.Expect(got).To(Equal(want), s)
	}
	got, ok := parseClock("24:00", true)
	g.Expect(ok).To(BeTrue())
	g.Expect(got).To(Equal(1440))
	for _, s := range []string{"", "24:00", "24:01", "9:00", "09:0", "09:60", "0900", "09-00", "+9:00", "09:0x", " 9:00", "０９:００"} {
		_, ok := parseClock(s, false)
		g.Expect(ok).To(BeFalse(), s)
	}
	_, ok = parseClock("24:01", true)
	g.Expect(ok).To(BeFalse())
}

func TestJSON(t *testing.T) {
	g := NewWithT(t)
	in := `{"timeZone":"Asia/Shanghai","windows":[{"name":"lunch","days":["Mon","Tue"],"start":"12:00","end":"12:30","presence":"Break"}]}`
	var s Schedule
	g.Expect(json.Unmarshal([]byte(in), &s)).To(Succeed())
	g.Expect(s).To(Equal(Schedule{TimeZone: "Asia/Shanghai", Windows: []Window{
		{Name: "lunch", Days: []string{"Mon", "Tue"}, Start: "12:00", End: "12:30", Presence: "Break"},
	}}))
	out, err := json.Marshal(s)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(out)).To(MatchJSON(in))

	// Optional fields are omitted.
	out, err = json.Marshal(Schedule{Windows: []Window{{Name: "w", Start: "01:00", End: "02:00"}}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(out)).To(MatchJSON(`{"windows":[{"name":"w","start":"01:00","end":"02:00"}]}`))
	out, err = json.Marshal(Schedule{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(out)).To(MatchJSON(`{}`))
}

func TestDeepCopy(t *testing.T) {
	g := NewWithT(t)
	orig := meals.DeepCopy()
	cp := orig.DeepCopy()
	g.Expect(cp).To(Equal(orig))
	cp.Windows[0].Days[0] = "Sun"
	cp.Windows[1].Name = "supper"
	g.Expect(orig.Windows[0].Days[0]).To(Equal("Mon"))
	g.Expect(orig.Windows[1].Name).To(Equal("dinner"))
	g.Expect((*Schedule)(nil).DeepCopy()).To(BeNil())
	g.Expect((*Window)(nil).DeepCopy()).To(BeNil())
	g.Expect((&Schedule{}).DeepCopy()).To(Equal(&Schedule{}))
}

func manyWindows(n int) Schedule {
	var s Schedule
	for i := range n {
		s.Windows = append(s.Windows, Window{Name: fmt.Sprintf("w%d", i), Start: "12:00", End: "12:30"})
	}
	return s
}

// The boundary a controller acts at: lunch's start while it is on, its end
// afterwards, Friday's end over the weekend.
func TestLastBoundary(t *testing.T) {
	g := NewWithT(t)
	cst := time.FixedZone("CST", 8*3600)
	s := Schedule{TimeZone: "Asia/Shanghai", Windows: []Window{
		{Name: "lunch", Days: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}, Start: "12:00", End: "12:30", Presence: PresenceBreak},
	}}
	for _, tt := range []struct{ now, want time.Time }{
		{time.Date(2026, 11, 23, 12, 10, 0, 0, cst), time.Date(2026, 11, 23, 12, 0, 0, 0, cst)},
		{time.Date(2026, 11, 23, 12, 0, 0, 0, cst), time.Date(2026, 11, 23, 12, 0, 0, 0, cst)},
		{time.Date(2026, 11, 23, 12, 31, 0, 0, cst), time.Date(2026, 11, 23, 12, 30, 0, 0, cst)},
		{time.Date(2026, 11, 23, 11, 59, 0, 0, cst), time.Date(2026, 11, 20, 12, 30, 0, 0, cst)},
		{time.Date(2026, 11, 22, 20, 0, 0, 0, cst), time.Date(2026, 11, 20, 12, 30, 0, 0, cst)},
	} {
		g.Expect(s.LastBoundary("Online", tt.now)).To(BeTemporally("==", tt.want), "at %s", tt.now)
	}
	g.Expect(Schedule{}.LastBoundary("Online", time.Now())).To(BeZero())
	always := Schedule{Windows: []Window{{Name: "off", Start: "00:00", End: "24:00", Presence: PresenceBusy}}}
	g.Expect(always.LastBoundary("Online", time.Date(2026, 11, 23, 12, 0, 0, 0, cst))).To(BeZero())
}
