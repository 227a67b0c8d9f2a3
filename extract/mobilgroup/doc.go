// Package mobilgroup extracts Mobilgroup voice broadcasts (голосовые
// рассылки): per-subscriber results of each broadcast and the account
// balance, from the JSON handler POST {base}/api/get/.
//
// # Requests and credentials
//
// Every request is POST BaseURL + "/api/get/" with Content-Type
// application/json and Authorization: <API key> (the raw key, no scheme;
// the document's other way, a "security" section in the body, is not
// used). New registers the key with the HTTP redactor, so it never appears
// in errors or logs. Bodies: {"request":"state","id":"<broadcast id>"} and
// {"request":"balance"}. There is no request that lists broadcasts: ids come
// from Config.BroadcastIDs, Config.IDsFile (re-read on every run: one id per
// line, '#' comments, blank lines ignored; a missing file has none) and the
// pipeline's pending items. Ids must be 1–100 of [A-Za-z0-9._-]; invalid
// file or pending ids are dropped with a warning, invalid configured ids
// make New fail with a *ConfigError.
//
// # Answers and errors
//
// Every value may be a JSON string (as documented, numbers too) or a JSON
// number (drift); null is empty. Unknown members are kept as JSON in the
// extras columns. The decoder keeps each subscriber's exact JSON text for
// rejects. A body that is not one JSON object with result "ok" (an HTML
// page, a cut body, the document's own state example, which ends with
// `, {"}` inside an unclosed array) wraps ErrUnreadable and quotes the
// body's first 120 bytes; it is retried (httpx) and then reported.
// {"result":"error","error_code":…} is an *APIError with an English
// message for every documented code: Error_Authorisation_Failed and
// Error_User_Disabled wrap ErrAuth, Error_ID_Not_Found wraps ErrNotFound
// (the item fails with "check the broadcast id … in the configured
// broadcast ids or the ids file"), Error_Unknown_Request wraps
// ErrUnknownRequest; the send-side codes get a message only. Error answers
// are permanent (not retried) unless the HTTP status is 429 or 5xx. Errors
// read "mobilgroup: api/get state <id>: …" or "mobilgroup: broadcast <id>:
// …".
//
// # Values
//
// Money ("0,91", "3.41", "273,50", or a number) goes through
// transform.Money: exact, either decimal separator, never float. Dates are
// in Config.Vendor (default Europe/Moscow) as YYYY-MM-DD HH:MM:SS, DD.MM.YYYY
// HH:MM:SS or YYYY-MM-DD HH:MM (the document only says "Дата"; the emulator
// serves the first) and are stored as UTC instants; an empty date means the
// subscriber has not been called yet. Phones are stored raw and as E.164
// (transform.Phone).
//
// Statuses are Russian texts, kept as sent (status_text) and normalised
// (status), case, ё/е, spaces and a trailing dot ignored: Успешно → answered,
// Занято → busy, Нет ответа → no_answer, Недоступен / Абонент недоступен →
// unavailable, Ошибка → failed, Сброс / Отклонен → rejected, В очереди /
// Ожидает / В процессе / "" → pending, anything else → unknown (with a
// warning). The transfer leg's status uses the same mapping. SMS statuses:
// Доставлено → delivered, Не доставлено → undelivered, Отправлено → sent, В
// очереди / Ожидает → pending, else unknown.
//
// # Finality
//
// A final broadcast is never requested again, so "final" must mean that
// nothing can change any more, not that every status looks like a result.
// The document's /api/send/ settings describe redials: "attempts —
// Количество попыток дозвона при не ответе. Не более 3 попыток" and
// "interval — Интервал между попытками дозвона в минутах. Не должен
// превышать 60 минут" (taken from the account's «Настройки API» when not
// sent). The state answer gives each subscriber one date ("Дата звонка")
// and an attempts count, but neither the broadcast's attempts and interval
// settings nor whether the date is the first attempt's or the last's. A
// subscriber that was busy on attempt 1 can therefore still be dialled,
// answered and charged; its status text "Занято" says nothing about that.
//
// SubscriberFinal: a subscriber is final when its status is an outcome
// (answered, busy, no_answer, unavailable, failed, rejected — not pending,
// not unknown), its SMS leg (if any) is not pending, and no redial can
// still come: it was answered (redials are "при не ответе"), or it has used
// MaxAttempts (3) attempts, or its date is at least Config.RedialWindow
// before the run's clock (model.Run.StartedAt, the pipeline's injected
// clock). Every not-answered outcome counts as redialable, since the
// document does not say which results are redialled. RedialWindow defaults
// to DefaultRedialWindow, 2h30m: (3−1) × 60 minutes, in case the date is
// the first attempt's, plus 30 minutes for the calls, the dialler's queue
// and clock skew. A not-answered subscriber without a date is not final.
// unknown is NOT final either: a text this version cannot read must not
// freeze a broadcast (the cost is one request per run until the mapping is
// extended). A broadcast is final when it lists at least one subscriber,
// every subscriber is final and none was rejected; while redials are
// possible the extraction logs "broadcast kept pending" with the time they
// end. The phones count and the budget do not take part. The pipeline's
// item_max_age_days still gives up a broadcast that never becomes final.
//
// # Prices
//
// The document calls a subscriber's price "Общая стоимость звонка" (the
// total cost), and its state example settles the question: budget 3.41 =
// 0.91 + 2.50, where the second subscriber's 2.50 is exactly its SMS's 2.50
// with a 0 transfer. So price already includes the transfer and SMS legs:
// calls.cost and mobilgroup_broadcasts.price_total use price alone and the
// legs' prices are stored beside it (transfer_price, sms_price) without
// being added. A subscriber whose legs cost more than its price is kept but
// logged as a warning (the accounting may not hold for it). Currency is RUB.
//
// # Tables and partitions
//
//   - mobilgroup_broadcasts: one row per broadcast per extraction: phones,
//     budget, price_total, subscribers listed / rejected / called, a count
//     per normalised status (status_answered … status_unknown), first and
//     last call, final, extras.
//   - mobilgroup_calls: one row per subscriber, keyed by (broadcast_id, seq)
//     where seq is the 1-based position in the answer (a phone can repeat):
//     phone, called_at, status, attempts, duration_s, price, the transfer leg
//     (transfer_number, transfer_duration_s, transfer_price,
//     transfer_status[_text]) and the SMS leg (sms_date, sms_message,
//     sms_parts, sms_price, sms_status[_text]) as columns, NULL when absent.
//   - calls: one canonical row per subscriber with a date: call_id
//     "<broadcast>-<seq>", direction autocall, account Config.Account,
//     callee the phone (caller empty: the sender number is not in the
//     answer), talk_s duration, cost price, status the status text as sent.
//     Subscribers not called yet have no calls row.
//   - rejects: subscribers failing validation (not an object, a member of
//     the wrong type, no usable phone, a bad date, integer or money), with
//     the subscriber's JSON as sent; endpoint "api/get state", window
//     "broadcast <id>".
//   - balances (Snapshot, once per run): the balance request as one
//     canonical row in its own transaction (unit "balance-<run id>") on the
//     run's day: account Config.Account, currency upper-cased ("Rub" → RUB),
//     raw the text as sent.
//
// A subscriber's rows go to its call's day in the business zone
// (model.Run.Location). The broadcast's day is the business-zone day of
// its earliest subscriber date, or the run's day while no subscriber has a
// date; the mobilgroup_broadcasts row, the rejects and the subscribers
// without a date go there. Re-extraction replaces all of them: the pipeline
// covers every date the previous extraction wrote.
package mobilgroup
