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
//     Busy or Break (ErrInvalid "seat.presence"). Presence and capacity are
//     the agent's own settings: capacity 0 and presence "" in a write keep
//     the account's (a new seat gets DefaultSeatCapacity and Online). Busy
//     (忙碌) and Break (小休) cannot receive messages (platform.PresenceMeaning).
//     SetSeatAsAgent stands in for the agent changing them in the chat
//     client: its audit entry (account.seat.agent) has source "agent".
//   - Reception capacity on Douyin (the catalog's SeatCapacityBySubAccount):
//     only the sub-account itself changes it. A main-account write
//     (CreateAccount, UpdateAccount) that changes it is ErrForbidden
//     "seat.capacity". SetSeatCapacity signs in as the sub-account: a wrong
//     name or password, a disabled account or an unverified phone is
//     ErrUnauthorized "actAs", another account's login ErrForbidden "actAs",
//     an account without a seat ErrConflict "seat"; the audit entry
//     (account.seat.capacity) says "reception capacity N -> M, set by the
//     API caller on the sub-account's behalf, signed in with its login":
//     the caller holds the shop's API credentials, so it is never the
//     agent.
//   - Phones: on Taobao and Pinduoduo one phone per sub-account of a shop;
//     on Douyin one shop per phone across the whole engine, with distinct
//     messages for "already a sub-account of this shop", "bound to another
//     shop" and "is this shop's main account" (ErrConflict "phone").
//   - Douyin: a sub-account needs exactly one role (position) and a phone.
//   - Douyin, the code first (ShopSetup.PhoneVerification BeforeCreate,
//     the default; ShopInfo says which): RequestCode texts a random 6-digit
//     code to a phone and answers a random verification ID, the masked
//     phone, ExpiresAt = now + 5 minutes and 5 attempts; it creates
//     nothing. It refuses what creating would refuse (a full shop
//     ErrQuotaExhausted, a bound phone ErrConflict "phone") before any
//     SMS, answers the same verification to a repeated requestID, and
//     sends at most one code a minute per phone (ErrRateLimited with
//     RetryAfter); a new code replaces the phone's last. CreateAccount
//     needs CreateAccount.Code and checks it last, after every other rule:
//     none ErrInvalid "code"; unknown or used ID ErrNotFound
//     "verification"; for another phone ErrInvalid "phone"; then the
//     attempts and expiry rules below (an expired code is
//     platform.ErrCodeExpired). The account it creates is verified
//     (已授权) and the code used up. UpdateAccount refuses a new phone
//     (ErrForbidden "phone"); RequestCode with the account's ID and the
//     new phone, then ChangePhone with that code, changes it. Expired
//     verifications are forgotten an hour after their expiry; at most
//     MaxPendingVerifications are pending per shop.
//   - Douyin, the account first (ShopSetup.PhoneVerification AfterCreate,
//     what gateways of the protocol's first revision do): CreateAccount sends a random 6-digit code
//     (crypto/rand) to the new account's phone, recorded in the engine's SMS
//     outbox (Engine.SMS), and leaves the account pending:
//     Account.Verification has the phone masked (138****8000), SentAt,
//     ExpiresAt = SentAt + 5 minutes (engine clock) and 5 attempts, and
//     CheckCredentials answers false until the code is entered. On Taobao
//     and Pinduoduo Verification is nil. VerifyAccount: unknown ID
//     ErrNotFound; no verification needed or already verified ErrConflict;
//     then ErrInvalid "code" with "no attempts left; request a new code",
//     "the code expired at HH:MM:SS; request a new code" (ErrCodeExpired, UTC, no attempt
//     used) or "wrong code; N attempts left" (one attempt used; "1 attempt
//     left", and at 0 "wrong code; no attempts left; request a new code");
//     the right code verifies the account. ResendVerification: the same ErrNotFound
//     and ErrConflict; within a minute of the last send ErrRateLimited with
//     RetryAfter the rest of that minute, rounded up to a second; otherwise
//     a new code to the account's current phone, with a new expiry and 5
//     attempts. Changing the phone with UpdateAccount sends nothing.
//     Codes are stored hashed in the account; they never appear in a
//     message or an audit entry (the entries say "verification code sent"
//     and "phone verified").
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
// for checking requests only), Accounts, Roles, Audit, SMS (the latest code
// sent to a phone: it stands in for the employee's phone). They bypass the fault
// hook and the call counters.
//
// The whole state is the exported, JSON-serializable State. A snapshot
// contains the shops' API credentials, password hashes, the accounts'
// verification state and the SMS outbox (plain codes), so treat it as a
// secret. Call counters and the fault hook are not part of the state.
package memory
