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

package schedule_test

import (
	"fmt"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/schedule"
)

// Lunch from 12:00 to 12:30, Beijing time, Monday to Friday, as a break.
func Example() {
	s := schedule.Schedule{
		TimeZone: "Asia/Shanghai",
		Windows: []schedule.Window{{
			Name:     "lunch",
			Days:     []string{"Mon", "Tue", "Wed", "Thu", "Fri"},
			Start:    "12:00",
			End:      "12:30",
			Presence: "Break",
		}},
	}
	if errs := s.Validate(); len(errs) > 0 {
		fmt.Println(errs)
		return
	}

	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	for _, now := range []time.Time{
		time.Date(2026, time.March, 2, 11, 0, 0, 0, shanghai),  // Monday
		time.Date(2026, time.March, 2, 12, 10, 0, 0, shanghai), // Monday, at lunch
		time.Date(2026, time.March, 6, 12, 30, 0, 0, shanghai), // Friday, lunch over
	} {
		presence, window, next := s.At("Online", now)
		fmt.Printf("%s: %-6s %-8q until %s\n", now.Format("Mon 15:04"), presence, window, next.Format("Mon 15:04"))
	}
	// Output:
	// Mon 11:00: Online ""       until Mon 12:00
	// Mon 12:10: Break  "lunch"  until Mon 12:30
	// Fri 12:30: Online ""       until Mon 12:00
}

// A window that Validate rejects is reported with its field and name.
func ExampleSchedule_Validate() {
	s := schedule.Schedule{Windows: []schedule.Window{
		{Name: "lunch", Days: []string{"Mon", "Tues"}, Start: "12:00", End: "12:30"},
		{Name: "meeting", Days: []string{"Mon"}, Start: "12:15", End: "13:00", Presence: "Busy"},
	}}
	for _, err := range s.Validate() {
		fmt.Println(err)
	}
	// Output:
	// windows[0].days[1] (window "lunch"): unknown day "Tues" (did you mean "Tue"?); use Mon, Tue, Wed, Thu, Fri, Sat or Sun
	// windows[1] (window "meeting"): overlaps windows[0] "lunch" on Mon 12:15–12:30, with a different presence (Break vs Busy); windows that overlap must have the same presence
}
