package gateway

// Paginate returns the page opts asks for of all, for a back office that
// hands over every account at once: all must be in ID order (the
// protocol's order). The Server has already checked opts (page from 1,
// pageSize 1-200).
func Paginate(all []Account, opts ListOptions) AccountPage {
	page := AccountPage{Accounts: []Account{}, Total: len(all)}
	start := (opts.Page - 1) * opts.PageSize
	if opts.Page < 1 || opts.PageSize < 1 || start >= len(all) {
		return page
	}
	page.Accounts = all[start:min(len(all), start+opts.PageSize)]
	return page
}
