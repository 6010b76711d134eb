package platform

import "time"

// ActivityKind is what a sub-account did.
type ActivityKind string

const (
	// ActivityLogin is a sign-in to the back office or the chat client.
	ActivityLogin ActivityKind = "Login"
	// ActivityPresence is a customer-service presence change (Taobao's
	// online-status log: online, offline, suspended, resumed).
	ActivityPresence ActivityKind = "Presence"
	// ActivityOperation is a business operation, with what it was and on
	// what (e.g. item.update on item 6123).
	ActivityOperation ActivityKind = "Operation"
)

// Presences an activity entry may report, beyond the three an agent picks
// (Online, Busy, Break): TOP's online-status log also says offline,
// suspended (挂起) and resumed.
const (
	ActivityPresenceOffline   = "Offline"
	ActivityPresenceSuspended = "Suspended"
	ActivityPresenceResumed   = "Resumed"
)

// Activity is one thing a sub-account did, as the platform logged it. It
// never carries a password, code or token.
type Activity struct {
	// ID identifies the entry within the shop's feed (opaque).
	ID   string
	Time time.Time
	// AccountID and AccountName (the part after "main:") say who.
	AccountID   string
	AccountName string
	Kind        ActivityKind
	// Presence is the new presence of a Presence entry: Online, Busy,
	// Break, or one of the ActivityPresence* values.
	Presence string
	// Operation and Target say what an Operation entry did, and on what.
	Operation string
	Target    string
}

// ActivityQuery asks for one page of a shop's activity feed.
type ActivityQuery struct {
	// Since and Until bound the entries' time: Since <= Time < Until. A
	// zero Until sets no upper bound.
	Since, Until time.Time
	// AccountIDs keeps only these accounts' entries; empty is every
	// account, except where Capabilities.ActivityNeedsAccountIDs says the
	// platform must be told which accounts to read (TOP).
	AccountIDs []string
	// Cursor continues after the page whose Next it is ("" is the first
	// page). A cursor is only valid with the same Since, Until and
	// AccountIDs.
	Cursor string
	// Limit is the most entries a page holds, 1-MaxActivityPageSize; 0
	// means MaxActivityPageSize.
	Limit int
}

// MaxActivityPageSize is the most entries one page of the feed holds.
const MaxActivityPageSize = 500

// ActivityPage is one page of the activity feed, oldest entry first.
type ActivityPage struct {
	Entries []Activity
	// Next is the cursor of the next page; "" when this is the last one.
	Next string
}
