package taobao

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
)

// presenceLogDays is how far back TOP keeps the online-status log.
const presenceLogDays = 30

// ListActivity reads TOP's online-status log
// (taobao.qianniu.cloudkefu.onlinestatuslog.get), the only sub-account
// activity TOP publishes: presence changes, no logins or operations. The
// method takes at most 5 account IDs, so the query must name the accounts
// (Capabilities.ActivityNeedsAccountIDs) and each page is one call for the
// next 5 of them; Next walks through the rest. Limit does not apply: a
// page is what TOP answers for its accounts. TOP reads whole days (GMT+8),
// so the entries are cut to [Since, Until) here, and it keeps 30 days, so
// an older Since reads from 30 days ago.
func (c *Client) ListActivity(ctx context.Context, q platform.ActivityQuery) (platform.ActivityPage, error) {
	if len(q.AccountIDs) == 0 {
		return platform.ActivityPage{}, platform.NewError(platform.ErrInvalid, "accountIDs",
			"Taobao's online-status log is read per account: name the accounts")
	}
	offset := 0
	if q.Cursor != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(q.Cursor, "accounts:"))
		if err != nil || n <= 0 || n >= len(q.AccountIDs) || !strings.HasPrefix(q.Cursor, "accounts:") {
			return platform.ActivityPage{}, platform.NewError(platform.ErrInvalid, "cursor", "not a cursor of this query")
		}
		offset = n
	}
	now := c.opts.Clock()
	until := q.Until
	if until.IsZero() {
		until = now
	}
	since := q.Since
	if oldest := now.AddDate(0, 0, -presenceLogDays+1); since.Before(oldest) {
		since = oldest
	}
	if !until.After(since) {
		return platform.ActivityPage{}, nil
	}
	end := min(offset+top.MaxPresenceAccounts, len(q.AccountIDs))
	records, err := c.PresenceLog(ctx, q.AccountIDs[offset:end], since, until)
	if err != nil {
		return platform.ActivityPage{}, err
	}
	page := platform.ActivityPage{}
	if end < len(q.AccountIDs) {
		page.Next = "accounts:" + strconv.Itoa(end)
	}
	for _, r := range records {
		if r.Time.Before(since) || !r.Time.Before(until) {
			continue
		}
		page.Entries = append(page.Entries, platform.Activity{
			ID:   r.AccountID + "@" + strconv.FormatInt(r.Time.UnixMilli(), 10),
			Time: r.Time, AccountID: r.AccountID, Kind: platform.ActivityPresence, Presence: presenceOf(r.Status),
		})
	}
	slices.SortStableFunc(page.Entries, func(a, b platform.Activity) int { return a.Time.Compare(b.Time) })
	return page, nil
}

// presenceOf names a TOP presence status as an activity presence.
func presenceOf(s top.PresenceStatus) string {
	switch s {
	case top.PresenceOnline:
		return string(platform.PresenceOnline)
	case top.PresenceOffline:
		return platform.ActivityPresenceOffline
	case top.PresenceSuspended:
		return platform.ActivityPresenceSuspended
	case top.PresenceResumed:
		return platform.ActivityPresenceResumed
	}
	return s.String()
}
