package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// ListActivity is GET /activity?since=&until=&accountId=&cursor=&limit=.
// The path came to v1 later: a gateway that predates it answers 404, and
// that is ErrNotSupported (no activity feed), never a retry.
func (c *client) ListActivity(ctx context.Context, q platform.ActivityQuery) (platform.ActivityPage, error) {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	for _, id := range q.AccountIDs {
		v.Add("accountId", id)
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out wire.ActivityList
	err := c.do(ctx, request{method: http.MethodGet, path: wire.PathActivity, query: v, out: &out})
	if errors.Is(err, platform.ErrNotFound) {
		return platform.ActivityPage{}, platform.NewError(platform.ErrNotSupported, "",
			"the gateway has no activity feed (GET %s answered 404): it predates the feed", wire.PathActivity)
	}
	if err != nil {
		return platform.ActivityPage{}, err
	}
	page := platform.ActivityPage{Next: out.Next, Entries: make([]platform.Activity, 0, len(out.Items))}
	for _, e := range out.Items {
		page.Entries = append(page.Entries, platform.Activity(e))
	}
	return page, nil
}
