// Package votbox extracts VotBox autocall (robocall) tasks and their
// per-call results: form POSTs to {base}/autocall.*.api.php answered in XML.
//
// # Credentials
//
// Every request posts username and password = the lowercase hex MD5 of the
// password. The hash is a credential: New computes it once from the
// secret.Value, keeps it in a secret.Value and registers it (and the plain
// password) with the HTTP redactor, so neither appears in errors or logs.
//
// # Answers
//
// The vendor document lost its XML examples, so Decode is tolerant: each
// field may be an attribute or a child element, names match
// case-insensitively, the charset comes from the XML declaration (utf-8 or
// windows-1251, with a built-in windows-1251 table; a Content-Type charset
// is used only when there is no declaration). <error code="N">text</error>
// (code as an attribute or element) becomes an *APIError, e.g.
// `votbox: autocall.check taskid 123: VotBox error 4 "Задача не найдена"`,
// and is not retried; a body that is not readable XML (a proxy page, a cut
// body) is retried and then reported with its first bytes (ErrUnreadable).
//
// # Items: tasks
//
// The source is a pipeline.ItemSource of kind "task". Items lists the active
// tasks (autocall.get.task), Config.TaskIDs and the pending tasks the
// pipeline remembers. ExtractItem pages a task through autocall.check from
// page 1, PageSize (10000) items a page, to the first shorter page, and
// writes it whole. A task is final when it has at least one item, every
// item's jobstatus is final (not 0 queued or 1 in progress) and no item was
// rejected; an empty task, or one with a rejected item, is polled again.
// With Config.Detail, autocall.detail is called for every final item
// (Config.DetailConcurrency at a time) and its fields are kept in
// votbox_calls.detail; documented fields the item lacks are taken from it.
// A VotBox error answer for one detail leaves that detail NULL.
//
// # Tables and partitions
//
//   - votbox_tasks: one row per task per extraction (id, name, start time,
//     status code and text, item counts by jobstatus, final).
//   - votbox_calls: one row per item, every documented field typed, costs
//     converted from kopecks to roubles (DECIMAL(18,4)), unknown fields in
//     extras (JSON), the detail answer in detail (NULL when off).
//   - calls: one canonical row per item: source votbox, account the
//     username, call_id the item id, direction autocall, started_at the
//     call time, callee the phone number, talk_s callduration, cost
//     callpay+opercallpay in RUB, status the jobstatus as an English word
//     (queued, in_progress, error, success, operator, billing_error,
//     expired, stopped_by_user, status_N for unlisted codes),
//     recording_ref recfilename. duration_s and billed_s are NULL (VotBox
//     does not report them).
//   - canonical balances: check.balance once per run (the source is a
//     pipeline.Snapshotter), account the username, in roubles (see
//     LiftBalance), unit balance-<run id> on the run's day.
//   - rejects: items failing validation, with the item re-encoded as UTF-8
//     XML (Element.XML) as raw; endpoint autocall.check, window "task <id>".
//
// calldate is DD.MM.YYYY HH:MM:SS Moscow time and is stored as a UTC
// instant. The date partition of an item's rows is the call's day in the
// business zone (model.Run.Location); an item without a call time (queued,
// never dialled) goes to the task's start day in the business zone. The
// votbox_tasks row and rejects go to the task's start day; a task without
// a start time uses the run's day. Re-extraction replaces all of them: the
// pipeline covers every date the previous extraction wrote.
package votbox
