// Package voicebox extracts MTT VoiceBox (voice robot campaigns, REST +
// OAuth 2.0): the call history of each customer, its campaigns and its
// balance. The vendor document (shared/vendor-docs/mtt-voicebox-api.txt)
// lists the endpoints but not one response schema, so much below is a
// decision; each is marked DECISION and tested.
//
// # Authentication
//
// OAuth 2.0 password flow with golang.org/x/oauth2: PasswordCredentialsToken
// with Config.ClientID/ClientSecret (AuthStyleAutoDetect: HTTP Basic first,
// then form fields) and Username/Password, then an oauth2.ReuseTokenSource
// that uses the refresh token when the access token's expires_in runs out
// by the local clock. DECISION: the token endpoint is BaseURL + "/oauth/token"
// unless Config.TokenURL says otherwise. Token requests go through the same
// base transport as the API (httpx.NewTransport, passed to oauth2 as the
// oauth2.HTTPClient context value), bounded by one minute each.
//
// The bearer token is added by an http.RoundTripper in httpx.Config.Transport,
// so extract code never touches it. A 401 from the API (token revoked or
// expired early by the server's clock) drops the token, obtains a new one
// (refresh grant first; if the refresh token is refused, the password
// grant) and sends the request once more; a second 401 is a permanent
// *AuthError telling the operator to check the client id/secret and the
// user's credentials. A token request refused with invalid_client,
// invalid_grant (password grant) or any other 4xx is a permanent *AuthError
// (ErrAuth) naming what to check, remembered so later requests fail at once;
// network errors, 429 and 5xx of the token endpoint are retried with the
// request. The client secret, the password, the Basic-auth forms of both
// and every access and refresh token are registered with the Redactor
// before use, so none appears in logs, errors or the lake.
//
// # Range paging (DECISION)
//
// GET /customers/{id}/callhistory, …/callhistory/campaigns and …/campaigns
// are read with `Range: numbers=<first>-<last>` (inclusive, zero-based,
// Config.PageSize rows, default 100). The server answers 206 with
// `Content-Range: numbers <first>-<last>/<total>` (total may be `*`), 200
// when the whole list fits in one answer, and 416 when first >= total (end
// of the list). The next request starts after the rows actually received,
// so a server that caps its page size loses nothing.
//
// A list ends only where the server proves it: a 416, an empty page, a 206
// whose rows reach the total its Content-Range names, or a 200 that the
// next request answers identically (a server that ignores Range). A page
// shorter than asked is NOT the end while the total is `*` or absent: the
// server may cap its pages below the asked size. A 200 is therefore
// followed by one request past its rows (one extra request per list): a
// server answering a capped page with 200 shows itself there.
//
// Everything that cannot be proven complete fails the list loudly, naming
// the endpoint and the range, and nothing of it is written: a 206 starting
// elsewhere than asked; a Content-Range counting other rows than the body
// holds; a page repeating ANY earlier page (a server ignoring the range's
// start, even one cycling between pages); a total below an earlier page's
// (the list shrank while read: rows may have slipped past); a 416 or an
// empty page before a known total; a 200 after the first request that
// lacks rows read before (not a whole list: a page answered with 200). A
// 200 after the first request that holds every row read so far is the
// whole list: its rows after those read are delivered, or all of it again
// when the list changed in front (callers skip identical rows). A list
// answer may also be an object wrapping the array under
// data/items/content/calls/…; anything else fails quoting the body's start.
//
// # Lifting undocumented rows
//
// Each row keeps its raw JSON (column raw, and rejects' raw). Fields are
// LIFTED by trying candidate names, matched case-insensitively and ignoring
// '_' (so call_id = callId): id (id, callId, uuid, sessionId…), start
// (startTime, callStart, started_at, date, dateTime, created…), end,
// caller (from, caller, callerNumber, ani, src, a_number), callee (to,
// callee, calledNumber, dnis, dst, b_number, phone), direction (direction,
// type, campaignType), duration (duration, durationSec, callDuration…;
// milliseconds when the name ends in ms; else end − start), talk time
// (talkDuration, billsec, talk_time…; else the duration), status (status,
// result, disposition, state), cost (cost, price, amount, charge: a JSON
// number or a string with either decimal separator, parsed exactly from
// its text, never through float64), currency (default RUB), campaign id and
// name (campaignId or campaign.id, campaignName or campaign.name). A phone
// field holding an object is read from its number/phone/value.
//
// Times: RFC 3339 (or ISO with a numeric zone); "YYYY-MM-DD HH:MM:SS",
// "YYYY-MM-DDTHH:MM:SS" or "DD.MM.YYYY HH:MM:SS" in Config.Vendor (default
// Europe/Moscow); unix seconds, or milliseconds above 10^11, as a number or
// digit string. Years outside 2000–2099 are errors.
//
// DECISION: a row with no recognisable id gets "h" + the first 16 hex
// digits of the SHA-256 of its canonical JSON (keys sorted, compact,
// numbers as sent): the same row keeps its id across runs.
//
// A row without a usable start time, or whose lifted fields do not parse,
// goes to `rejects` with its raw JSON (endpoint "GET
// /customers/{id}/callhistory", stream callhistory, the window that wrote
// it). A rejected row with a start time is filed under its day; one
// without (DECISION) under the window of the run's own day, the last
// window of every nightly run. The next night re-extracts that day as a
// lookback day (lookback_days >= 1) and files the row under its own day,
// so a bad row is in the lake once, not once per night. A backfill does
// not write such rows (the nightly run does).
//
// # Direction (DECISION)
//
// "Входящая" (incoming, inbound, in) → model.Incoming. "Исходящая"
// (outgoing, outbound, out) → model.Autocall, not model.Outgoing: VoiceBox
// outgoing calls are dialled by a voice robot of an outgoing campaign
// (launchBy a schedule or a contact list), the same kind of call as
// VotBox's autocalls, and counting them as outgoing would make reports
// that look for human call-backs (missed_calls) or top destinations
// mistake robot traffic for staff calls. A row whose direction is missing
// or unknown is also model.Autocall: outbound campaigns are VoiceBox's main
// use. The word as sent is kept in voicebox_calls.direction_raw.
//
// # Incrementality (DECISION) and its memory bound
//
// No date filter is documented, so each run reads the WHOLE call history of
// each customer once. The source has one stream per customer
// (StreamKey{Stream: "callhistory", Account: customer}). The pipeline runs
// one stream's day windows in order in one goroutine (pipeline.stream), and
// different customers' streams concurrently (up to Concurrency). The first
// Extract of a run for a customer pages through the whole history and
// buckets the rows by business-zone day (run.Location), keeping only days
// >= that first window's day — the earliest the run asks, since windows
// come in order; each Extract(window), whose day the pipeline covers, writes
// that day's bucket, then drops it. The cache is per customer, guarded by a
// per-customer mutex, and replaced when a new run id arrives; a window it
// cannot serve (an earlier day, or one already written in this run) reads
// the history again rather than write an incomplete day. After a nightly
// run's last window (its own day) the rows are freed.
//
// Memory: the rows (raw JSON and lifted fields) of the days from the first
// window on, for every customer being extracted at once — for a nightly run
// with a few lookback days, a few days of calls; for a first run or a long
// backfill, every row of the range: backfill a customer with millions of
// calls in slices. The trade-off: reading the whole history each run costs
// requests proportional to the history's length, but no row can be missed
// by a date filter the API does not have, and the lake's day partitions
// stay exactly what the pipeline asked for. The list is read newest first
// in the emulator, but nothing depends on order: rows repeated when the
// list shifts between pages (identical JSON) are skipped; a different row
// with an id already read is rejected.
//
// # Tables
//
//   - canonical `calls`: source voicebox, account the customer id, call_id
//     the lifted id, direction as above, duration_s and talk_s, cost,
//     currency (default RUB), status as sent, partitioned by start day.
//   - `voicebox_calls`: every lifted field, the id's field, the raw row.
//   - `voicebox_campaigns`: per-run snapshot of /campaigns and
//     /callhistory/campaigns (listed_in says which), one unit per customer
//     replaced within the run's day.
//   - `voicebox_numbers`: per-run snapshot of GET /customers/{id}/numbers
//     with each number's monthly fee from GET
//     /customers/{id}/numbers/{number_id}/price (one request per number;
//     {number_id} is the row's number, the document listing no id), one
//     unit per customer replaced within the run's day. The fee is the
//     price for one calendar month; cost_reconciliation charges it on the
//     first day of each month the number is in a snapshot.
//   - `voicebox_customers`: per-run snapshot of GET /customers/{id} (name,
//     personal account, …). The answer carries password and passwordRL:
//     every member named like a password, secret or token is dropped before
//     the row is built and its value registered with the redactor; a body
//     that is not JSON is never quoted in errors.
//   - canonical `balances`: GET /customers/{id}/balance, one row per
//     customer per run (unit balance-<customer>-<run id>). The answer may
//     be {"balance": 123.45, "currency": "RUB"} (also amount/value, or
//     wrapped under data) or a bare number or string; raw keeps the amount
//     as written.
package voicebox
