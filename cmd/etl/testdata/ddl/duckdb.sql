-- calletl lake views for DuckDB: etl ddl --dialect duckdb --location s3://calletl-data/lake
-- Each view reads its table's files as they are now (hive partitions typed),
-- with every column of the table's definition, typed as defined, even where
-- older files lack one.
-- DuckDB cannot create a view over files that do not exist yet: the CREATE of a
-- table with no file fails with "No files found"; run this again once it has files.
-- Remote lakes need DuckDB's httpfs extension and credentials, e.g.:
--   INSTALL httpfs; LOAD httpfs;
--   CREATE SECRET calletl (TYPE s3, PROVIDER credential_chain);

CREATE OR REPLACE VIEW "calls" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "account",
  CAST(NULL AS VARCHAR) AS "call_id",
  CAST(NULL AS VARCHAR) AS "direction",
  CAST(NULL AS TIMESTAMPTZ) AS "started_at",
  CAST(NULL AS VARCHAR) AS "caller",
  CAST(NULL AS VARCHAR) AS "caller_raw",
  CAST(NULL AS VARCHAR) AS "callee",
  CAST(NULL AS VARCHAR) AS "callee_raw",
  CAST(NULL AS INTEGER) AS "duration_s",
  CAST(NULL AS INTEGER) AS "talk_s",
  CAST(NULL AS INTEGER) AS "billed_s",
  CAST(NULL AS DECIMAL(18,4)) AS "cost",
  CAST(NULL AS VARCHAR) AS "currency",
  CAST(NULL AS VARCHAR) AS "status",
  CAST(NULL AS SMALLINT) AS "disconnect_cause",
  CAST(NULL AS VARCHAR) AS "disconnect_label",
  CAST(NULL AS BOOLEAN) AS "has_recording",
  CAST(NULL AS VARCHAR) AS "recording_ref",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at",
  CAST(NULL AS BOOLEAN) AS "duplicate"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/calls/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "calls" IS 'Calls from every telephony source in one canonical shape; one row per call and direction.';
COMMENT ON COLUMN "calls"."source" IS 'Hive partition: the source system the rows come from (mtt, t2, …).';
COMMENT ON COLUMN "calls"."date" IS 'Hive partition: the day the rows belong to, in the business time zone.';
COMMENT ON COLUMN "calls"."account" IS 'Vendor account the call belongs to (e.g. the MTT customer name).';
COMMENT ON COLUMN "calls"."call_id" IS 'The source''s natural key of the call, unique within (source, account, direction).';
COMMENT ON COLUMN "calls"."direction" IS 'incoming, outgoing, missed, forwarded, internal, autocall or callback.';
COMMENT ON COLUMN "calls"."started_at" IS 'When the call started (UTC instant).';
COMMENT ON COLUMN "calls"."caller" IS 'Calling number as E.164 digits, or the extension as it is.';
COMMENT ON COLUMN "calls"."caller_raw" IS 'Calling number exactly as the source sent it.';
COMMENT ON COLUMN "calls"."callee" IS 'Called number as E.164 digits, or the extension as it is.';
COMMENT ON COLUMN "calls"."callee_raw" IS 'Called number exactly as the source sent it.';
COMMENT ON COLUMN "calls"."duration_s" IS 'Whole call duration in seconds; NULL when the source does not say.';
COMMENT ON COLUMN "calls"."talk_s" IS 'Connected (talk) time in seconds; NULL when the source does not say.';
COMMENT ON COLUMN "calls"."billed_s" IS 'Billed time in seconds; NULL when the source does not say.';
COMMENT ON COLUMN "calls"."cost" IS 'Cost of the call in currency units (4 decimals); NULL when the source does not say.';
COMMENT ON COLUMN "calls"."currency" IS 'ISO 4217 code of cost, e.g. RUB.';
COMMENT ON COLUMN "calls"."status" IS 'The source''s own status word, kept as it is.';
COMMENT ON COLUMN "calls"."disconnect_cause" IS 'Disconnect cause code (e.g. Q.850); NULL when the source does not say.';
COMMENT ON COLUMN "calls"."disconnect_label" IS 'The source''s text for the disconnect cause.';
COMMENT ON COLUMN "calls"."has_recording" IS 'Whether the source holds a recording of the call.';
COMMENT ON COLUMN "calls"."recording_ref" IS 'What the recordings fetcher needs to find the recording; empty when none.';
COMMENT ON COLUMN "calls"."run_id" IS 'ETL run that extracted the row.';
COMMENT ON COLUMN "calls"."extracted_at" IS 'When the ETL extracted the row (UTC instant).';
COMMENT ON COLUMN "calls"."duplicate" IS 'True when an earlier row of the same extraction and day has the same account, direction and call_id: the vendor sent the call twice. Kept, never dropped; WHERE NOT duplicate counts each call once.';

CREATE OR REPLACE VIEW "rejects" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "stream",
  CAST(NULL AS VARCHAR) AS "account",
  CAST(NULL AS VARCHAR) AS "endpoint",
  CAST(NULL AS VARCHAR) AS "window",
  CAST(NULL AS VARCHAR) AS "reason",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "rejected_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/rejects/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "rejects" IS 'Rows that failed validation, kept with the vendor''s raw payload so nothing is lost.';
COMMENT ON COLUMN "rejects"."source" IS 'Hive partition: the source system the rows come from (mtt, t2, …).';
COMMENT ON COLUMN "rejects"."date" IS 'Hive partition: the day the rows belong to, in the business time zone.';
COMMENT ON COLUMN "rejects"."stream" IS 'Extraction stream the row came from, e.g. dialed.';
COMMENT ON COLUMN "rejects"."account" IS 'Vendor account the row belongs to.';
COMMENT ON COLUMN "rejects"."endpoint" IS 'Vendor API endpoint that returned the row.';
COMMENT ON COLUMN "rejects"."window" IS 'Extraction window: its day and [from, to) interval.';
COMMENT ON COLUMN "rejects"."reason" IS 'Why the row was rejected.';
COMMENT ON COLUMN "rejects"."raw" IS 'The row exactly as the vendor sent it; bytes that were not valid UTF-8 are U+FFFD here and exact in invalid_utf8.';
COMMENT ON COLUMN "rejects"."run_id" IS 'ETL run that rejected the row.';
COMMENT ON COLUMN "rejects"."rejected_at" IS 'When the row was rejected (UTC instant).';

CREATE OR REPLACE VIEW "runs" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS VARCHAR) AS "mode",
  CAST(NULL AS VARCHAR) AS "stream",
  CAST(NULL AS VARCHAR) AS "account",
  CAST(NULL AS TIMESTAMPTZ) AS "started_at",
  CAST(NULL AS TIMESTAMPTZ) AS "finished_at",
  CAST(NULL AS BIGINT) AS "duration_ms",
  CAST(NULL AS DATE) AS "first_day",
  CAST(NULL AS DATE) AS "last_day",
  CAST(NULL AS BIGINT) AS "windows",
  CAST(NULL AS BIGINT) AS "pages",
  CAST(NULL AS BIGINT) AS "rows",
  CAST(NULL AS BIGINT) AS "rejects",
  CAST(NULL AS VARCHAR) AS "status",
  CAST(NULL AS VARCHAR) AS "error"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/runs/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "runs" IS 'One row per ETL run, stream and account: what was extracted and how it ended.';
COMMENT ON COLUMN "runs"."source" IS 'Hive partition: the source system the rows come from (mtt, t2, …).';
COMMENT ON COLUMN "runs"."date" IS 'Hive partition: the day the rows belong to, in the business time zone.';
COMMENT ON COLUMN "runs"."run_id" IS 'ETL run identifier.';
COMMENT ON COLUMN "runs"."mode" IS 'run (nightly) or backfill.';
COMMENT ON COLUMN "runs"."stream" IS 'Extraction stream, e.g. dialed.';
COMMENT ON COLUMN "runs"."account" IS 'Vendor account.';
COMMENT ON COLUMN "runs"."started_at" IS 'When the stream started (UTC instant).';
COMMENT ON COLUMN "runs"."finished_at" IS 'When the stream finished (UTC instant); NULL if it never finished.';
COMMENT ON COLUMN "runs"."duration_ms" IS 'finished_at - started_at in milliseconds; NULL if either is unknown.';
COMMENT ON COLUMN "runs"."first_day" IS 'First window''s day; NULL when no window ran.';
COMMENT ON COLUMN "runs"."last_day" IS 'Last window attempted; NULL when no window ran.';
COMMENT ON COLUMN "runs"."windows" IS 'Windows committed.';
COMMENT ON COLUMN "runs"."pages" IS 'Pages fetched.';
COMMENT ON COLUMN "runs"."rows" IS 'Rows loaded.';
COMMENT ON COLUMN "runs"."rejects" IS 'Rows rejected.';
COMMENT ON COLUMN "runs"."status" IS 'ok, failed or canceled.';
COMMENT ON COLUMN "runs"."error" IS 'Error message when the stream failed; empty otherwise.';

CREATE OR REPLACE VIEW "balances" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "account",
  CAST(NULL AS DECIMAL(18,4)) AS "balance",
  CAST(NULL AS VARCHAR) AS "currency",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "taken_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/balances/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "balances" IS 'Account balances as each vendor reported them, one row per source, account and run.';
COMMENT ON COLUMN "balances"."source" IS 'Hive partition: the source system the rows come from (mtt, t2, …).';
COMMENT ON COLUMN "balances"."date" IS 'Hive partition: the day the rows belong to, in the business time zone.';
COMMENT ON COLUMN "balances"."account" IS 'Vendor account the balance belongs to (MTT customer, Mobilgroup API user, VoiceBox customer id).';
COMMENT ON COLUMN "balances"."balance" IS 'The balance, exactly as reported (DECIMAL; a negative value is a debt).';
COMMENT ON COLUMN "balances"."currency" IS 'ISO 4217 currency code, upper case (RUB).';
COMMENT ON COLUMN "balances"."raw" IS 'The balance as the vendor wrote it, e.g. 273,50.';
COMMENT ON COLUMN "balances"."run_id" IS 'ETL run that read the balance.';
COMMENT ON COLUMN "balances"."taken_at" IS 'When the balance was read (UTC instant).';

CREATE OR REPLACE VIEW "invalid_utf8" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "table_name",
  CAST(NULL AS VARCHAR) AS "column_name",
  CAST(NULL AS VARCHAR) AS "unit",
  CAST(NULL AS BIGINT) AS "file_row_number",
  CAST(NULL AS BLOB) AS "original",
  CAST(NULL AS VARCHAR) AS "stored"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/invalid_utf8/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "invalid_utf8" IS 'String values a vendor sent that were not valid UTF-8: the exact bytes, and where the lake holds them with U+FFFD in place of the invalid bytes.';
COMMENT ON COLUMN "invalid_utf8"."source" IS 'Hive partition: the source system the rows come from (mtt, t2, …).';
COMMENT ON COLUMN "invalid_utf8"."date" IS 'Hive partition: the day the rows belong to, in the business time zone.';
COMMENT ON COLUMN "invalid_utf8"."table_name" IS 'Table holding the repaired value, e.g. calls.';
COMMENT ON COLUMN "invalid_utf8"."column_name" IS 'Column holding the repaired value, e.g. caller_raw.';
COMMENT ON COLUMN "invalid_utf8"."unit" IS 'File holding the repaired row: <table_name>/source=<source>/date=<date>/<unit>.parquet (DuckDB: parse_filename(filename, true)).';
COMMENT ON COLUMN "invalid_utf8"."file_row_number" IS 'Row of the repaired value in that file, from 0 (DuckDB: read_parquet(…, file_row_number = true)).';
COMMENT ON COLUMN "invalid_utf8"."original" IS 'The value exactly as the vendor sent it (BLOB; e.g. windows-1251 text).';
COMMENT ON COLUMN "invalid_utf8"."stored" IS 'The value as the table stores it: each run of invalid bytes replaced by U+FFFD.';

CREATE OR REPLACE VIEW "mtt_calls" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "customer_name",
  CAST(NULL AS VARCHAR) AS "type",
  CAST(NULL AS VARCHAR) AS "call_id",
  CAST(NULL AS TIMESTAMPTZ) AS "customer_local_time",
  CAST(NULL AS VARCHAR) AS "destination",
  CAST(NULL AS INTEGER) AS "setup_time_ms",
  CAST(NULL AS VARCHAR) AS "account_id",
  CAST(NULL AS VARCHAR) AS "h323_conf_id",
  CAST(NULL AS VARCHAR) AS "h323_incoming_conf_id",
  CAST(NULL AS BOOLEAN) AS "voice_record_exist",
  CAST(NULL AS VARCHAR) AS "extras",
  CAST(NULL AS INTEGER) AS "charged_time",
  CAST(NULL AS DECIMAL(18,4)) AS "charged",
  CAST(NULL AS VARCHAR) AS "curr",
  CAST(NULL AS BOOLEAN) AS "duplicate"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/mtt_calls/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "mtt_calls" IS 'MTT call history (getServiceHistoryByCustomer): the fields calls does not hold; one row per customer, type and call, joined to calls on source, date, account, direction and call_id';
COMMENT ON COLUMN "mtt_calls"."source" IS 'Hive partition: mtt.';
COMMENT ON COLUMN "mtt_calls"."date" IS 'Hive partition: the call''s start day in the business time zone (as in calls).';
COMMENT ON COLUMN "mtt_calls"."customer_name" IS 'MTT personal account the history was requested for (getServiceHistoryByCustomer customer_name); calls.account';
COMMENT ON COLUMN "mtt_calls"."type" IS 'history type: incoming, missed, dialed or forwarded; calls.direction incoming, missed, outgoing, forwarded';
COMMENT ON COLUMN "mtt_calls"."call_id" IS 'natural key within (customer_name, type), calls.call_id: h323_conf_id, or sha256: of the raw row when that is empty';
COMMENT ON COLUMN "mtt_calls"."customer_local_time" IS 'customer_local_time, as an instant (vendor time zone applied)';
COMMENT ON COLUMN "mtt_calls"."destination" IS 'destination name as sent';
COMMENT ON COLUMN "mtt_calls"."setup_time_ms" IS 'call setup time, milliseconds';
COMMENT ON COLUMN "mtt_calls"."account_id" IS 'the MTT number (client number) the call went through';
COMMENT ON COLUMN "mtt_calls"."h323_conf_id" IS 'call id as sent; with spaces replaced by _ it is the recordings id';
COMMENT ON COLUMN "mtt_calls"."h323_incoming_conf_id" IS 'id of the incoming leg';
COMMENT ON COLUMN "mtt_calls"."voice_record_exist" IS 'as sent: true, false, or NULL when the row did not say (calls.has_recording is false then)';
COMMENT ON COLUMN "mtt_calls"."extras" IS 'fields the API sent that this version does not know, as a JSON object ('''' when none)';
COMMENT ON COLUMN "mtt_calls"."charged_time" IS 'billed seconds (sum over legs with a charge); calls.billed_s';
COMMENT ON COLUMN "mtt_calls"."charged" IS 'call cost, exact DECIMAL(18,4) from the JSON text; calls.cost';
COMMENT ON COLUMN "mtt_calls"."curr" IS 'currency of charged, e.g. RUB; calls.currency';
COMMENT ON COLUMN "mtt_calls"."duplicate" IS 'True when an earlier row of the same extraction and day has the same customer_name, type and call_id (as calls.duplicate); NULL in files written before the flag';

CREATE OR REPLACE VIEW "mtt_accounts" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "customer_name",
  CAST(NULL AS VARCHAR) AS "account_number",
  CAST(NULL AS TIMESTAMPTZ) AS "activation_date",
  CAST(NULL AS VARCHAR) AS "status",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "snapshot_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/mtt_accounts/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "mtt_accounts" IS 'MTT numbers per personal account (getPersonalAccountList), snapshot per run day';
COMMENT ON COLUMN "mtt_accounts"."source" IS 'Hive partition: mtt.';
COMMENT ON COLUMN "mtt_accounts"."date" IS 'Hive partition: the run''s day in the business time zone (the snapshot is replaced by a later run that day).';
COMMENT ON COLUMN "mtt_accounts"."customer_name" IS 'MTT personal account';
COMMENT ON COLUMN "mtt_accounts"."account_number" IS 'number (account) on the personal account';
COMMENT ON COLUMN "mtt_accounts"."activation_date" IS 'activation date (DD.MM.YYYY HH:MM:SS in the vendor zone), as an instant';
COMMENT ON COLUMN "mtt_accounts"."status" IS 'account status as sent, e.g. active';
COMMENT ON COLUMN "mtt_accounts"."run_id" IS 'run that took the snapshot';
COMMENT ON COLUMN "mtt_accounts"."snapshot_at" IS 'when the snapshot was taken, UTC';

CREATE OR REPLACE VIEW "mtt_balances" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "customer_name",
  CAST(NULL AS DECIMAL(18,4)) AS "balance",
  CAST(NULL AS DECIMAL(18,4)) AS "real_balance",
  CAST(NULL AS VARCHAR) AS "currency",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "taken_at",
  CAST(NULL AS DECIMAL(18,4)) AS "pending_payment",
  CAST(NULL AS VARCHAR) AS "raw"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/mtt_balances/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "mtt_balances" IS 'MTT balance (getCustomerBalance), one row per customer per run';
COMMENT ON COLUMN "mtt_balances"."source" IS 'Hive partition: mtt.';
COMMENT ON COLUMN "mtt_balances"."date" IS 'Hive partition: the run''s day in the business time zone.';
COMMENT ON COLUMN "mtt_balances"."customer_name" IS 'MTT personal account';
COMMENT ON COLUMN "mtt_balances"."balance" IS 'balance as getCustomerBalance reports it';
COMMENT ON COLUMN "mtt_balances"."real_balance" IS 'real_balance as getCustomerBalance reports it';
COMMENT ON COLUMN "mtt_balances"."currency" IS 'currency of the balance (the API does not say; RUB assumed)';
COMMENT ON COLUMN "mtt_balances"."run_id" IS 'run that took the snapshot';
COMMENT ON COLUMN "mtt_balances"."taken_at" IS 'when the balance was read, UTC';
COMMENT ON COLUMN "mtt_balances"."pending_payment" IS 'pending_payment as getCustomerBalance reports it (the document gives no type or meaning); NULL when absent, null or not an amount (raw keeps it). NULL in files written before it was kept';
COMMENT ON COLUMN "mtt_balances"."raw" IS 'the getCustomerBalance result exactly as sent (JSON), every field included; '''' when MTT answered -32001 (no balance) and in files written before it was kept';

CREATE OR REPLACE VIEW "mtt_callbacks" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "customer_name",
  CAST(NULL AS VARCHAR) AS "callback_id",
  CAST(NULL AS INTEGER) AS "seq",
  CAST(NULL AS VARCHAR) AS "call_id",
  CAST(NULL AS VARCHAR) AS "outcome",
  CAST(NULL AS VARCHAR) AS "status",
  CAST(NULL AS VARCHAR) AS "destination_a",
  CAST(NULL AS VARCHAR) AS "destination_b",
  CAST(NULL AS INTEGER) AS "waiting_period_a_s",
  CAST(NULL AS INTEGER) AS "waiting_period_b_s",
  CAST(NULL AS INTEGER) AS "charged_length_a_s",
  CAST(NULL AS INTEGER) AS "real_length_a_s",
  CAST(NULL AS INTEGER) AS "charged_length_b_s",
  CAST(NULL AS INTEGER) AS "real_length_b_s",
  CAST(NULL AS DECIMAL(18,4)) AS "cost",
  CAST(NULL AS VARCHAR) AS "currency",
  CAST(NULL AS INTEGER) AS "records_a",
  CAST(NULL AS INTEGER) AS "records_b",
  CAST(NULL AS VARCHAR) AS "call_description",
  CAST(NULL AS BOOLEAN) AS "final",
  CAST(NULL AS VARCHAR) AS "extras",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/mtt_callbacks/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "mtt_callbacks" IS 'MTT callback calls (getCallBackFollowmeCallInfo): both legs'' lengths, cost and status, one row per callback id (and seq); joined to calls on source, date, account = customer_name, direction ''callback'' and call_id';
COMMENT ON COLUMN "mtt_callbacks"."source" IS 'Hive partition: mtt.';
COMMENT ON COLUMN "mtt_callbacks"."date" IS 'Hive partition: the business day of the run that extracted the answer. The answer carries no time, so a callback is dated by the run that first saw it finished (rows move to a later day while it is not final).';
COMMENT ON COLUMN "mtt_callbacks"."customer_name" IS 'customer_name getCallBackFollowmeCallInfo was asked with (sources.mtt.callback_customer); calls.account';
COMMENT ON COLUMN "mtt_callbacks"."callback_id" IS 'callBackCall_id, as makeCallBackCallFollowme returned it';
COMMENT ON COLUMN "mtt_callbacks"."seq" IS '1-based position in the answer''s callBackFollowmeCallInfoStruct (documented as an array; its example is one object)';
COMMENT ON COLUMN "mtt_callbacks"."call_id" IS 'calls.call_id: callback_id, or callback_id-seq when the answer has several elements';
COMMENT ON COLUMN "mtt_callbacks"."outcome" IS 'completed (call_back_status ok), unknown (another status: asked again next run), or <reason>_<side> for a documented ''Call ended by <reason> on side <X>'' answer: timeout_a, cancel_a, cancel_b';
COMMENT ON COLUMN "mtt_callbacks"."status" IS 'call_back_status as sent, or the ''Call ended by …'' text';
COMMENT ON COLUMN "mtt_callbacks"."destination_a" IS 'destination_A: the A number (the operator side) as sent';
COMMENT ON COLUMN "mtt_callbacks"."destination_b" IS 'destination_B: the B number (the customer who ordered the call) as sent';
COMMENT ON COLUMN "mtt_callbacks"."waiting_period_a_s" IS 'waiting_period_A: seconds until A answered';
COMMENT ON COLUMN "mtt_callbacks"."waiting_period_b_s" IS 'waiting_period_B: seconds until B answered';
COMMENT ON COLUMN "mtt_callbacks"."charged_length_a_s" IS 'call_back_charged_length_A: billed seconds of leg A (calls.billed_s is the two legs'' sum, as the history''s charged_time sums legs)';
COMMENT ON COLUMN "mtt_callbacks"."real_length_a_s" IS 'call_back_real_length_A: connected seconds of leg A (calls.duration_s and talk_s are the two legs'' sum, as the history''s used_quantity)';
COMMENT ON COLUMN "mtt_callbacks"."charged_length_b_s" IS 'call_back_charged_length_B: billed seconds of leg B';
COMMENT ON COLUMN "mtt_callbacks"."real_length_b_s" IS 'call_back_real_length_B: connected seconds of leg B: the conversation itself';
COMMENT ON COLUMN "mtt_callbacks"."cost" IS 'call_back_cost: the cost of both legs (calls.cost); NULL for an ended-without-conversation answer, which gives none';
COMMENT ON COLUMN "mtt_callbacks"."currency" IS 'call_back_currency (RUB when not sent)';
COMMENT ON COLUMN "mtt_callbacks"."records_a" IS 'number of recording files of leg A the answer listed (the URLs are not stored; recordings holds the files)';
COMMENT ON COLUMN "mtt_callbacks"."records_b" IS 'number of recording files of leg B';
COMMENT ON COLUMN "mtt_callbacks"."call_description" IS 'callDescription as sent';
COMMENT ON COLUMN "mtt_callbacks"."final" IS 'true when the callback will not change: completed or ended; false rows are asked again next run';
COMMENT ON COLUMN "mtt_callbacks"."extras" IS 'members the API sent that this version does not know, as a JSON object ('''' when none)';
COMMENT ON COLUMN "mtt_callbacks"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "mtt_callbacks"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "t2_calls" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "call_id",
  CAST(NULL AS TIMESTAMPTZ) AS "call_timestamp",
  CAST(NULL AS VARCHAR) AS "call_type",
  CAST(NULL AS VARCHAR) AS "destination_number",
  CAST(NULL AS VARCHAR) AS "caller_number",
  CAST(NULL AS VARCHAR) AS "caller_name",
  CAST(NULL AS VARCHAR) AS "callee_number",
  CAST(NULL AS VARCHAR) AS "callee_name",
  CAST(NULL AS INTEGER) AS "call_duration",
  CAST(NULL AS INTEGER) AS "conversation_duration",
  CAST(NULL AS VARCHAR) AS "call_status",
  CAST(NULL AS VARCHAR) AS "record_file_name",
  CAST(NULL AS VARCHAR) AS "extras",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/t2_calls/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "t2_calls" IS 'T2 call records (call-records/info), every documented field; one row per call record';
COMMENT ON COLUMN "t2_calls"."source" IS 'Hive partition: t2.';
COMMENT ON COLUMN "t2_calls"."date" IS 'Hive partition: the call''s start day (callTimestamp) in the business time zone.';
COMMENT ON COLUMN "t2_calls"."call_id" IS 'natural key: recordFileName, or sha256: of (callTimestamp, callType, callerNumber, destinationNumber, calleeNumber) when it is empty';
COMMENT ON COLUMN "t2_calls"."call_timestamp" IS 'callTimestamp: call start, UTC';
COMMENT ON COLUMN "t2_calls"."call_type" IS 'callType as sent (SINGLE_CHANNEL, MULTI_CHANNEL, INTERNAL, OUTGOING, …; unknown values kept)';
COMMENT ON COLUMN "t2_calls"."destination_number" IS 'destinationNumber: the number dialled';
COMMENT ON COLUMN "t2_calls"."caller_number" IS 'callerNumber as sent';
COMMENT ON COLUMN "t2_calls"."caller_name" IS 'callerName';
COMMENT ON COLUMN "t2_calls"."callee_number" IS 'calleeNumber: who answered, or where the call ended';
COMMENT ON COLUMN "t2_calls"."callee_name" IS 'calleeName';
COMMENT ON COLUMN "t2_calls"."call_duration" IS 'callDuration, seconds';
COMMENT ON COLUMN "t2_calls"."conversation_duration" IS 'conversationDuration, seconds; NULL when not answered (absent)';
COMMENT ON COLUMN "t2_calls"."call_status" IS 'callStatus as sent (ANSWERED_COMMON, NOT_ANSWERED_COMMON, DENIED_…; unknown values kept)';
COMMENT ON COLUMN "t2_calls"."record_file_name" IS 'recordFileName: the recording''s name for call-records/file ('''' when none)';
COMMENT ON COLUMN "t2_calls"."extras" IS 'fields the API sent that this version does not know, as a JSON object ('''' when none)';
COMMENT ON COLUMN "t2_calls"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "t2_calls"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "t2_missed_calls" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "id",
  CAST(NULL AS TIMESTAMPTZ) AS "start_date",
  CAST(NULL AS INTEGER) AS "wait_duration",
  CAST(NULL AS VARCHAR) AS "caller_number",
  CAST(NULL AS VARCHAR) AS "caller",
  CAST(NULL AS VARCHAR) AS "destination_number",
  CAST(NULL AS BIGINT) AS "callee_company_id",
  CAST(NULL AS VARCHAR) AS "callee_number",
  CAST(NULL AS VARCHAR) AS "callee_name",
  CAST(NULL AS VARCHAR) AS "extras",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/t2_missed_calls/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "t2_missed_calls" IS 'T2 missed calls on multichannel numbers (statistics/missing); one row per id. Those without a matching call record are also in calls (call_id missed:<id>)';
COMMENT ON COLUMN "t2_missed_calls"."source" IS 'Hive partition: t2.';
COMMENT ON COLUMN "t2_missed_calls"."date" IS 'Hive partition: the missed call''s start day in the business time zone.';
COMMENT ON COLUMN "t2_missed_calls"."id" IS 'id of the missed call (natural key)';
COMMENT ON COLUMN "t2_missed_calls"."start_date" IS 'startDate: call start, UTC';
COMMENT ON COLUMN "t2_missed_calls"."wait_duration" IS 'waitDuration: seconds the caller waited';
COMMENT ON COLUMN "t2_missed_calls"."caller_number" IS 'callerNumber as sent';
COMMENT ON COLUMN "t2_missed_calls"."caller" IS 'callerNumber normalised to E.164 digits';
COMMENT ON COLUMN "t2_missed_calls"."destination_number" IS 'destinationNumber: the multichannel number (MCN) called';
COMMENT ON COLUMN "t2_missed_calls"."callee_company_id" IS 'calleeCompanyId (callerCompanyId in the parameter table)';
COMMENT ON COLUMN "t2_missed_calls"."callee_number" IS 'calleeNumber: the PBX subscriber the call was offered to; '''' when it ended on the MCN';
COMMENT ON COLUMN "t2_missed_calls"."callee_name" IS 'calleeName, may be empty';
COMMENT ON COLUMN "t2_missed_calls"."extras" IS 'fields the API sent that this version does not know, as a JSON object ('''' when none)';
COMMENT ON COLUMN "t2_missed_calls"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "t2_missed_calls"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "t2_employees" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS BIGINT) AS "employee_id",
  CAST(NULL AS VARCHAR) AS "name",
  CAST(NULL AS VARCHAR) AS "surname",
  CAST(NULL AS VARCHAR) AS "full_number",
  CAST(NULL AS VARCHAR) AS "short_number",
  CAST(NULL AS VARCHAR) AS "email",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "snapshot_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/t2_employees/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "t2_employees" IS 'T2 PBX employees (GET /employees), snapshot per run day';
COMMENT ON COLUMN "t2_employees"."source" IS 'Hive partition: t2.';
COMMENT ON COLUMN "t2_employees"."date" IS 'Hive partition: the run''s day in the business time zone (one snapshot per run day).';
COMMENT ON COLUMN "t2_employees"."employee_id" IS 'employeeId';
COMMENT ON COLUMN "t2_employees"."name" IS 'first name';
COMMENT ON COLUMN "t2_employees"."surname" IS 'surname';
COMMENT ON COLUMN "t2_employees"."full_number" IS 'full number (7XXXXXXXXXX)';
COMMENT ON COLUMN "t2_employees"."short_number" IS 'extension';
COMMENT ON COLUMN "t2_employees"."email" IS 'e-mail';
COMMENT ON COLUMN "t2_employees"."raw" IS 'the element as sent';
COMMENT ON COLUMN "t2_employees"."run_id" IS 'run that took the snapshot';
COMMENT ON COLUMN "t2_employees"."snapshot_at" IS 'when the snapshot was taken, UTC';

CREATE OR REPLACE VIEW "t2_daily_stats" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS TIMESTAMPTZ) AS "period_start",
  CAST(NULL AS TIMESTAMPTZ) AS "period_end",
  CAST(NULL AS BIGINT) AS "all_call_count",
  CAST(NULL AS BIGINT) AS "success_call_count",
  CAST(NULL AS BIGINT) AS "outgoing_call_count",
  CAST(NULL AS BIGINT) AS "lost_call_count",
  CAST(NULL AS BIGINT) AS "common_call_duration",
  CAST(NULL AS BIGINT) AS "average_call_duration",
  CAST(NULL AS BIGINT) AS "max_call_duration",
  CAST(NULL AS DOUBLE) AS "call_count_per_day",
  CAST(NULL AS DOUBLE) AS "call_count_per_hour",
  CAST(NULL AS BIGINT) AS "mn_avg_call_duration",
  CAST(NULL AS BIGINT) AS "mn_max_call_duration",
  CAST(NULL AS DOUBLE) AS "average_call_count_per_hour",
  CAST(NULL AS BIGINT) AS "transfer_call_count",
  CAST(NULL AS BIGINT) AS "transfer_call_duration",
  CAST(NULL AS BIGINT) AS "average_transfer_call_duration",
  CAST(NULL AS BIGINT) AS "hangup_a_call_count",
  CAST(NULL AS BIGINT) AS "hangup_b_call_count",
  CAST(NULL AS BIGINT) AS "unique_call_count",
  CAST(NULL AS BIGINT) AS "redial_count",
  CAST(NULL AS BIGINT) AS "internal_call_count",
  CAST(NULL AS BIGINT) AS "internal_call_duration",
  CAST(NULL AS BIGINT) AS "average_internal_call_duration",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/t2_daily_stats/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "t2_daily_stats" IS 'T2 company statistics (statistics/common) per business day';
COMMENT ON COLUMN "t2_daily_stats"."source" IS 'Hive partition: t2.';
COMMENT ON COLUMN "t2_daily_stats"."date" IS 'Hive partition: the business day the statistics cover.';
COMMENT ON COLUMN "t2_daily_stats"."period_start" IS 'start of the period asked for (the day''s start), UTC';
COMMENT ON COLUMN "t2_daily_stats"."period_end" IS 'end of the period asked for (exclusive), UTC';
COMMENT ON COLUMN "t2_daily_stats"."all_call_count" IS 'statistics/common allCallCount';
COMMENT ON COLUMN "t2_daily_stats"."success_call_count" IS 'statistics/common successCallCount';
COMMENT ON COLUMN "t2_daily_stats"."outgoing_call_count" IS 'statistics/common outgoingCallCount';
COMMENT ON COLUMN "t2_daily_stats"."lost_call_count" IS 'statistics/common lostCallCount';
COMMENT ON COLUMN "t2_daily_stats"."common_call_duration" IS 'statistics/common commonCallDuration';
COMMENT ON COLUMN "t2_daily_stats"."average_call_duration" IS 'statistics/common averageCallDuration';
COMMENT ON COLUMN "t2_daily_stats"."max_call_duration" IS 'statistics/common maxCallDuration';
COMMENT ON COLUMN "t2_daily_stats"."call_count_per_day" IS 'statistics/common callCountPerDay';
COMMENT ON COLUMN "t2_daily_stats"."call_count_per_hour" IS 'statistics/common callCountPerHour';
COMMENT ON COLUMN "t2_daily_stats"."mn_avg_call_duration" IS 'statistics/common mnAvgCallDuration';
COMMENT ON COLUMN "t2_daily_stats"."mn_max_call_duration" IS 'statistics/common mnMaxCallDuration';
COMMENT ON COLUMN "t2_daily_stats"."average_call_count_per_hour" IS 'statistics/common averageCallCountPerHour';
COMMENT ON COLUMN "t2_daily_stats"."transfer_call_count" IS 'statistics/common transferCallCount';
COMMENT ON COLUMN "t2_daily_stats"."transfer_call_duration" IS 'statistics/common transferCallDuration';
COMMENT ON COLUMN "t2_daily_stats"."average_transfer_call_duration" IS 'statistics/common averageTransferCallDuration';
COMMENT ON COLUMN "t2_daily_stats"."hangup_a_call_count" IS 'statistics/common hangupACallCount';
COMMENT ON COLUMN "t2_daily_stats"."hangup_b_call_count" IS 'statistics/common hangupBCallCount';
COMMENT ON COLUMN "t2_daily_stats"."unique_call_count" IS 'statistics/common uniqueCallCount';
COMMENT ON COLUMN "t2_daily_stats"."redial_count" IS 'statistics/common redialCount';
COMMENT ON COLUMN "t2_daily_stats"."internal_call_count" IS 'statistics/common internalCallCount';
COMMENT ON COLUMN "t2_daily_stats"."internal_call_duration" IS 'statistics/common internalCallDuration';
COMMENT ON COLUMN "t2_daily_stats"."average_internal_call_duration" IS 'statistics/common averageInternalCallDuration';
COMMENT ON COLUMN "t2_daily_stats"."raw" IS 'the answer as sent';
COMMENT ON COLUMN "t2_daily_stats"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "t2_daily_stats"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "t2_managers" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS BIGINT) AS "manager_id",
  CAST(NULL AS VARCHAR) AS "manager_name",
  CAST(NULL AS BIGINT) AS "employee_id",
  CAST(NULL AS BIGINT) AS "company_id",
  CAST(NULL AS BOOLEAN) AS "handle_all_customers",
  CAST(NULL AS BIGINT) AS "customer_id",
  CAST(NULL AS VARCHAR) AS "real_number",
  CAST(NULL AS VARCHAR) AS "customer_number",
  CAST(NULL AS VARCHAR) AS "company_name",
  CAST(NULL AS VARCHAR) AS "customer_name",
  CAST(NULL AS VARCHAR) AS "info",
  CAST(NULL AS BOOLEAN) AS "is_vip",
  CAST(NULL AS VARCHAR) AS "manager_extras",
  CAST(NULL AS VARCHAR) AS "customer_extras",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "snapshot_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/t2_managers/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "t2_managers" IS 'T2 personal managers and their customers (GET /managers), snapshot per run day; one row per (manager, customer), or one per manager without customers. Join calls on customer_number';
COMMENT ON COLUMN "t2_managers"."source" IS 'Hive partition: t2.';
COMMENT ON COLUMN "t2_managers"."date" IS 'Hive partition: the run''s day in the business time zone (one snapshot per run day).';
COMMENT ON COLUMN "t2_managers"."manager_id" IS 'id of the manager';
COMMENT ON COLUMN "t2_managers"."manager_name" IS 'name of the manager';
COMMENT ON COLUMN "t2_managers"."employee_id" IS 'employeeId: the manager''s PBX employee (t2_employees.employee_id)';
COMMENT ON COLUMN "t2_managers"."company_id" IS 'companyId';
COMMENT ON COLUMN "t2_managers"."handle_all_customers" IS 'handleAllCustomers: the manager takes calls from every customer';
COMMENT ON COLUMN "t2_managers"."customer_id" IS 'id of the customer; NULL on the row of a manager without customers';
COMMENT ON COLUMN "t2_managers"."real_number" IS 'realNumber as sent';
COMMENT ON COLUMN "t2_managers"."customer_number" IS 'realNumber as E.164 digits: join calls.caller (incoming, missed) or calls.callee (outgoing) on it; '''' on a manager without customers';
COMMENT ON COLUMN "t2_managers"."company_name" IS 'companyName: the customer''s company';
COMMENT ON COLUMN "t2_managers"."customer_name" IS 'name: the customer''s contact person (ФИО), when sent';
COMMENT ON COLUMN "t2_managers"."info" IS 'info about the customer, when sent';
COMMENT ON COLUMN "t2_managers"."is_vip" IS 'isVip (isVIP in the object table): the customer is VIP; NULL when not sent';
COMMENT ON COLUMN "t2_managers"."manager_extras" IS 'fields of the manager the API sent that this version does not know, as a JSON object ('''' when none)';
COMMENT ON COLUMN "t2_managers"."customer_extras" IS 'fields of the customer the API sent that this version does not know (e.g. clientId), as a JSON object ('''' when none)';
COMMENT ON COLUMN "t2_managers"."raw" IS 'the customer element as sent; the manager element on a manager without customers';
COMMENT ON COLUMN "t2_managers"."run_id" IS 'run that took the snapshot';
COMMENT ON COLUMN "t2_managers"."snapshot_at" IS 'when the snapshot was taken, UTC';

CREATE OR REPLACE VIEW "t2_journal" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "number",
  CAST(NULL AS BIGINT) AS "employee_id",
  CAST(NULL AS TIMESTAMPTZ) AS "period_start",
  CAST(NULL AS TIMESTAMPTZ) AS "period_end",
  CAST(NULL AS VARCHAR) AS "number_sent",
  CAST(NULL AS TIMESTAMPTZ) AS "start_timestamp",
  CAST(NULL AS TIMESTAMPTZ) AS "end_timestamp",
  CAST(NULL AS BIGINT) AS "number_of_calls",
  CAST(NULL AS BIGINT) AS "number_of_success_calls",
  CAST(NULL AS VARCHAR) AS "extras",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/t2_journal/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "t2_journal" IS 'T2 per-number call counts (statistics/journal) per employee number and business day';
COMMENT ON COLUMN "t2_journal"."source" IS 'Hive partition: t2.';
COMMENT ON COLUMN "t2_journal"."date" IS 'Hive partition: the business day the counts cover.';
COMMENT ON COLUMN "t2_journal"."number" IS 'the employee''s full number asked for (7XXXXXXXXXX, from GET /employees)';
COMMENT ON COLUMN "t2_journal"."employee_id" IS 'the employee with that number (t2_employees.employee_id)';
COMMENT ON COLUMN "t2_journal"."period_start" IS 'start of the period asked for (the day''s start), UTC';
COMMENT ON COLUMN "t2_journal"."period_end" IS 'end of the period asked for (exclusive), UTC';
COMMENT ON COLUMN "t2_journal"."number_sent" IS 'number as answered';
COMMENT ON COLUMN "t2_journal"."start_timestamp" IS 'startTimestamp (Unix seconds) as answered, UTC';
COMMENT ON COLUMN "t2_journal"."end_timestamp" IS 'endTimestamp (Unix seconds) as answered, UTC';
COMMENT ON COLUMN "t2_journal"."number_of_calls" IS 'numberOfCalls: calls of the number in the period';
COMMENT ON COLUMN "t2_journal"."number_of_success_calls" IS 'numberOfSuccessCalls: answered calls of the number in the period';
COMMENT ON COLUMN "t2_journal"."extras" IS 'fields the API sent that this version does not know, as a JSON object ('''' when none)';
COMMENT ON COLUMN "t2_journal"."raw" IS 'the answer as sent';
COMMENT ON COLUMN "t2_journal"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "t2_journal"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "t2_employee_stats" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "number",
  CAST(NULL AS BIGINT) AS "employee_id",
  CAST(NULL AS TIMESTAMPTZ) AS "period_start",
  CAST(NULL AS TIMESTAMPTZ) AS "period_end",
  CAST(NULL AS BIGINT) AS "all_call_count",
  CAST(NULL AS BIGINT) AS "success_call_count",
  CAST(NULL AS BIGINT) AS "outgoing_call_count",
  CAST(NULL AS BIGINT) AS "lost_call_count",
  CAST(NULL AS BIGINT) AS "common_call_duration",
  CAST(NULL AS BIGINT) AS "average_call_duration",
  CAST(NULL AS BIGINT) AS "max_call_duration",
  CAST(NULL AS DOUBLE) AS "call_count_per_day",
  CAST(NULL AS DOUBLE) AS "call_count_per_hour",
  CAST(NULL AS BIGINT) AS "mn_avg_call_duration",
  CAST(NULL AS BIGINT) AS "mn_max_call_duration",
  CAST(NULL AS DOUBLE) AS "average_call_count_per_hour",
  CAST(NULL AS BIGINT) AS "transfer_call_count",
  CAST(NULL AS BIGINT) AS "transfer_call_duration",
  CAST(NULL AS BIGINT) AS "average_transfer_call_duration",
  CAST(NULL AS BIGINT) AS "hangup_a_call_count",
  CAST(NULL AS BIGINT) AS "hangup_b_call_count",
  CAST(NULL AS BIGINT) AS "unique_call_count",
  CAST(NULL AS BIGINT) AS "redial_count",
  CAST(NULL AS BIGINT) AS "internal_call_count",
  CAST(NULL AS BIGINT) AS "internal_call_duration",
  CAST(NULL AS BIGINT) AS "average_internal_call_duration",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/t2_employee_stats/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "t2_employee_stats" IS 'T2 per-number statistics (statistics/common with subscriberNumber) per employee number and business day';
COMMENT ON COLUMN "t2_employee_stats"."source" IS 'Hive partition: t2.';
COMMENT ON COLUMN "t2_employee_stats"."date" IS 'Hive partition: the business day the statistics cover.';
COMMENT ON COLUMN "t2_employee_stats"."number" IS 'the employee''s full number sent as subscriberNumber (7XXXXXXXXXX, from GET /employees)';
COMMENT ON COLUMN "t2_employee_stats"."employee_id" IS 'the employee with that number (t2_employees.employee_id)';
COMMENT ON COLUMN "t2_employee_stats"."period_start" IS 'start of the period asked for (the day''s start), UTC';
COMMENT ON COLUMN "t2_employee_stats"."period_end" IS 'end of the period asked for (exclusive), UTC';
COMMENT ON COLUMN "t2_employee_stats"."all_call_count" IS 'statistics/common?subscriberNumber allCallCount';
COMMENT ON COLUMN "t2_employee_stats"."success_call_count" IS 'statistics/common?subscriberNumber successCallCount';
COMMENT ON COLUMN "t2_employee_stats"."outgoing_call_count" IS 'statistics/common?subscriberNumber outgoingCallCount';
COMMENT ON COLUMN "t2_employee_stats"."lost_call_count" IS 'statistics/common?subscriberNumber lostCallCount';
COMMENT ON COLUMN "t2_employee_stats"."common_call_duration" IS 'statistics/common?subscriberNumber commonCallDuration';
COMMENT ON COLUMN "t2_employee_stats"."average_call_duration" IS 'statistics/common?subscriberNumber averageCallDuration';
COMMENT ON COLUMN "t2_employee_stats"."max_call_duration" IS 'statistics/common?subscriberNumber maxCallDuration';
COMMENT ON COLUMN "t2_employee_stats"."call_count_per_day" IS 'statistics/common?subscriberNumber callCountPerDay';
COMMENT ON COLUMN "t2_employee_stats"."call_count_per_hour" IS 'statistics/common?subscriberNumber callCountPerHour';
COMMENT ON COLUMN "t2_employee_stats"."mn_avg_call_duration" IS 'statistics/common?subscriberNumber mnAvgCallDuration';
COMMENT ON COLUMN "t2_employee_stats"."mn_max_call_duration" IS 'statistics/common?subscriberNumber mnMaxCallDuration';
COMMENT ON COLUMN "t2_employee_stats"."average_call_count_per_hour" IS 'statistics/common?subscriberNumber averageCallCountPerHour';
COMMENT ON COLUMN "t2_employee_stats"."transfer_call_count" IS 'statistics/common?subscriberNumber transferCallCount';
COMMENT ON COLUMN "t2_employee_stats"."transfer_call_duration" IS 'statistics/common?subscriberNumber transferCallDuration';
COMMENT ON COLUMN "t2_employee_stats"."average_transfer_call_duration" IS 'statistics/common?subscriberNumber averageTransferCallDuration';
COMMENT ON COLUMN "t2_employee_stats"."hangup_a_call_count" IS 'statistics/common?subscriberNumber hangupACallCount';
COMMENT ON COLUMN "t2_employee_stats"."hangup_b_call_count" IS 'statistics/common?subscriberNumber hangupBCallCount';
COMMENT ON COLUMN "t2_employee_stats"."unique_call_count" IS 'statistics/common?subscriberNumber uniqueCallCount';
COMMENT ON COLUMN "t2_employee_stats"."redial_count" IS 'statistics/common?subscriberNumber redialCount';
COMMENT ON COLUMN "t2_employee_stats"."internal_call_count" IS 'statistics/common?subscriberNumber internalCallCount';
COMMENT ON COLUMN "t2_employee_stats"."internal_call_duration" IS 'statistics/common?subscriberNumber internalCallDuration';
COMMENT ON COLUMN "t2_employee_stats"."average_internal_call_duration" IS 'statistics/common?subscriberNumber averageInternalCallDuration';
COMMENT ON COLUMN "t2_employee_stats"."raw" IS 'the answer as sent';
COMMENT ON COLUMN "t2_employee_stats"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "t2_employee_stats"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "votbox_tasks" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "task_id",
  CAST(NULL AS VARCHAR) AS "task_name",
  CAST(NULL AS TIMESTAMPTZ) AS "start_time",
  CAST(NULL AS INTEGER) AS "status",
  CAST(NULL AS VARCHAR) AS "status_text",
  CAST(NULL AS BIGINT) AS "items",
  CAST(NULL AS BIGINT) AS "rejected_items",
  CAST(NULL AS BIGINT) AS "queued_items",
  CAST(NULL AS BIGINT) AS "in_progress_items",
  CAST(NULL AS BIGINT) AS "error_items",
  CAST(NULL AS BIGINT) AS "success_items",
  CAST(NULL AS BIGINT) AS "operator_items",
  CAST(NULL AS BIGINT) AS "billing_error_items",
  CAST(NULL AS BIGINT) AS "expired_items",
  CAST(NULL AS BIGINT) AS "stopped_by_user_items",
  CAST(NULL AS BIGINT) AS "other_items",
  CAST(NULL AS BOOLEAN) AS "final",
  CAST(NULL AS VARCHAR) AS "extras",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/votbox_tasks/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "votbox_tasks" IS 'VotBox autocall tasks (autocall.check): one row per task as its latest extraction saw it';
COMMENT ON COLUMN "votbox_tasks"."source" IS 'Hive partition: votbox.';
COMMENT ON COLUMN "votbox_tasks"."date" IS 'Hive partition: the task''s start day in the business time zone (the run''s day when unknown).';
COMMENT ON COLUMN "votbox_tasks"."task_id" IS 'task.id';
COMMENT ON COLUMN "votbox_tasks"."task_name" IS 'task.taskname';
COMMENT ON COLUMN "votbox_tasks"."start_time" IS 'task.taskstarttime (unix) as a UTC instant; NULL when absent';
COMMENT ON COLUMN "votbox_tasks"."status" IS 'task.taskstatus code';
COMMENT ON COLUMN "votbox_tasks"."status_text" IS 'task.taskstatusstr as sent';
COMMENT ON COLUMN "votbox_tasks"."items" IS 'items autocall.check listed for the task (rejected ones included)';
COMMENT ON COLUMN "votbox_tasks"."rejected_items" IS 'items that failed validation (in rejects)';
COMMENT ON COLUMN "votbox_tasks"."queued_items" IS 'items with jobstatus 0 (queued)';
COMMENT ON COLUMN "votbox_tasks"."in_progress_items" IS 'items with jobstatus 1 (in_progress)';
COMMENT ON COLUMN "votbox_tasks"."error_items" IS 'items with jobstatus 2 (error)';
COMMENT ON COLUMN "votbox_tasks"."success_items" IS 'items with jobstatus 3 (success)';
COMMENT ON COLUMN "votbox_tasks"."operator_items" IS 'items with jobstatus 4 (operator)';
COMMENT ON COLUMN "votbox_tasks"."billing_error_items" IS 'items with jobstatus 5 (billing_error)';
COMMENT ON COLUMN "votbox_tasks"."expired_items" IS 'items with jobstatus 7 (expired)';
COMMENT ON COLUMN "votbox_tasks"."stopped_by_user_items" IS 'items with jobstatus 11 (stopped_by_user)';
COMMENT ON COLUMN "votbox_tasks"."other_items" IS 'items with a jobstatus the document does not list';
COMMENT ON COLUMN "votbox_tasks"."final" IS 'every item had a final jobstatus (not 0 or 1) and none was rejected: the task will not change';
COMMENT ON COLUMN "votbox_tasks"."extras" IS 'task fields this version does not know, as a JSON object ('''' when none)';
COMMENT ON COLUMN "votbox_tasks"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "votbox_tasks"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "votbox_calls" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "task_id",
  CAST(NULL AS VARCHAR) AS "item_id",
  CAST(NULL AS VARCHAR) AS "phone_raw",
  CAST(NULL AS VARCHAR) AS "phone",
  CAST(NULL AS SMALLINT) AS "job_status",
  CAST(NULL AS VARCHAR) AS "job_status_label",
  CAST(NULL AS VARCHAR) AS "job_status_str",
  CAST(NULL AS INTEGER) AS "attempts",
  CAST(NULL AS TIMESTAMPTZ) AS "call_time",
  CAST(NULL AS INTEGER) AS "call_duration",
  CAST(NULL AS INTEGER) AS "oper_call_duration",
  CAST(NULL AS DECIMAL(18,4)) AS "call_pay",
  CAST(NULL AS DECIMAL(18,4)) AS "oper_call_pay",
  CAST(NULL AS VARCHAR) AS "rec_filename",
  CAST(NULL AS VARCHAR) AS "extras",
  CAST(NULL AS VARCHAR) AS "detail",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/votbox_calls/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "votbox_calls" IS 'VotBox autocall items (autocall.check, merged with autocall.detail when enabled): one row per call item';
COMMENT ON COLUMN "votbox_calls"."source" IS 'Hive partition: votbox.';
COMMENT ON COLUMN "votbox_calls"."date" IS 'Hive partition: the call''s day in the business time zone, or the task''s start day when the item has no call time.';
COMMENT ON COLUMN "votbox_calls"."task_id" IS 'task.id the item belongs to';
COMMENT ON COLUMN "votbox_calls"."item_id" IS 'item.id: the call''s id (CALLID of notifications)';
COMMENT ON COLUMN "votbox_calls"."phone_raw" IS 'item.phonenumber as sent (8XXXXXXXXXX)';
COMMENT ON COLUMN "votbox_calls"."phone" IS 'phonenumber as E.164 digits';
COMMENT ON COLUMN "votbox_calls"."job_status" IS 'item.jobstatus: 0 queued, 1 in progress, 2 error, 3 success, 4 connected to operator, 5 billing error, 7 lifetime expired, 11 ended by user';
COMMENT ON COLUMN "votbox_calls"."job_status_label" IS 'jobstatus as an English word (queued, in_progress, error, success, operator, billing_error, expired, stopped_by_user, status_N)';
COMMENT ON COLUMN "votbox_calls"."job_status_str" IS 'item.jobstatusstr as sent (Russian)';
COMMENT ON COLUMN "votbox_calls"."attempts" IS 'item.attempts: dial attempts';
COMMENT ON COLUMN "votbox_calls"."call_time" IS 'item.calldate (DD.MM.YYYY HH:MM:SS, Moscow time) as a UTC instant; NULL when absent';
COMMENT ON COLUMN "votbox_calls"."call_duration" IS 'item.callduration: seconds connected to the subscriber';
COMMENT ON COLUMN "votbox_calls"."oper_call_duration" IS 'item.opercallduration: seconds connected to the operator';
COMMENT ON COLUMN "votbox_calls"."call_pay" IS 'item.callpay: cost of the call to the subscriber, roubles (sent in kopecks)';
COMMENT ON COLUMN "votbox_calls"."oper_call_pay" IS 'item.opercallpay: cost of the call to the operator, roubles (sent in kopecks)';
COMMENT ON COLUMN "votbox_calls"."rec_filename" IS 'item.recfilename: the recorded talk for autocall.recordtalk ('''' when none)';
COMMENT ON COLUMN "votbox_calls"."extras" IS 'item fields this version does not know, as a JSON object ('''' when none)';
COMMENT ON COLUMN "votbox_calls"."detail" IS 'autocall.detail answer''s fields as a JSON object; NULL when detail is off or the item was not final';
COMMENT ON COLUMN "votbox_calls"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "votbox_calls"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "voicebox_calls" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "customer_id",
  CAST(NULL AS VARCHAR) AS "call_id",
  CAST(NULL AS VARCHAR) AS "call_id_field",
  CAST(NULL AS TIMESTAMPTZ) AS "started_at",
  CAST(NULL AS TIMESTAMPTZ) AS "ended_at",
  CAST(NULL AS VARCHAR) AS "caller",
  CAST(NULL AS VARCHAR) AS "caller_raw",
  CAST(NULL AS VARCHAR) AS "callee",
  CAST(NULL AS VARCHAR) AS "callee_raw",
  CAST(NULL AS VARCHAR) AS "direction",
  CAST(NULL AS VARCHAR) AS "direction_raw",
  CAST(NULL AS INTEGER) AS "duration_s",
  CAST(NULL AS INTEGER) AS "talk_s",
  CAST(NULL AS VARCHAR) AS "status",
  CAST(NULL AS DECIMAL(18,4)) AS "cost",
  CAST(NULL AS VARCHAR) AS "cost_raw",
  CAST(NULL AS VARCHAR) AS "currency",
  CAST(NULL AS VARCHAR) AS "campaign_id",
  CAST(NULL AS VARCHAR) AS "campaign_name",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/voicebox_calls/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "voicebox_calls" IS 'MTT VoiceBox call history (GET /customers/{id}/callhistory): lifted fields and the row as sent; one row per customer and call';
COMMENT ON COLUMN "voicebox_calls"."source" IS 'Hive partition: voicebox.';
COMMENT ON COLUMN "voicebox_calls"."date" IS 'Hive partition: the call''s start day in the business time zone.';
COMMENT ON COLUMN "voicebox_calls"."customer_id" IS 'VoiceBox customer id the history was read for';
COMMENT ON COLUMN "voicebox_calls"."call_id" IS 'the row''s id (first of id, callId, uuid, sessionId… present), else h + 16 hex digits of the SHA-256 of the row''s canonical JSON';
COMMENT ON COLUMN "voicebox_calls"."call_id_field" IS 'the field call_id came from; empty when it is a hash';
COMMENT ON COLUMN "voicebox_calls"."started_at" IS 'call start (startTime, callStart, started_at, date… as sent; times without a zone are in the vendor zone), UTC';
COMMENT ON COLUMN "voicebox_calls"."ended_at" IS 'call end (endTime, finished_at…), UTC; NULL when absent';
COMMENT ON COLUMN "voicebox_calls"."caller" IS 'calling number as E.164 digits (or the extension as it is)';
COMMENT ON COLUMN "voicebox_calls"."caller_raw" IS 'calling number as sent (from, callerNumber, ani, src…)';
COMMENT ON COLUMN "voicebox_calls"."callee" IS 'called number as E.164 digits (or the extension as it is)';
COMMENT ON COLUMN "voicebox_calls"."callee_raw" IS 'called number as sent (to, calledNumber, dnis, dst, phone…)';
COMMENT ON COLUMN "voicebox_calls"."direction" IS 'canonical direction: incoming (Входящая) or autocall (Исходящая, or unknown)';
COMMENT ON COLUMN "voicebox_calls"."direction_raw" IS 'direction or campaign type as sent';
COMMENT ON COLUMN "voicebox_calls"."duration_s" IS 'call duration in seconds (duration, durationSec, callDuration…; ms fields converted); else end - start';
COMMENT ON COLUMN "voicebox_calls"."talk_s" IS 'talk time in seconds (talkDuration, billsec…); the duration when the row has none';
COMMENT ON COLUMN "voicebox_calls"."status" IS 'status as sent (status, result, disposition, state)';
COMMENT ON COLUMN "voicebox_calls"."cost" IS 'call cost, exact DECIMAL(18,4) from the JSON text (cost, price, amount, charge)';
COMMENT ON COLUMN "voicebox_calls"."cost_raw" IS 'cost as sent';
COMMENT ON COLUMN "voicebox_calls"."currency" IS 'currency of cost, upper case; RUB when the row has none';
COMMENT ON COLUMN "voicebox_calls"."campaign_id" IS 'campaign id (campaignId or campaign.id)';
COMMENT ON COLUMN "voicebox_calls"."campaign_name" IS 'campaign name (campaignName or campaign.name)';
COMMENT ON COLUMN "voicebox_calls"."raw" IS 'the row''s JSON exactly as the API sent it';
COMMENT ON COLUMN "voicebox_calls"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "voicebox_calls"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "voicebox_campaigns" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "customer_id",
  CAST(NULL AS VARCHAR) AS "campaign_id",
  CAST(NULL AS VARCHAR) AS "name",
  CAST(NULL AS VARCHAR) AS "campaign_type",
  CAST(NULL AS VARCHAR) AS "status",
  CAST(NULL AS VARCHAR) AS "listed_in",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "snapshot_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/voicebox_campaigns/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "voicebox_campaigns" IS 'MTT VoiceBox campaigns per customer (GET /campaigns and /callhistory/campaigns), snapshot per run day';
COMMENT ON COLUMN "voicebox_campaigns"."source" IS 'Hive partition: voicebox.';
COMMENT ON COLUMN "voicebox_campaigns"."date" IS 'Hive partition: the run''s day in the business time zone (one snapshot per customer, replaced by a later run that day).';
COMMENT ON COLUMN "voicebox_campaigns"."customer_id" IS 'VoiceBox customer id';
COMMENT ON COLUMN "voicebox_campaigns"."campaign_id" IS 'campaign id (id or campaignId), else h + 16 hex digits of the SHA-256 of the row';
COMMENT ON COLUMN "voicebox_campaigns"."name" IS 'campaign name (name or campaignName)';
COMMENT ON COLUMN "voicebox_campaigns"."campaign_type" IS 'campaign type as sent: Входящая or Исходящая';
COMMENT ON COLUMN "voicebox_campaigns"."status" IS 'campaign status as sent (Active, Paused, Stopped, Suspended); empty in callhistory rows';
COMMENT ON COLUMN "voicebox_campaigns"."listed_in" IS 'campaigns (GET /campaigns) or callhistory (GET /callhistory/campaigns: campaigns with call history, deleted ones included)';
COMMENT ON COLUMN "voicebox_campaigns"."raw" IS 'the row''s JSON exactly as the API sent it';
COMMENT ON COLUMN "voicebox_campaigns"."run_id" IS 'run that took the snapshot';
COMMENT ON COLUMN "voicebox_campaigns"."snapshot_at" IS 'when the snapshot was taken, UTC';

CREATE OR REPLACE VIEW "voicebox_numbers" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "customer_id",
  CAST(NULL AS VARCHAR) AS "number_id",
  CAST(NULL AS VARCHAR) AS "number",
  CAST(NULL AS VARCHAR) AS "number_raw",
  CAST(NULL AS VARCHAR) AS "number_type",
  CAST(NULL AS VARCHAR) AS "owner",
  CAST(NULL AS VARCHAR) AS "region_name",
  CAST(NULL AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "category",
  CAST(NULL AS VARCHAR) AS "description",
  CAST(NULL AS VARCHAR) AS "campaigns",
  CAST(NULL AS DECIMAL(18,4)) AS "monthly_fee",
  CAST(NULL AS VARCHAR) AS "fee_raw",
  CAST(NULL AS VARCHAR) AS "currency",
  CAST(NULL AS VARCHAR) AS "price_raw",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "snapshot_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/voicebox_numbers/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "voicebox_numbers" IS 'MTT VoiceBox numbers per customer (GET /customers/{id}/numbers) with each number''s monthly fee (…/numbers/{number_id}/price), snapshot per run day';
COMMENT ON COLUMN "voicebox_numbers"."source" IS 'Hive partition: voicebox.';
COMMENT ON COLUMN "voicebox_numbers"."date" IS 'Hive partition: the run''s day in the business time zone (one snapshot per customer, replaced by a later run that day): the days the number was held.';
COMMENT ON COLUMN "voicebox_numbers"."customer_id" IS 'VoiceBox customer id (the account of calls and balances)';
COMMENT ON COLUMN "voicebox_numbers"."number_id" IS '{number_id} of the price path: the row''s id, else its number (the document lists no id), else h + 16 hex digits of the SHA-256 of the row';
COMMENT ON COLUMN "voicebox_numbers"."number" IS 'the number as E.164 digits';
COMMENT ON COLUMN "voicebox_numbers"."number_raw" IS 'number as sent (a JSON integer)';
COMMENT ON COLUMN "voicebox_numbers"."number_type" IS 'type as sent: ABC, DEF, TollFree';
COMMENT ON COLUMN "voicebox_numbers"."owner" IS 'owner as sent (MTT)';
COMMENT ON COLUMN "voicebox_numbers"."region_name" IS 'regionName as sent';
COMMENT ON COLUMN "voicebox_numbers"."region_code" IS 'regionCode as sent (MOW, SPE…)';
COMMENT ON COLUMN "voicebox_numbers"."category" IS 'category as sent (REGULAR, SILVER, GOLD, PLATINUM)';
COMMENT ON COLUMN "voicebox_numbers"."description" IS 'description as sent';
COMMENT ON COLUMN "voicebox_numbers"."campaigns" IS 'the campaigns on the number: the array''s JSON as sent ('''' when absent)';
COMMENT ON COLUMN "voicebox_numbers"."monthly_fee" IS 'the number''s monthly fee (абонентская плата) from GET …/numbers/{number_id}/price, exact DECIMAL(18,4); NULL when the price answered 404 or the row has no number';
COMMENT ON COLUMN "voicebox_numbers"."fee_raw" IS 'the fee as sent';
COMMENT ON COLUMN "voicebox_numbers"."currency" IS 'currency of the fee, upper case; RUB when the answer has none ('''' when no fee)';
COMMENT ON COLUMN "voicebox_numbers"."price_raw" IS 'the price answer''s JSON as sent ('''' when not fetched)';
COMMENT ON COLUMN "voicebox_numbers"."raw" IS 'the numbers row''s JSON exactly as the API sent it';
COMMENT ON COLUMN "voicebox_numbers"."run_id" IS 'run that took the snapshot';
COMMENT ON COLUMN "voicebox_numbers"."snapshot_at" IS 'when the snapshot was taken, UTC';

CREATE OR REPLACE VIEW "voicebox_customers" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "customer_id",
  CAST(NULL AS VARCHAR) AS "id",
  CAST(NULL AS VARCHAR) AS "name",
  CAST(NULL AS VARCHAR) AS "status",
  CAST(NULL AS VARCHAR) AS "description",
  CAST(NULL AS VARCHAR) AS "email",
  CAST(NULL AS VARCHAR) AS "phone",
  CAST(NULL AS VARCHAR) AS "personal_account",
  CAST(NULL AS VARCHAR) AS "manager_email",
  CAST(NULL AS VARCHAR) AS "tariffication_params",
  CAST(NULL AS VARCHAR) AS "raw",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "snapshot_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/voicebox_customers/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "voicebox_customers" IS 'MTT VoiceBox customers (GET /customers/{id}): who each customer id is, snapshot per run day, credentials removed';
COMMENT ON COLUMN "voicebox_customers"."source" IS 'Hive partition: voicebox.';
COMMENT ON COLUMN "voicebox_customers"."date" IS 'Hive partition: the run''s day in the business time zone (one row per customer, replaced by a later run that day).';
COMMENT ON COLUMN "voicebox_customers"."customer_id" IS 'the configured customer id (the account of calls, balances and voicebox_numbers)';
COMMENT ON COLUMN "voicebox_customers"."id" IS 'id as the answer gives it';
COMMENT ON COLUMN "voicebox_customers"."name" IS 'the customer''s name (company) as sent';
COMMENT ON COLUMN "voicebox_customers"."status" IS 'status as sent';
COMMENT ON COLUMN "voicebox_customers"."description" IS 'description as sent';
COMMENT ON COLUMN "voicebox_customers"."email" IS 'email as sent';
COMMENT ON COLUMN "voicebox_customers"."phone" IS 'phone as sent';
COMMENT ON COLUMN "voicebox_customers"."personal_account" IS 'personalAccount: the MTT personal account the customer is billed on';
COMMENT ON COLUMN "voicebox_customers"."manager_email" IS 'managerEmail as sent';
COMMENT ON COLUMN "voicebox_customers"."tariffication_params" IS 'tarifficationParams'' JSON as sent ('''' when absent)';
COMMENT ON COLUMN "voicebox_customers"."raw" IS 'the answer re-encoded (keys sorted) WITHOUT every member whose name contains password, secret or token (password, passwordRL): the API hands out credentials, the lake never keeps them';
COMMENT ON COLUMN "voicebox_customers"."run_id" IS 'run that took the snapshot';
COMMENT ON COLUMN "voicebox_customers"."snapshot_at" IS 'when the snapshot was taken, UTC';

CREATE OR REPLACE VIEW "mobilgroup_broadcasts" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "broadcast_id",
  CAST(NULL AS INTEGER) AS "phones",
  CAST(NULL AS DECIMAL(18,4)) AS "budget",
  CAST(NULL AS DECIMAL(18,4)) AS "price_total",
  CAST(NULL AS BIGINT) AS "subscribers",
  CAST(NULL AS BIGINT) AS "rejected_subscribers",
  CAST(NULL AS BIGINT) AS "called_subscribers",
  CAST(NULL AS BIGINT) AS "status_answered",
  CAST(NULL AS BIGINT) AS "status_busy",
  CAST(NULL AS BIGINT) AS "status_no_answer",
  CAST(NULL AS BIGINT) AS "status_unavailable",
  CAST(NULL AS BIGINT) AS "status_failed",
  CAST(NULL AS BIGINT) AS "status_rejected",
  CAST(NULL AS BIGINT) AS "status_pending",
  CAST(NULL AS BIGINT) AS "status_unknown",
  CAST(NULL AS TIMESTAMPTZ) AS "first_called_at",
  CAST(NULL AS TIMESTAMPTZ) AS "last_called_at",
  CAST(NULL AS BOOLEAN) AS "final",
  CAST(NULL AS VARCHAR) AS "extras",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/mobilgroup_broadcasts/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "mobilgroup_broadcasts" IS 'Mobilgroup voice broadcasts (api/get state): one row per broadcast as its latest extraction saw it';
COMMENT ON COLUMN "mobilgroup_broadcasts"."source" IS 'Hive partition: mobilgroup.';
COMMENT ON COLUMN "mobilgroup_broadcasts"."date" IS 'Hive partition: the business-zone day of the earliest subscriber date (the run''s day when no subscriber has a date yet).';
COMMENT ON COLUMN "mobilgroup_broadcasts"."broadcast_id" IS 'id: the broadcast (рассылка) id';
COMMENT ON COLUMN "mobilgroup_broadcasts"."phones" IS 'phones: the number of phones in the broadcast, as the vendor counts them';
COMMENT ON COLUMN "mobilgroup_broadcasts"."budget" IS 'budget: the broadcast''s total cost, roubles (an estimate until every subscriber is final)';
COMMENT ON COLUMN "mobilgroup_broadcasts"."price_total" IS 'sum of the price of the subscribers in mobilgroup_calls (rejected ones excluded), roubles';
COMMENT ON COLUMN "mobilgroup_broadcasts"."subscribers" IS 'subscribers listed in the state answer (rejected ones included)';
COMMENT ON COLUMN "mobilgroup_broadcasts"."rejected_subscribers" IS 'subscribers that failed validation (in rejects)';
COMMENT ON COLUMN "mobilgroup_broadcasts"."called_subscribers" IS 'subscribers with a date (called at least once)';
COMMENT ON COLUMN "mobilgroup_broadcasts"."status_answered" IS 'mapped subscribers whose status normalises to answered';
COMMENT ON COLUMN "mobilgroup_broadcasts"."status_busy" IS 'mapped subscribers whose status normalises to busy';
COMMENT ON COLUMN "mobilgroup_broadcasts"."status_no_answer" IS 'mapped subscribers whose status normalises to no_answer';
COMMENT ON COLUMN "mobilgroup_broadcasts"."status_unavailable" IS 'mapped subscribers whose status normalises to unavailable';
COMMENT ON COLUMN "mobilgroup_broadcasts"."status_failed" IS 'mapped subscribers whose status normalises to failed';
COMMENT ON COLUMN "mobilgroup_broadcasts"."status_rejected" IS 'mapped subscribers whose status normalises to rejected';
COMMENT ON COLUMN "mobilgroup_broadcasts"."status_pending" IS 'mapped subscribers whose status normalises to pending';
COMMENT ON COLUMN "mobilgroup_broadcasts"."status_unknown" IS 'mapped subscribers whose status normalises to unknown';
COMMENT ON COLUMN "mobilgroup_broadcasts"."first_called_at" IS 'earliest subscriber date, UTC; NULL when none';
COMMENT ON COLUMN "mobilgroup_broadcasts"."last_called_at" IS 'latest subscriber date, UTC; NULL when none';
COMMENT ON COLUMN "mobilgroup_broadcasts"."final" IS 'at least one subscriber, every subscriber final (see mobilgroup_calls.final) and none rejected: the broadcast will not be fetched again';
COMMENT ON COLUMN "mobilgroup_broadcasts"."extras" IS 'answer members this version does not know, as a JSON object ('''' when none)';
COMMENT ON COLUMN "mobilgroup_broadcasts"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "mobilgroup_broadcasts"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "mobilgroup_calls" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "broadcast_id",
  CAST(NULL AS INTEGER) AS "seq",
  CAST(NULL AS VARCHAR) AS "phone",
  CAST(NULL AS VARCHAR) AS "phone_raw",
  CAST(NULL AS TIMESTAMPTZ) AS "called_at",
  CAST(NULL AS VARCHAR) AS "status_text",
  CAST(NULL AS VARCHAR) AS "status",
  CAST(NULL AS BOOLEAN) AS "final",
  CAST(NULL AS INTEGER) AS "attempts",
  CAST(NULL AS INTEGER) AS "duration_s",
  CAST(NULL AS DECIMAL(18,4)) AS "price",
  CAST(NULL AS VARCHAR) AS "transfer_number",
  CAST(NULL AS VARCHAR) AS "transfer_number_raw",
  CAST(NULL AS INTEGER) AS "transfer_duration_s",
  CAST(NULL AS DECIMAL(18,4)) AS "transfer_price",
  CAST(NULL AS VARCHAR) AS "transfer_status_text",
  CAST(NULL AS VARCHAR) AS "transfer_status",
  CAST(NULL AS TIMESTAMPTZ) AS "sms_date",
  CAST(NULL AS VARCHAR) AS "sms_message",
  CAST(NULL AS INTEGER) AS "sms_parts",
  CAST(NULL AS DECIMAL(18,4)) AS "sms_price",
  CAST(NULL AS VARCHAR) AS "sms_status_text",
  CAST(NULL AS VARCHAR) AS "sms_status",
  CAST(NULL AS VARCHAR) AS "extras",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "extracted_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/mobilgroup_calls/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "mobilgroup_calls" IS 'Mobilgroup broadcast subscribers (api/get state): one row per subscriber, with its transfer and SMS legs';
COMMENT ON COLUMN "mobilgroup_calls"."source" IS 'Hive partition: mobilgroup.';
COMMENT ON COLUMN "mobilgroup_calls"."date" IS 'Hive partition: the call''s day in the business time zone, or the broadcast''s day when the subscriber has no date.';
COMMENT ON COLUMN "mobilgroup_calls"."broadcast_id" IS 'the broadcast id';
COMMENT ON COLUMN "mobilgroup_calls"."seq" IS '1-based position of the subscriber in the state answer: the stable key (a phone can repeat)';
COMMENT ON COLUMN "mobilgroup_calls"."phone" IS 'phone as E.164 digits';
COMMENT ON COLUMN "mobilgroup_calls"."phone_raw" IS 'phone as sent';
COMMENT ON COLUMN "mobilgroup_calls"."called_at" IS 'date (Moscow time by default) as a UTC instant; NULL when not called yet';
COMMENT ON COLUMN "mobilgroup_calls"."status_text" IS 'status as sent (Russian)';
COMMENT ON COLUMN "mobilgroup_calls"."status" IS 'status normalised: answered, busy, no_answer, unavailable, failed, rejected, pending, unknown';
COMMENT ON COLUMN "mobilgroup_calls"."final" IS 'the subscriber will not change: a result status (not pending or unknown), no SMS pending, and no redial can still come (answered, 3 attempts used, or called at least the redial window, 2h30m, before the run started)';
COMMENT ON COLUMN "mobilgroup_calls"."attempts" IS 'attempts: dial attempts';
COMMENT ON COLUMN "mobilgroup_calls"."duration_s" IS 'duration: seconds talked with the subscriber';
COMMENT ON COLUMN "mobilgroup_calls"."price" IS 'price: the subscriber''s total cost in roubles, transfer and SMS legs included';
COMMENT ON COLUMN "mobilgroup_calls"."transfer_number" IS 'transfer.number as E.164 digits; NULL when there was no transfer';
COMMENT ON COLUMN "mobilgroup_calls"."transfer_number_raw" IS 'transfer.number as sent';
COMMENT ON COLUMN "mobilgroup_calls"."transfer_duration_s" IS 'transfer.duration: seconds the operator talked with the subscriber';
COMMENT ON COLUMN "mobilgroup_calls"."transfer_price" IS 'transfer.price: cost of the transfer leg, roubles (part of price)';
COMMENT ON COLUMN "mobilgroup_calls"."transfer_status_text" IS 'transfer.status as sent';
COMMENT ON COLUMN "mobilgroup_calls"."transfer_status" IS 'transfer.status normalised like status';
COMMENT ON COLUMN "mobilgroup_calls"."sms_date" IS 'sms.date as a UTC instant; NULL when there was no SMS or no date';
COMMENT ON COLUMN "mobilgroup_calls"."sms_message" IS 'sms.message: the SMS text';
COMMENT ON COLUMN "mobilgroup_calls"."sms_parts" IS 'sms.partition: SMS parts in the message';
COMMENT ON COLUMN "mobilgroup_calls"."sms_price" IS 'sms.price: cost of the SMS, roubles (part of price)';
COMMENT ON COLUMN "mobilgroup_calls"."sms_status_text" IS 'sms.status as sent';
COMMENT ON COLUMN "mobilgroup_calls"."sms_status" IS 'sms.status normalised: delivered, undelivered, sent, pending, unknown';
COMMENT ON COLUMN "mobilgroup_calls"."extras" IS 'subscriber members this version does not know (transfer.* and sms.* for the legs), as a JSON object ('''' when none)';
COMMENT ON COLUMN "mobilgroup_calls"."run_id" IS 'run that extracted the row';
COMMENT ON COLUMN "mobilgroup_calls"."extracted_at" IS 'when the row was extracted, UTC';

CREATE OR REPLACE VIEW "votbox_events" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "event_id",
  CAST(NULL AS VARCHAR) AS "call_id",
  CAST(NULL AS VARCHAR) AS "state",
  CAST(NULL AS TIMESTAMPTZ) AS "event_time",
  CAST(NULL AS VARCHAR) AS "ani",
  CAST(NULL AS VARCHAR) AS "dnis",
  CAST(NULL AS VARCHAR) AS "phone",
  CAST(NULL AS INTEGER) AS "rel",
  CAST(NULL AS VARCHAR) AS "dtmf",
  CAST(NULL AS VARCHAR) AS "addinfo",
  CAST(NULL AS VARCHAR) AS "filename",
  CAST(NULL AS INTEGER) AS "call_duration",
  CAST(NULL AS INTEGER) AS "oper_call_duration",
  CAST(NULL AS INTEGER) AS "job_status",
  CAST(NULL AS DECIMAL(18,4)) AS "call_pay",
  CAST(NULL AS DECIMAL(18,4)) AS "oper_call_pay",
  CAST(NULL AS INTEGER) AS "duration",
  CAST(NULL AS INTEGER) AS "link_duration",
  CAST(NULL AS VARCHAR) AS "fields",
  CAST(NULL AS TIMESTAMPTZ) AS "received_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/votbox_events/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "votbox_events" IS 'VotBox NotifyUrl notifications received by etl receive: one row per event (CALLOUT … ENDCALL), deduplicated by event_id';
COMMENT ON COLUMN "votbox_events"."source" IS 'Hive partition: the receive endpoint''s source name (votbox).';
COMMENT ON COLUMN "votbox_events"."date" IS 'Hive partition: the event''s day (DT, else the arrival) in the business time zone.';
COMMENT ON COLUMN "votbox_events"."event_id" IS 'Dedupe id: SHA-256 (first 128 bits, hex) of vendor, source and every field as received; a vendor''s retry has the same id.';
COMMENT ON COLUMN "votbox_events"."call_id" IS 'CALLID: the call (item.id of autocall.check, votbox_calls.item_id).';
COMMENT ON COLUMN "votbox_events"."state" IS 'STATE: STARTCALL, CALLOUT, REDIRECT, CALLPROCESS, CALLNOANSWER, QUEUESTART, QUEUEEND, GETDTMF, ENDCALL, VOICEMAIL, RECORDTALK, or what VotBox sent.';
COMMENT ON COLUMN "votbox_events"."event_time" IS 'DT (DD.MM.YYYY HH:MM:SS, Moscow time) as a UTC instant; NULL when absent.';
COMMENT ON COLUMN "votbox_events"."ani" IS 'ANI as E.164 digits ('''' when absent).';
COMMENT ON COLUMN "votbox_events"."dnis" IS 'DNIS as E.164 digits.';
COMMENT ON COLUMN "votbox_events"."phone" IS 'PHONE (REDIRECT: the operator''s number) as E.164 digits.';
COMMENT ON COLUMN "votbox_events"."rel" IS 'REL (CALLNOANSWER): the release cause.';
COMMENT ON COLUMN "votbox_events"."dtmf" IS 'DTMF (GETDTMF): the keys pressed.';
COMMENT ON COLUMN "votbox_events"."addinfo" IS 'addinfo (REDIRECT): the FLIST DESCR of the subscriber.';
COMMENT ON COLUMN "votbox_events"."filename" IS 'FILENAME (VOICEMAIL, RECORDTALK).';
COMMENT ON COLUMN "votbox_events"."call_duration" IS 'CALLDURATION (autocall ENDCALL): seconds connected to the subscriber.';
COMMENT ON COLUMN "votbox_events"."oper_call_duration" IS 'OPERCALLDURATION (ENDCALL): seconds connected to the operator.';
COMMENT ON COLUMN "votbox_events"."job_status" IS 'JOBSTATUS (ENDCALL): the call''s jobstatus (3 success, 4 operator, …).';
COMMENT ON COLUMN "votbox_events"."call_pay" IS 'CALLPAY (ENDCALL): cost of the call to the subscriber, roubles (sent in kopecks).';
COMMENT ON COLUMN "votbox_events"."oper_call_pay" IS 'OPERCALLPAY (ENDCALL): cost of the call to the operator, roubles (sent in kopecks).';
COMMENT ON COLUMN "votbox_events"."duration" IS 'DURATION (inbound ENDCALL): call seconds.';
COMMENT ON COLUMN "votbox_events"."link_duration" IS 'LINKDURATION (inbound ENDCALL): connected seconds.';
COMMENT ON COLUMN "votbox_events"."fields" IS 'Every field as received (keys upper-cased), a JSON object.';
COMMENT ON COLUMN "votbox_events"."received_at" IS 'When etl receive stored the event, UTC.';

CREATE OR REPLACE VIEW "mtt_events" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "event_id",
  CAST(NULL AS VARCHAR) AS "kind",
  CAST(NULL AS VARCHAR) AS "call_id",
  CAST(NULL AS VARCHAR) AS "event",
  CAST(NULL AS VARCHAR) AS "side",
  CAST(NULL AS TIMESTAMPTZ) AS "event_time",
  CAST(NULL AS VARCHAR) AS "number",
  CAST(NULL AS VARCHAR) AS "number_a",
  CAST(NULL AS VARCHAR) AS "sip_id",
  CAST(NULL AS VARCHAR) AS "redirect_number",
  CAST(NULL AS VARCHAR) AS "client_id",
  CAST(NULL AS VARCHAR) AS "task_id",
  CAST(NULL AS VARCHAR) AS "dtmf",
  CAST(NULL AS VARCHAR) AS "notify_type",
  CAST(NULL AS INTEGER) AS "cause",
  CAST(NULL AS INTEGER) AS "duration",
  CAST(NULL AS VARCHAR) AS "data",
  CAST(NULL AS VARCHAR) AS "fields",
  CAST(NULL AS TIMESTAMPTZ) AS "received_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/mtt_events/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "mtt_events" IS 'MTT call-progress notifications received by etl receive (follow-me event_URL, smart-call and callback events): one row per event, deduplicated by event_id';
COMMENT ON COLUMN "mtt_events"."source" IS 'Hive partition: the receive endpoint''s source name (mtt).';
COMMENT ON COLUMN "mtt_events"."date" IS 'Hive partition: the event''s day (its time, else the arrival) in the business time zone.';
COMMENT ON COLUMN "mtt_events"."event_id" IS 'Dedupe id: SHA-256 (first 128 bits, hex) of vendor, source, kind and every field as received.';
COMMENT ON COLUMN "mtt_events"."kind" IS 'followme (getControlCallFollowMe event_URL), smartcall (sb-api events) or callback (callback call progress).';
COMMENT ON COLUMN "mtt_events"."call_id" IS 'The call: h323_conf_id (followme), CallID (smartcall), id (callback).';
COMMENT ON COLUMN "mtt_events"."event" IS 'Event code: o, s, h, sp, ep, t (followme); o, h, n (smartcall); start_side_A … end_side_A (callback).';
COMMENT ON COLUMN "mtt_events"."side" IS 'A or B where the event names a side.';
COMMENT ON COLUMN "mtt_events"."event_time" IS 'date_time as a UTC instant (unix for followme, Moscow YYYY-MM-DD-HH-MM-SS for smartcall); NULL for callback events, which carry none.';
COMMENT ON COLUMN "mtt_events"."number" IS 'The number the event is about (b_number, redirect_number, phone_A) as E.164 digits.';
COMMENT ON COLUMN "mtt_events"."number_a" IS 'numberA (followme) as E.164 digits.';
COMMENT ON COLUMN "mtt_events"."sip_id" IS 'sip_id (followme): the client''s MTT number.';
COMMENT ON COLUMN "mtt_events"."redirect_number" IS 'redirect_number (followme) as E.164 digits.';
COMMENT ON COLUMN "mtt_events"."client_id" IS 'client_id (followme): the client API''s id of the call.';
COMMENT ON COLUMN "mtt_events"."task_id" IS 'id (smartcall): the request''s messId.';
COMMENT ON COLUMN "mtt_events"."dtmf" IS 'dtmf (smartcall): the key chosen ('''' when none or null).';
COMMENT ON COLUMN "mtt_events"."notify_type" IS 'type (smartcall): transfer or notify.';
COMMENT ON COLUMN "mtt_events"."cause" IS 'Q.850/ISUP disconnect cause (h events).';
COMMENT ON COLUMN "mtt_events"."duration" IS 'Seconds (smartcall h events: TTS and talk, or the transferred call).';
COMMENT ON COLUMN "mtt_events"."data" IS 'data (followme) as sent.';
COMMENT ON COLUMN "mtt_events"."fields" IS 'Every field as received (nested objects flattened with dots), a JSON object.';
COMMENT ON COLUMN "mtt_events"."received_at" IS 'When etl receive stored the event, UTC.';

CREATE OR REPLACE VIEW "recordings" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "call_id",
  CAST(NULL AS VARCHAR) AS "recording_ref",
  CAST(NULL AS INTEGER) AS "part",
  CAST(NULL AS VARCHAR) AS "key",
  CAST(NULL AS BIGINT) AS "bytes",
  CAST(NULL AS VARCHAR) AS "sha256",
  CAST(NULL AS VARCHAR) AS "content_type",
  CAST(NULL AS VARCHAR) AS "status",
  CAST(NULL AS INTEGER) AS "attempts",
  CAST(NULL AS VARCHAR) AS "error",
  CAST(NULL AS TIMESTAMPTZ) AS "fetched_at",
  CAST(NULL AS VARCHAR) AS "run_id"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/recordings/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "recordings" IS 'Call recordings fetched into the blob store: one row per call part and attempt; the latest attempt of a call (max fetched_at, run_id) is its state.';
COMMENT ON COLUMN "recordings"."source" IS 'Hive partition: the source system of the call (mtt, t2, votbox).';
COMMENT ON COLUMN "recordings"."date" IS 'Hive partition: the call''s date partition in the calls table.';
COMMENT ON COLUMN "recordings"."call_id" IS 'The call''s call_id in the calls table.';
COMMENT ON COLUMN "recordings"."recording_ref" IS 'The calls table''s recording_ref the recording was fetched with.';
COMMENT ON COLUMN "recordings"."part" IS 'Part number, 1..n in the vendor''s order; 0 for a call that failed or was missing before its parts were known; -1 for the call''s transcript (T2).';
COMMENT ON COLUMN "recordings"."key" IS 'Blob store key of the part; empty unless status is ok.';
COMMENT ON COLUMN "recordings"."bytes" IS 'Size of the stored part in bytes.';
COMMENT ON COLUMN "recordings"."sha256" IS 'SHA-256 of the stored part, lowercase hex.';
COMMENT ON COLUMN "recordings"."content_type" IS 'MIME type sniffed from the first bytes (audio/wav, audio/mpeg, application/json).';
COMMENT ON COLUMN "recordings"."status" IS 'ok (stored), missing (the vendor has none: not retried) or failed (retried with backoff).';
COMMENT ON COLUMN "recordings"."attempts" IS 'Attempts of this call so far, this one included.';
COMMENT ON COLUMN "recordings"."error" IS 'Why the part failed or is missing; empty when ok.';
COMMENT ON COLUMN "recordings"."fetched_at" IS 'When this attempt of the call started (UTC instant); the latest attempt of a call is its state.';
COMMENT ON COLUMN "recordings"."run_id" IS 'ETL run that made the attempt.';

CREATE OR REPLACE VIEW "recording_days" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS BIGINT) AS "calls_attempted",
  CAST(NULL AS BIGINT) AS "stored",
  CAST(NULL AS BIGINT) AS "missing",
  CAST(NULL AS BIGINT) AS "failed",
  CAST(NULL AS BIGINT) AS "stored_bytes",
  CAST(NULL AS BIGINT) AS "transcribed",
  CAST(NULL AS VARCHAR) AS "run_id",
  CAST(NULL AS TIMESTAMPTZ) AS "updated_at"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/recording_days/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "recording_days" IS 'Recording state per source and day, computed from the recordings manifest by every recordings run: one row per (source, date) of the manifest, counting each call by its latest attempt.';
COMMENT ON COLUMN "recording_days"."source" IS 'Hive partition: the source system of the calls (mtt, t2, votbox).';
COMMENT ON COLUMN "recording_days"."date" IS 'Hive partition: the calls'' date partition in the calls table (as in the recordings manifest).';
COMMENT ON COLUMN "recording_days"."calls_attempted" IS 'Calls of this source and date with at least one attempt in the recordings manifest.';
COMMENT ON COLUMN "recording_days"."stored" IS 'Calls whose latest attempt is ok: every part stored (the transcript row, part -1, is ignored).';
COMMENT ON COLUMN "recording_days"."missing" IS 'Calls whose latest attempt has a missing part and no failed one: the vendor has no recording.';
COMMENT ON COLUMN "recording_days"."failed" IS 'Calls whose latest attempt has a failed part (still retried, or given up after max attempts).';
COMMENT ON COLUMN "recording_days"."stored_bytes" IS 'Bytes of the ok parts of the calls'' latest attempts (transcripts excluded).';
COMMENT ON COLUMN "recording_days"."transcribed" IS 'Calls whose latest attempt has the transcript (part -1) ok; 0 for sources without transcripts.';
COMMENT ON COLUMN "recording_days"."run_id" IS 'Recordings run that computed the row.';
COMMENT ON COLUMN "recording_days"."updated_at" IS 'When the row was computed (UTC instant).';

CREATE OR REPLACE VIEW "transcript_words" AS
SELECT CAST(NULL AS VARCHAR) AS "source",
  CAST(NULL AS DATE) AS "date",
  CAST(NULL AS VARCHAR) AS "call_id",
  CAST(NULL AS INTEGER) AS "seq",
  CAST(NULL AS VARCHAR) AS "channel",
  CAST(NULL AS DOUBLE) AS "start_s",
  CAST(NULL AS DOUBLE) AS "end_s",
  CAST(NULL AS VARCHAR) AS "word",
  CAST(NULL AS VARCHAR) AS "run_id"
WHERE false
UNION ALL BY NAME
SELECT * FROM read_parquet('s3://calletl-data/lake/transcript_words/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE});
COMMENT ON VIEW "transcript_words" IS 'Words of vendor speech transcripts (T2), one row per word in the vendor''s order.';
COMMENT ON COLUMN "transcript_words"."source" IS 'Hive partition: the source system of the call (t2).';
COMMENT ON COLUMN "transcript_words"."date" IS 'Hive partition: the call''s date partition in the calls table.';
COMMENT ON COLUMN "transcript_words"."call_id" IS 'The call''s call_id in the calls table.';
COMMENT ON COLUMN "transcript_words"."seq" IS '0-based position of the word in the transcript.';
COMMENT ON COLUMN "transcript_words"."channel" IS 'Speaker channel as the vendor names it (A or B).';
COMMENT ON COLUMN "transcript_words"."start_s" IS 'Start of the word in seconds from the start of the recording.';
COMMENT ON COLUMN "transcript_words"."end_s" IS 'End of the word in seconds from the start of the recording.';
COMMENT ON COLUMN "transcript_words"."word" IS 'The recognised word.';
COMMENT ON COLUMN "transcript_words"."run_id" IS 'ETL run that fetched the transcript.';
