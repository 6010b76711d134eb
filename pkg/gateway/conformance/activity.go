package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// activityActs is how many entries the activity check makes its account
// act (Target.Activity), paged one a page.
const activityActs = 3

// activityPages bounds how many pages the check reads when it pages over
// the feed the shop already has.
const activityPages = 5

// activity checks GET /activity, the sub-accounts' activity feed. A
// gateway without one answers 501 not_supported (or, predating the path,
// 404), which the operator takes for "no activity feed": skipped. A
// gateway with one refuses a bad limit, cursor or time, and until before
// since, with 422 on the field; pages of limit=1 follow each other by
// their next cursor to the last page (no next), oldest first, without an
// entry twice, and hold the entries one page of them all holds; entries
// keep to since <= time < until and to the accountId asked for.
func (s *suite) activity(ctx context.Context) Result {
	const check = CheckActivity
	x := s.c.do(ctx, http.MethodGet, wire.PathActivity, url.Values{"limit": {"1"}}, nil, signing{})
	switch {
	case x.err != nil:
		return x.fail(check, "no answer: %v", x.err)
	case x.status == http.StatusNotImplemented && x.errorBody().Code == wire.CodeNotSupported:
		return skip(check, "the gateway has no activity feed (501 not_supported)")
	case x.status == http.StatusNotImplemented:
		return x.fail(check, "a gateway without an activity feed answers 501 with the error code %q, got %q",
			wire.CodeNotSupported, x.errorBody().Code)
	case x.status == http.StatusNotFound:
		return skip(check, "the gateway predates the activity feed (GET %s is 404; the operator takes that for no feed)", wire.PathActivity)
	}
	if r, ok := expectOK(check, x, http.StatusOK, &wire.ActivityList{}); !ok {
		return r
	}
	now := time.Now().UTC()
	for _, bad := range []struct {
		query url.Values
		field string
	}{
		{url.Values{"limit": {"-1"}}, "limit"},
		{url.Values{"limit": {strconv.Itoa(platform.MaxActivityPageSize + 1)}}, "limit"},
		{url.Values{"cursor": {"not a cursor"}}, "cursor"},
		{url.Values{"since": {"yesterday"}}, "since"},
		{url.Values{"since": {now.Format(time.RFC3339)}, "until": {now.Add(-time.Hour).Format(time.RFC3339)}}, "until"},
	} {
		x := s.c.do(ctx, http.MethodGet, wire.PathActivity, bad.query, nil, signing{})
		if r, ok := expectError(check, x, http.StatusUnprocessableEntity, wire.CodeInvalid, bad.field); !ok {
			return r
		}
	}
	if s.t.Activity == nil {
		return s.existingActivity(ctx, now)
	}
	return s.ownActivity(ctx)
}

// ownActivity creates an account, has it act activityActs times
// (Target.Activity) and pages over its entries.
func (s *suite) ownActivity(ctx context.Context) Result {
	const check = CheckActivity
	if r, ok := s.needsSetup(check); !ok {
		return r
	}
	in, a, r, ok := s.createAccount(ctx, check, "act")
	if !ok {
		return r
	}
	defer s.cleanupAccount(ctx, a.ID)
	if s.phones == platform.PhoneVerificationAfterCreate && a.Verification != nil && !a.Verification.Verified {
		// An account that cannot sign in yet has no activity: verify it.
		if s.t.Codes == nil {
			return skip(check, "the refusals passed; the suite's account cannot sign in before its phone is verified, "+
				"and there is no way to read the SMS code (Target.Codes)")
		}
		code, err := s.t.Codes(ctx, in.Profile.Phone)
		if err != nil {
			return Result{Check: check, Outcome: Failed, Reason: fmt.Sprintf("reading the code sent to the account's phone: %v", err)}
		}
		x := s.c.do(ctx, http.MethodPost, accountPath(a.ID)+"/verify", nil, wire.VerifyCode{Code: code}, signing{})
		if r, ok := expectOK(check, x, http.StatusOK, nil); !ok {
			return r
		}
	}
	if err := s.t.Activity(ctx, a.Name, in.Password, activityActs); err != nil {
		return Result{Check: check, Outcome: Failed, Reason: fmt.Sprintf("making the account act (Target.Activity): %v", err)}
	}
	mine := url.Values{"accountId": {a.ID}}
	pages, x, r, ok := s.activityPages(ctx, mine, 0)
	if !ok {
		return r
	}
	entries := slices.Concat(pages...)
	if len(entries) != activityActs {
		return x.fail(check, "the account acted %d times; its feed (accountId=%s) paged 1 a page holds %d entries", activityActs, a.ID, len(entries))
	}
	for _, e := range entries {
		if e.AccountID != a.ID {
			return x.fail(check, "asked for accountId %s, the feed holds an entry of account %s", a.ID, e.AccountID)
		}
	}
	// Time bounds: until the first entry is nothing of it; since the last
	// is the last (and any of the same time).
	first, last := entries[0], entries[len(entries)-1]
	q := url.Values{"accountId": {a.ID}, "until": {first.Time.Format(time.RFC3339Nano)}}
	var l wire.ActivityList
	x = s.c.do(ctx, http.MethodGet, wire.PathActivity, q, nil, signing{})
	if r, ok := expectOK(check, x, http.StatusOK, &l); !ok {
		return r
	}
	if len(l.Items) != 0 {
		return x.fail(check, "until (exclusive) the account's first entry, the feed holds %d of its entries", len(l.Items))
	}
	q = url.Values{"accountId": {a.ID}, "since": {last.Time.Format(time.RFC3339Nano)}}
	x = s.c.do(ctx, http.MethodGet, wire.PathActivity, q, nil, signing{})
	if r, ok := expectOK(check, x, http.StatusOK, &l); !ok {
		return r
	}
	if !slices.ContainsFunc(l.Items, func(e wire.ActivityEntry) bool { return e.ID == last.ID }) ||
		slices.ContainsFunc(l.Items, func(e wire.ActivityEntry) bool { return e.Time.Before(last.Time) }) {
		return x.fail(check, "since (inclusive) the account's last entry, the feed must hold it and nothing older")
	}
	return pass(check)
}

// existingActivity pages over the shop's last day of activity, without a
// way to make any: checked as far as the feed holds entries.
func (s *suite) existingActivity(ctx context.Context, now time.Time) Result {
	const check = CheckActivity
	q := url.Values{"since": {now.Add(-24 * time.Hour).Format(time.RFC3339)}, "until": {now.Format(time.RFC3339)}}
	pages, _, r, ok := s.activityPages(ctx, q, activityPages)
	if !ok {
		return r
	}
	if n := len(slices.Concat(pages...)); n < 2 {
		return skip(check, "the refusals passed; the feed holds %d entries of the last day, too few to page over, "+
			"and the suite has no way to make an account act (Target.Activity)", n)
	}
	return pass(check)
}

// activityPages reads the feed of query one entry a page, following next,
// at most maxPages pages (0: until the last), and checks each page and their
// order; when it reached the last page, the whole feed in one page must
// hold the same entries.
func (s *suite) activityPages(ctx context.Context, query url.Values, maxPages int) ([][]wire.ActivityEntry, exchange, Result, bool) {
	const check = CheckActivity
	var (
		pages [][]wire.ActivityEntry
		seen  = map[string]bool{}
		prev  time.Time
		x     exchange
		next  string
	)
	since, _ := time.Parse(time.RFC3339Nano, query.Get("since"))
	until, _ := time.Parse(time.RFC3339Nano, query.Get("until"))
	for {
		q := url.Values{"limit": {"1"}}
		for k, v := range query {
			q[k] = v
		}
		if next != "" {
			q.Set("cursor", next)
		}
		var l wire.ActivityList
		x = s.c.do(ctx, http.MethodGet, wire.PathActivity, q, nil, signing{})
		if r, ok := expectOK(check, x, http.StatusOK, &l); !ok {
			return nil, x, r, false
		}
		if len(l.Items) > 1 {
			return nil, x, x.fail(check, "limit=1, the page holds %d entries", len(l.Items)), false
		}
		for _, e := range l.Items {
			switch {
			case e.ID == "" || seen[e.ID]:
				return nil, x, x.fail(check, "entry %q is on two pages, or has no id", e.ID), false
			case e.Time.Before(prev):
				return nil, x, x.fail(check, "the pages are not oldest first: %s after %s", e.Time.Format(time.RFC3339Nano), prev.Format(time.RFC3339Nano)), false
			case !since.IsZero() && e.Time.Before(since), !until.IsZero() && !e.Time.Before(until):
				return nil, x, x.fail(check, "entry %s at %s is outside since=%s until=%s", e.ID, e.Time.Format(time.RFC3339Nano),
					query.Get("since"), query.Get("until")), false
			}
			seen[e.ID], prev = true, e.Time
		}
		pages = append(pages, l.Items)
		if l.Next == "" {
			break
		}
		if len(l.Items) == 0 {
			return nil, x, x.fail(check, "an empty page must be the last (it has next %q)", l.Next), false
		}
		if maxPages > 0 && len(pages) >= maxPages {
			return pages, x, Result{}, true
		}
		next = l.Next
	}
	// The last page was reached: one page of them all is the same entries.
	var all wire.ActivityList
	x = s.c.do(ctx, http.MethodGet, wire.PathActivity, query, nil, signing{})
	if r, ok := expectOK(check, x, http.StatusOK, &all); !ok {
		return nil, x, r, false
	}
	var paged, whole []string
	for _, p := range pages {
		for _, e := range p {
			paged = append(paged, e.ID)
		}
	}
	for _, e := range all.Items {
		whole = append(whole, e.ID)
	}
	if !slices.Equal(paged, whole) && all.Next == "" {
		return nil, x, x.fail(check, "paged one at a time the feed holds %v; in one page, %v", paged, whole), false
	}
	return pages, x, Result{}, true
}
