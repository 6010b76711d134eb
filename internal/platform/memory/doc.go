// Package memory is an in-memory marketplace back office that enforces the
// platforms' sub-account business rules, so controller tests exercise real
// behaviour instead of a permissive fake. The same Engine is meant to be
// served over HTTP by the shopsim server, which persists it with Snapshot
// and Restore.
//
// An Engine holds any number of shops, each identified by platform and main
// account and created with AddShop. Factory returns a platform.Factory whose
// clients are bound to one shop; every client call
//
//   - is counted per method name (Calls, ResetCalls);
//   - fails with the injected error if the fault hook (SetFault) returns one,
//     before doing anything else;
//   - fails with ctx.Err() if the context is done;
//   - fails with platform.ErrUnauthorized unless the client's AppKey,
//     AppSecret and AccessToken all equal the shop's current ones (so
//     SetCredentials makes existing clients fail);
//   - returns *platform.Error values built with platform.NewError, with Field
//     naming the offending input where there is one.
//
// Rules enforced (limits come from the platform's catalog, see package
// catalog):
//
//   - Account names: non-empty, no ':', at most AccountNameMaxLength
//     characters (ErrInvalid "name"), unique per shop (ErrNameTaken "name").
//     Login is "main:name".
//   - Passwords: at least PasswordMinLength characters (ErrInvalid
//     "password"); stored only as a salted SHA-256 hash.
//   - Seats: creating an account when the shop already has SeatQuota
//     accounts fails with ErrQuotaExhausted (checked after input validation).
//   - RoleIDs must name roles of the shop (ErrInvalid "roleIDs"); role
//     permissions and extra permissions must be catalog codes (ErrInvalid
//     "permissions") and are stored expanded (Taobao's tree rule). Role IDs
//     are stored de-duplicated and sorted.
//   - Seat: capacity 1–50 (ErrInvalid "seat.capacity"), presence Online,
//     Busy or Break (ErrInvalid "seat.presence").
//   - Phones: on Taobao and Pinduoduo one phone per sub-account of a shop;
//     on Douyin one shop per phone across the whole engine, with distinct
//     messages for "already a sub-account of this shop", "bound to another
//     shop" and "is this shop's main account" (ErrConflict "phone").
//   - Douyin: a sub-account needs exactly one role (position) and a phone.
//   - Role names: non-empty, at most RoleNameMaxLength characters (ErrInvalid
//     "name"), unique per shop (ErrNameTaken "name"). Deleting a role still
//     assigned to accounts is an ErrConflict.
//   - CreateAccount and CreateRole are idempotent per non-empty requestID
//     within a shop while the first object exists.
//   - IDs are numeric strings assigned sequentially per engine; unknown IDs
//     yield ErrNotFound. ListAccounts is sorted by ID, Page >= 1, PageSize
//     1–200.
//
// Every successful write appends an AuditEntry to the shop's audit log
// (never a password), with the Source the call's context carries (see
// platform.WithSource; the shopsim server sets it from the X-Source header). Engine-side administration (AddShop, SetCredentials,
// SetSeatQuota, Restore) is not audited: the log is what the operator did
// through the platform API.
//
// Read accessors for servers and tests: Shops, ShopCredentials (secrets:
// for checking requests only), Accounts, Roles, Audit. They bypass the fault
// hook and the call counters.
//
// The whole state is the exported, JSON-serializable State. A snapshot
// contains the shops' API credentials and password hashes, so treat it as a
// secret. Call counters and the fault hook are not part of the state.
package memory
