package memory

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// MaxActivityEntries bounds each shop's activity feed; older entries are
// dropped.
const MaxActivityEntries = 10000

// ActivityRecord is one stored entry of a shop's activity feed. Seq orders
// entries of the same time and makes the paging cursor.
type ActivityRecord struct {
	Seq         int64                 `json:"seq"`
	Time        time.Time             `json:"time"`
	AccountID   string                `json:"accountID"`
	AccountName string                `json:"accountName"`
	Kind        platform.ActivityKind `json:"kind"`
	Presence    string                `json:"presence,omitempty"`
	Operation   string                `json:"operation,omitempty"`
	Target      string                `json:"target,omitempty"`
}

func (r ActivityRecord) view() platform.Activity {
	return platform.Activity{ID: strconv.FormatInt(r.Seq, 10), Time: r.Time, AccountID: r.AccountID, AccountName: r.AccountName,
		Kind: r.Kind, Presence: r.Presence, Operation: r.Operation, Target: r.Target}
}

// compare orders records by time, then by Seq.
func (r ActivityRecord) compare(o ActivityRecord) int {
	if c := r.Time.Compare(o.Time); c != 0 {
		return c
	}
	return int(min(max(r.Seq-o.Seq, -1), 1))
}

// recordActivity adds an entry for account a, in time order: an injected
// entry may be back-dated.
func (sh *ShopState) recordActivity(at time.Time, a *AccountRecord, kind platform.ActivityKind, presence, operation, target string) platform.Activity {
	sh.ActivitySeq++
	r := ActivityRecord{Seq: sh.ActivitySeq, Time: at.UTC().Truncate(time.Millisecond), AccountID: a.ID, AccountName: a.Name,
		Kind: kind, Presence: presence, Operation: operation, Target: target}
	i, _ := slices.BinarySearchFunc(sh.Activity, r, ActivityRecord.compare)
	sh.Activity = slices.Insert(sh.Activity, i, r)
	if n := len(sh.Activity) - MaxActivityEntries; n > 0 {
		sh.Activity = slices.Delete(sh.Activity, 0, n)
	}
	return r.view()
}

// activityPresences are the presences an entry may report.
var activityPresences = []string{string(platform.PresenceOnline), string(platform.PresenceBusy), string(platform.PresenceBreak),
	platform.ActivityPresenceOffline, platform.ActivityPresenceSuspended, platform.ActivityPresenceResumed}

// RecordActivity adds an entry to a shop's activity feed, as if the
// sub-account had done it (shopsim's admin API injects activity for tests
// with it). The account is found by AccountID, else AccountName; a zero
// Time is now. A Presence entry needs a known presence, an Operation entry
// an operation; ID is assigned.
func (e *Engine) RecordActivity(p platform.Name, mainAccount string, act platform.Activity) (platform.Activity, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(p, mainAccount)]
	if !ok {
		return platform.Activity{}, shopNotFound(p, mainAccount)
	}
	a := sh.Accounts[act.AccountID]
	if a == nil && act.AccountID == "" {
		a = sh.findAccount(act.AccountName)
	}
	if a == nil {
		return platform.Activity{}, platform.NewError(platform.ErrNotFound, "account", "no sub-account %q", act.AccountID+act.AccountName)
	}
	switch act.Kind {
	case platform.ActivityLogin:
	case platform.ActivityPresence:
		if !slices.Contains(activityPresences, act.Presence) {
			return platform.Activity{}, platform.NewError(platform.ErrInvalid, "presence", "presence must be one of %s", strings.Join(activityPresences, ", "))
		}
	case platform.ActivityOperation:
		if strings.TrimSpace(act.Operation) == "" {
			return platform.Activity{}, platform.NewError(platform.ErrInvalid, "operation", "an operation entry needs its operation")
		}
	default:
		return platform.Activity{}, platform.NewError(platform.ErrInvalid, "kind", "kind must be %s, %s or %s",
			platform.ActivityLogin, platform.ActivityPresence, platform.ActivityOperation)
	}
	at := act.Time
	if at.IsZero() {
		at = e.clock()
	}
	return sh.recordActivity(at, a, act.Kind, act.Presence, act.Operation, act.Target), nil
}

// SignIn is a sub-account signing in to the back office with its login
// ("name" or "main:name") and password: the feed records a Login. A wrong
// login or password, a disabled account or one whose phone is not verified
// yet is ErrUnauthorized, and nothing is recorded.
func (e *Engine) SignIn(p platform.Name, mainAccount, login, password string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(p, mainAccount)]
	if !ok {
		return shopNotFound(p, mainAccount)
	}
	a := sh.findAccount(strings.TrimPrefix(login, sh.MainAccount+":"))
	if a == nil || a.State.Disabled || !a.authorised() || !checkPassword(a, password) {
		return platform.NewError(platform.ErrUnauthorized, "login", "the login or password is wrong, or the account cannot sign in")
	}
	sh.recordActivity(e.clock(), a, platform.ActivityLogin, "", "", "")
	return nil
}

// ListActivity pages the shop's activity feed, oldest first. The cursor is
// the time and sequence of the last entry of the page before, so entries
// injected since do not shift the pages.
func (c *client) ListActivity(ctx context.Context, q platform.ActivityQuery) (platform.ActivityPage, error) {
	var out platform.ActivityPage
	err := c.call(ctx, "ListActivity", func(sh *ShopState, _ *catalog.Catalog) error {
		limit := q.Limit
		switch {
		case limit == 0:
			limit = platform.MaxActivityPageSize
		case limit < 0 || limit > platform.MaxActivityPageSize:
			return platform.NewError(platform.ErrInvalid, "limit", "limit must be 1-%d", platform.MaxActivityPageSize)
		}
		if !q.Until.IsZero() && q.Until.Before(q.Since) {
			return platform.NewError(platform.ErrInvalid, "until", "until must not be before since")
		}
		after, err := parseActivityCursor(q.Cursor)
		if err != nil {
			return err
		}
		i := 0
		if after != nil {
			i, _ = slices.BinarySearchFunc(sh.Activity, *after, ActivityRecord.compare)
			if i < len(sh.Activity) && sh.Activity[i].compare(*after) == 0 {
				i++
			}
		} else {
			i, _ = slices.BinarySearchFunc(sh.Activity, ActivityRecord{Time: q.Since}, ActivityRecord.compare)
		}
		var last ActivityRecord
		for ; i < len(sh.Activity); i++ {
			r := sh.Activity[i]
			if !q.Until.IsZero() && !r.Time.Before(q.Until) {
				break
			}
			if r.Time.Before(q.Since) || (len(q.AccountIDs) > 0 && !slices.Contains(q.AccountIDs, r.AccountID)) {
				continue
			}
			if len(out.Entries) == limit {
				out.Next = formatActivityCursor(last)
				break
			}
			out.Entries, last = append(out.Entries, r.view()), r
		}
		return nil
	})
	return out, err
}

// The cursor is "<unix ms>.<seq>" of the last entry a page held.
func formatActivityCursor(last ActivityRecord) string {
	return strconv.FormatInt(last.Time.UnixMilli(), 10) + "." + strconv.FormatInt(last.Seq, 10)
}

func parseActivityCursor(cursor string) (*ActivityRecord, error) {
	if cursor == "" {
		return nil, nil
	}
	ms, seq, ok := strings.Cut(cursor, ".")
	m, err1 := strconv.ParseInt(ms, 10, 64)
	s, err2 := strconv.ParseInt(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil || s <= 0 {
		return nil, platform.NewError(platform.ErrInvalid, "cursor", "not a cursor of the activity feed")
	}
	return &ActivityRecord{Time: time.UnixMilli(m).UTC(), Seq: s}, nil
}
