// Package t2 extracts the T2 (Tele2) Corporate PBX CRM OpenAPI: call
// records, missed calls on multichannel numbers (MCN), daily company and
// per-employee-number statistics, the employee list and the personal
// managers with their customers.
//
// # Tokens
//
// Every request carries `Authorization: <access token>`. The first pair
// comes from the configuration; after the first refresh the TokenStore's
// file (Config.TokenFile, mode 0600) owns it and wins over the configuration.
// The refresh (PUT /authorization/refresh/token) kills the old pair at once,
// so the new pair is written to the file before anything uses it. Refreshes
// happen in the HTTP transport, on 403 "The token is expired" and ahead of
// the access token's JWT exp; one refresh runs at a time and requests that
// meet an expired token wait for it, then retry with the new token (a request
// whose token is already older than the current pair retries without a
// refresh). Any other 403 stops the source with an *AuthError telling the
// operator what to do. Tokens are registered with the redactor, including
// every refreshed one, and never appear in errors or logs.
//
// # Streams and tables
//
// All streams have the account "company" and run by business-day windows,
// sent as ISO offset date-times in the business zone.
//
//   - call_records: GET /call-records/info (sort date,ASC, paged to the
//     first short page) → canonical `calls` and `t2_calls`; plus the
//     unmatched missed calls into `calls` (below).
//   - missed: GET /statistics/missing (sort startDate, optional
//     mcn_numbers) → `t2_missed_calls`, keyed by id.
//   - daily_stats: GET /statistics/common for the day → `t2_daily_stats`.
//   - journal: GET /statistics/journal?number= for each employee number
//     and day → `t2_journal`.
//   - employee_stats: GET /statistics/common?subscriberNumber= for each
//     employee number and day → `t2_employee_stats`.
//   - snapshot: GET /employees → `t2_employees` and GET /managers →
//     `t2_managers` (one row per manager and customer; customer_number is
//     realNumber as E.164, the key calls join on), each replaced per run
//     day.
//
// The employee numbers of journal and employee_stats need no
// configuration: they are the fullNumbers of GET /employees that normalise
// to 7XXXXXXXXXX (the format the document asks for), from the run's
// employees snapshot, or one GET /employees per run when this process did
// not take it. Each is one request per number and day, so a backfill of D
// days for E employees costs 2·D·E requests; lookback days are
// re-extracted and replaced like every window. Past days are asked for the
// employees of today's list: a number removed from the PBX is no longer
// asked for, one added is asked for from the cursor on (and for the
// lookback days).
//
// Rows that fail validation go to `rejects` with their raw JSON: a call
// record, a missed call, a statistics answer (reason naming the number),
// an employee, a manager, or one customer of a manager (the document's own
// placeholder customer, realNumber "string", is one).
//
// # The calls table
//
// A call record becomes one `calls` row with source "t2", account
// "company", call_id the natural key (recordFileName, else a hash of
// callTimestamp, callType, callerNumber, destinationNumber, calleeNumber),
// started_at callTimestamp, caller callerNumber, callee calleeNumber (or
// destinationNumber when empty), duration_s callDuration, talk_s
// conversationDuration (0 when absent on an unanswered call), status the
// callStatus as sent (unknown values kept). Direction: INTERNAL, HIMSELF,
// INTERNAL_QUEUE → internal; OUTGOING, CRM_OUTGOING, CALLBACK, CRM_CALLBACK
// → outgoing; everything else (SINGLE_CHANNEL, MULTI_CHANNEL, UNKNOWN_CALL,
// VOICEMAIL, CONFERENCE, PICKUP_CALL, FAX, unknown types) → incoming, or
// missed when not answered (see Answered). has_recording is set for
// answered calls with a recordFileName, which is the recording_ref.
//
// # Missed calls in the calls table, counted once
//
// statistics/missing reports calls to multichannel numbers (MCN) that
// nobody answered. Many of them are also call records (MULTI_CHANNEL with a
// not-answered status, same caller and start), which become `calls` rows
// with direction missed; some are not. The two endpoints share no id. So
// the call_records stream, after its call records, reads the window's
// missed calls too and adds to `calls` only those that no call record of
// the window matches: same caller (E.164) and a start within
// MatchTolerance (5 s). Such a row has call_id "missed:<id>", status
// MCN_MISSED, duration_s the wait and talk_s 0 (see MissedCall). Doing the
// match inside one stream's window keeps every t2 `calls` row of a day in
// one unit, replaced together on re-extraction. The missed stream writes
// `t2_missed_calls` (every missed call, for wait times and per-MCN
// analysis) and the rejects of malformed missed rows. A pair straddling
// midnight (within 5 s of it, on different days) is not matched.
// TestMissedCountedOnce checks the rule.
package t2
