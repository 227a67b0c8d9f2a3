-- calletl lake tables for Spark SQL: etl ddl --dialect spark --location s3://calletl-data/lake
-- Open-source Spark reads S3 through hadoop-aws: give --location s3a://… there.
-- TIMESTAMP columns are instants (TIMESTAMP_LTZ). New partitions (days) appear
-- after MSCK REPAIR TABLE, which follows each table: run those again after every
-- nightly run.
CREATE DATABASE IF NOT EXISTS `calletl`;

CREATE TABLE IF NOT EXISTS `calletl`.`calls` (
  `account` STRING COMMENT 'Vendor account the call belongs to (e.g. the MTT customer name).',
  `call_id` STRING COMMENT 'The source\'s natural key of the call, unique within (source, account, direction).',
  `direction` STRING COMMENT 'incoming, outgoing, missed, forwarded, internal, autocall or callback.',
  `started_at` TIMESTAMP COMMENT 'When the call started (UTC instant).',
  `caller` STRING COMMENT 'Calling number as E.164 digits, or the extension as it is.',
  `caller_raw` STRING COMMENT 'Calling number exactly as the source sent it.',
  `callee` STRING COMMENT 'Called number as E.164 digits, or the extension as it is.',
  `callee_raw` STRING COMMENT 'Called number exactly as the source sent it.',
  `duration_s` INT COMMENT 'Whole call duration in seconds; NULL when the source does not say.',
  `talk_s` INT COMMENT 'Connected (talk) time in seconds; NULL when the source does not say.',
  `billed_s` INT COMMENT 'Billed time in seconds; NULL when the source does not say.',
  `cost` DECIMAL(18,4) COMMENT 'Cost of the call in currency units (4 decimals); NULL when the source does not say.',
  `currency` STRING COMMENT 'ISO 4217 code of cost, e.g. RUB.',
  `status` STRING COMMENT 'The source\'s own status word, kept as it is.',
  `disconnect_cause` SMALLINT COMMENT 'Disconnect cause code (e.g. Q.850); NULL when the source does not say.',
  `disconnect_label` STRING COMMENT 'The source\'s text for the disconnect cause.',
  `has_recording` BOOLEAN COMMENT 'Whether the source holds a recording of the call.',
  `recording_ref` STRING COMMENT 'What the recordings fetcher needs to find the recording; empty when none.',
  `run_id` STRING COMMENT 'ETL run that extracted the row.',
  `extracted_at` TIMESTAMP COMMENT 'When the ETL extracted the row (UTC instant).',
  `duplicate` BOOLEAN COMMENT 'True when an earlier row of the same extraction and day has the same account, direction and call_id: the vendor sent the call twice. Kept, never dropped; WHERE NOT duplicate counts each call once.',
  `source` STRING COMMENT 'Hive partition: the source system the rows come from (mtt, t2, …).',
  `date` DATE COMMENT 'Hive partition: the day the rows belong to, in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/calls'
COMMENT 'Calls from every telephony source in one canonical shape; one row per call and direction.'
;
MSCK REPAIR TABLE `calletl`.`calls`;

CREATE TABLE IF NOT EXISTS `calletl`.`rejects` (
  `stream` STRING COMMENT 'Extraction stream the row came from, e.g. dialed.',
  `account` STRING COMMENT 'Vendor account the row belongs to.',
  `endpoint` STRING COMMENT 'Vendor API endpoint that returned the row.',
  `window` STRING COMMENT 'Extraction window: its day and [from, to) interval.',
  `reason` STRING COMMENT 'Why the row was rejected.',
  `raw` STRING COMMENT 'The row exactly as the vendor sent it; bytes that were not valid UTF-8 are U+FFFD here and exact in invalid_utf8.',
  `run_id` STRING COMMENT 'ETL run that rejected the row.',
  `rejected_at` TIMESTAMP COMMENT 'When the row was rejected (UTC instant).',
  `source` STRING COMMENT 'Hive partition: the source system the rows come from (mtt, t2, …).',
  `date` DATE COMMENT 'Hive partition: the day the rows belong to, in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/rejects'
COMMENT 'Rows that failed validation, kept with the vendor\'s raw payload so nothing is lost.'
;
MSCK REPAIR TABLE `calletl`.`rejects`;

CREATE TABLE IF NOT EXISTS `calletl`.`runs` (
  `run_id` STRING COMMENT 'ETL run identifier.',
  `mode` STRING COMMENT 'run (nightly) or backfill.',
  `stream` STRING COMMENT 'Extraction stream, e.g. dialed.',
  `account` STRING COMMENT 'Vendor account.',
  `started_at` TIMESTAMP COMMENT 'When the stream started (UTC instant).',
  `finished_at` TIMESTAMP COMMENT 'When the stream finished (UTC instant); NULL if it never finished.',
  `duration_ms` BIGINT COMMENT 'finished_at - started_at in milliseconds; NULL if either is unknown.',
  `first_day` DATE COMMENT 'First window\'s day; NULL when no window ran.',
  `last_day` DATE COMMENT 'Last window attempted; NULL when no window ran.',
  `windows` BIGINT COMMENT 'Windows committed.',
  `pages` BIGINT COMMENT 'Pages fetched.',
  `rows` BIGINT COMMENT 'Rows loaded.',
  `rejects` BIGINT COMMENT 'Rows rejected.',
  `status` STRING COMMENT 'ok, failed or canceled.',
  `error` STRING COMMENT 'Error message when the stream failed; empty otherwise.',
  `source` STRING COMMENT 'Hive partition: the source system the rows come from (mtt, t2, …).',
  `date` DATE COMMENT 'Hive partition: the day the rows belong to, in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/runs'
COMMENT 'One row per ETL run, stream and account: what was extracted and how it ended.'
;
MSCK REPAIR TABLE `calletl`.`runs`;

CREATE TABLE IF NOT EXISTS `calletl`.`balances` (
  `account` STRING COMMENT 'Vendor account the balance belongs to (MTT customer, Mobilgroup API user, VoiceBox customer id).',
  `balance` DECIMAL(18,4) COMMENT 'The balance, exactly as reported (DECIMAL; a negative value is a debt).',
  `currency` STRING COMMENT 'ISO 4217 currency code, upper case (RUB).',
  `raw` STRING COMMENT 'The balance as the vendor wrote it, e.g. 273,50.',
  `run_id` STRING COMMENT 'ETL run that read the balance.',
  `taken_at` TIMESTAMP COMMENT 'When the balance was read (UTC instant).',
  `source` STRING COMMENT 'Hive partition: the source system the rows come from (mtt, t2, …).',
  `date` DATE COMMENT 'Hive partition: the day the rows belong to, in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/balances'
COMMENT 'Account balances as each vendor reported them, one row per source, account and run.'
;
MSCK REPAIR TABLE `calletl`.`balances`;

CREATE TABLE IF NOT EXISTS `calletl`.`invalid_utf8` (
  `table_name` STRING COMMENT 'Table holding the repaired value, e.g. calls.',
  `column_name` STRING COMMENT 'Column holding the repaired value, e.g. caller_raw.',
  `unit` STRING COMMENT 'File holding the repaired row: <table_name>/source=<source>/date=<date>/<unit>.parquet (DuckDB: parse_filename(filename, true)).',
  `file_row_number` BIGINT COMMENT 'Row of the repaired value in that file, from 0 (DuckDB: read_parquet(…, file_row_number = true)).',
  `original` BINARY COMMENT 'The value exactly as the vendor sent it (BLOB; e.g. windows-1251 text).',
  `stored` STRING COMMENT 'The value as the table stores it: each run of invalid bytes replaced by U+FFFD.',
  `source` STRING COMMENT 'Hive partition: the source system the rows come from (mtt, t2, …).',
  `date` DATE COMMENT 'Hive partition: the day the rows belong to, in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/invalid_utf8'
COMMENT 'String values a vendor sent that were not valid UTF-8: the exact bytes, and where the lake holds them with U+FFFD in place of the invalid bytes.'
;
MSCK REPAIR TABLE `calletl`.`invalid_utf8`;

CREATE TABLE IF NOT EXISTS `calletl`.`mtt_calls` (
  `customer_name` STRING COMMENT 'MTT personal account the history was requested for (getServiceHistoryByCustomer customer_name); calls.account',
  `type` STRING COMMENT 'history type: incoming, missed, dialed or forwarded; calls.direction incoming, missed, outgoing, forwarded',
  `call_id` STRING COMMENT 'natural key within (customer_name, type), calls.call_id: h323_conf_id, or sha256: of the raw row when that is empty',
  `customer_local_time` TIMESTAMP COMMENT 'customer_local_time, as an instant (vendor time zone applied)',
  `destination` STRING COMMENT 'destination name as sent',
  `setup_time_ms` INT COMMENT 'call setup time, milliseconds',
  `account_id` STRING COMMENT 'the MTT number (client number) the call went through',
  `h323_conf_id` STRING COMMENT 'call id as sent; with spaces replaced by _ it is the recordings id',
  `h323_incoming_conf_id` STRING COMMENT 'id of the incoming leg',
  `voice_record_exist` BOOLEAN COMMENT 'as sent: true, false, or NULL when the row did not say (calls.has_recording is false then)',
  `extras` STRING COMMENT 'fields the API sent that this version does not know, as a JSON object (\'\' when none)',
  `charged_time` INT COMMENT 'billed seconds (sum over legs with a charge); calls.billed_s',
  `charged` DECIMAL(18,4) COMMENT 'call cost, exact DECIMAL(18,4) from the JSON text; calls.cost',
  `curr` STRING COMMENT 'currency of charged, e.g. RUB; calls.currency',
  `duplicate` BOOLEAN COMMENT 'True when an earlier row of the same extraction and day has the same customer_name, type and call_id (as calls.duplicate); NULL in files written before the flag',
  `source` STRING COMMENT 'Hive partition: mtt.',
  `date` DATE COMMENT 'Hive partition: the call\'s start day in the business time zone (as in calls).'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/mtt_calls'
COMMENT 'MTT call history (getServiceHistoryByCustomer): the fields calls does not hold; one row per customer, type and call, joined to calls on source, date, account, direction and call_id'
;
MSCK REPAIR TABLE `calletl`.`mtt_calls`;

CREATE TABLE IF NOT EXISTS `calletl`.`mtt_accounts` (
  `customer_name` STRING COMMENT 'MTT personal account',
  `account_number` STRING COMMENT 'number (account) on the personal account',
  `activation_date` TIMESTAMP COMMENT 'activation date (DD.MM.YYYY HH:MM:SS in the vendor zone), as an instant',
  `status` STRING COMMENT 'account status as sent, e.g. active',
  `run_id` STRING COMMENT 'run that took the snapshot',
  `snapshot_at` TIMESTAMP COMMENT 'when the snapshot was taken, UTC',
  `source` STRING COMMENT 'Hive partition: mtt.',
  `date` DATE COMMENT 'Hive partition: the run\'s day in the business time zone (the snapshot is replaced by a later run that day).'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/mtt_accounts'
COMMENT 'MTT numbers per personal account (getPersonalAccountList), snapshot per run day'
;
MSCK REPAIR TABLE `calletl`.`mtt_accounts`;

CREATE TABLE IF NOT EXISTS `calletl`.`mtt_balances` (
  `customer_name` STRING COMMENT 'MTT personal account',
  `balance` DECIMAL(18,4) COMMENT 'balance as getCustomerBalance reports it',
  `real_balance` DECIMAL(18,4) COMMENT 'real_balance as getCustomerBalance reports it',
  `currency` STRING COMMENT 'currency of the balance (the API does not say; RUB assumed)',
  `run_id` STRING COMMENT 'run that took the snapshot',
  `taken_at` TIMESTAMP COMMENT 'when the balance was read, UTC',
  `pending_payment` DECIMAL(18,4) COMMENT 'pending_payment as getCustomerBalance reports it (the document gives no type or meaning); NULL when absent, null or not an amount (raw keeps it). NULL in files written before it was kept',
  `raw` STRING COMMENT 'the getCustomerBalance result exactly as sent (JSON), every field included; \'\' when MTT answered -32001 (no balance) and in files written before it was kept',
  `source` STRING COMMENT 'Hive partition: mtt.',
  `date` DATE COMMENT 'Hive partition: the run\'s day in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/mtt_balances'
COMMENT 'MTT balance (getCustomerBalance), one row per customer per run'
;
MSCK REPAIR TABLE `calletl`.`mtt_balances`;

CREATE TABLE IF NOT EXISTS `calletl`.`mtt_callbacks` (
  `customer_name` STRING COMMENT 'customer_name getCallBackFollowmeCallInfo was asked with (sources.mtt.callback_customer); calls.account',
  `callback_id` STRING COMMENT 'callBackCall_id, as makeCallBackCallFollowme returned it',
  `seq` INT COMMENT '1-based position in the answer\'s callBackFollowmeCallInfoStruct (documented as an array; its example is one object)',
  `call_id` STRING COMMENT 'calls.call_id: callback_id, or callback_id-seq when the answer has several elements',
  `outcome` STRING COMMENT 'completed (call_back_status ok), unknown (another status: asked again next run), or <reason>_<side> for a documented \'Call ended by <reason> on side <X>\' answer: timeout_a, cancel_a, cancel_b',
  `status` STRING COMMENT 'call_back_status as sent, or the \'Call ended by …\' text',
  `destination_a` STRING COMMENT 'destination_A: the A number (the operator side) as sent',
  `destination_b` STRING COMMENT 'destination_B: the B number (the customer who ordered the call) as sent',
  `waiting_period_a_s` INT COMMENT 'waiting_period_A: seconds until A answered',
  `waiting_period_b_s` INT COMMENT 'waiting_period_B: seconds until B answered',
  `charged_length_a_s` INT COMMENT 'call_back_charged_length_A: billed seconds of leg A (calls.billed_s is the two legs\' sum, as the history\'s charged_time sums legs)',
  `real_length_a_s` INT COMMENT 'call_back_real_length_A: connected seconds of leg A (calls.duration_s and talk_s are the two legs\' sum, as the history\'s used_quantity)',
  `charged_length_b_s` INT COMMENT 'call_back_charged_length_B: billed seconds of leg B',
  `real_length_b_s` INT COMMENT 'call_back_real_length_B: connected seconds of leg B: the conversation itself',
  `cost` DECIMAL(18,4) COMMENT 'call_back_cost: the cost of both legs (calls.cost); NULL for an ended-without-conversation answer, which gives none',
  `currency` STRING COMMENT 'call_back_currency (RUB when not sent)',
  `records_a` INT COMMENT 'number of recording files of leg A the answer listed (the URLs are not stored; recordings holds the files)',
  `records_b` INT COMMENT 'number of recording files of leg B',
  `call_description` STRING COMMENT 'callDescription as sent',
  `final` BOOLEAN COMMENT 'true when the callback will not change: completed or ended; false rows are asked again next run',
  `extras` STRING COMMENT 'members the API sent that this version does not know, as a JSON object (\'\' when none)',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: mtt.',
  `date` DATE COMMENT 'Hive partition: the business day of the run that extracted the answer. The answer carries no time, so a callback is dated by the run that first saw it finished (rows move to a later day while it is not final).'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/mtt_callbacks'
COMMENT 'MTT callback calls (getCallBackFollowmeCallInfo): both legs\' lengths, cost and status, one row per callback id (and seq); joined to calls on source, date, account = customer_name, direction \'callback\' and call_id'
;
MSCK REPAIR TABLE `calletl`.`mtt_callbacks`;

CREATE TABLE IF NOT EXISTS `calletl`.`t2_calls` (
  `call_id` STRING COMMENT 'natural key: recordFileName, or sha256: of (callTimestamp, callType, callerNumber, destinationNumber, calleeNumber) when it is empty',
  `call_timestamp` TIMESTAMP COMMENT 'callTimestamp: call start, UTC',
  `call_type` STRING COMMENT 'callType as sent (SINGLE_CHANNEL, MULTI_CHANNEL, INTERNAL, OUTGOING, …; unknown values kept)',
  `destination_number` STRING COMMENT 'destinationNumber: the number dialled',
  `caller_number` STRING COMMENT 'callerNumber as sent',
  `caller_name` STRING COMMENT 'callerName',
  `callee_number` STRING COMMENT 'calleeNumber: who answered, or where the call ended',
  `callee_name` STRING COMMENT 'calleeName',
  `call_duration` INT COMMENT 'callDuration, seconds',
  `conversation_duration` INT COMMENT 'conversationDuration, seconds; NULL when not answered (absent)',
  `call_status` STRING COMMENT 'callStatus as sent (ANSWERED_COMMON, NOT_ANSWERED_COMMON, DENIED_…; unknown values kept)',
  `record_file_name` STRING COMMENT 'recordFileName: the recording\'s name for call-records/file (\'\' when none)',
  `extras` STRING COMMENT 'fields the API sent that this version does not know, as a JSON object (\'\' when none)',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: t2.',
  `date` DATE COMMENT 'Hive partition: the call\'s start day (callTimestamp) in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/t2_calls'
COMMENT 'T2 call records (call-records/info), every documented field; one row per call record'
;
MSCK REPAIR TABLE `calletl`.`t2_calls`;

CREATE TABLE IF NOT EXISTS `calletl`.`t2_missed_calls` (
  `id` STRING COMMENT 'id of the missed call (natural key)',
  `start_date` TIMESTAMP COMMENT 'startDate: call start, UTC',
  `wait_duration` INT COMMENT 'waitDuration: seconds the caller waited',
  `caller_number` STRING COMMENT 'callerNumber as sent',
  `caller` STRING COMMENT 'callerNumber normalised to E.164 digits',
  `destination_number` STRING COMMENT 'destinationNumber: the multichannel number (MCN) called',
  `callee_company_id` BIGINT COMMENT 'calleeCompanyId (callerCompanyId in the parameter table)',
  `callee_number` STRING COMMENT 'calleeNumber: the PBX subscriber the call was offered to; \'\' when it ended on the MCN',
  `callee_name` STRING COMMENT 'calleeName, may be empty',
  `extras` STRING COMMENT 'fields the API sent that this version does not know, as a JSON object (\'\' when none)',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: t2.',
  `date` DATE COMMENT 'Hive partition: the missed call\'s start day in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/t2_missed_calls'
COMMENT 'T2 missed calls on multichannel numbers (statistics/missing); one row per id. Those without a matching call record are also in calls (call_id missed:<id>)'
;
MSCK REPAIR TABLE `calletl`.`t2_missed_calls`;

CREATE TABLE IF NOT EXISTS `calletl`.`t2_employees` (
  `employee_id` BIGINT COMMENT 'employeeId',
  `name` STRING COMMENT 'first name',
  `surname` STRING COMMENT 'surname',
  `full_number` STRING COMMENT 'full number (7XXXXXXXXXX)',
  `short_number` STRING COMMENT 'extension',
  `email` STRING COMMENT 'e-mail',
  `raw` STRING COMMENT 'the element as sent',
  `run_id` STRING COMMENT 'run that took the snapshot',
  `snapshot_at` TIMESTAMP COMMENT 'when the snapshot was taken, UTC',
  `source` STRING COMMENT 'Hive partition: t2.',
  `date` DATE COMMENT 'Hive partition: the run\'s day in the business time zone (one snapshot per run day).'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/t2_employees'
COMMENT 'T2 PBX employees (GET /employees), snapshot per run day'
;
MSCK REPAIR TABLE `calletl`.`t2_employees`;

CREATE TABLE IF NOT EXISTS `calletl`.`t2_daily_stats` (
  `period_start` TIMESTAMP COMMENT 'start of the period asked for (the day\'s start), UTC',
  `period_end` TIMESTAMP COMMENT 'end of the period asked for (exclusive), UTC',
  `all_call_count` BIGINT COMMENT 'statistics/common allCallCount',
  `success_call_count` BIGINT COMMENT 'statistics/common successCallCount',
  `outgoing_call_count` BIGINT COMMENT 'statistics/common outgoingCallCount',
  `lost_call_count` BIGINT COMMENT 'statistics/common lostCallCount',
  `common_call_duration` BIGINT COMMENT 'statistics/common commonCallDuration',
  `average_call_duration` BIGINT COMMENT 'statistics/common averageCallDuration',
  `max_call_duration` BIGINT COMMENT 'statistics/common maxCallDuration',
  `call_count_per_day` DOUBLE COMMENT 'statistics/common callCountPerDay',
  `call_count_per_hour` DOUBLE COMMENT 'statistics/common callCountPerHour',
  `mn_avg_call_duration` BIGINT COMMENT 'statistics/common mnAvgCallDuration',
  `mn_max_call_duration` BIGINT COMMENT 'statistics/common mnMaxCallDuration',
  `average_call_count_per_hour` DOUBLE COMMENT 'statistics/common averageCallCountPerHour',
  `transfer_call_count` BIGINT COMMENT 'statistics/common transferCallCount',
  `transfer_call_duration` BIGINT COMMENT 'statistics/common transferCallDuration',
  `average_transfer_call_duration` BIGINT COMMENT 'statistics/common averageTransferCallDuration',
  `hangup_a_call_count` BIGINT COMMENT 'statistics/common hangupACallCount',
  `hangup_b_call_count` BIGINT COMMENT 'statistics/common hangupBCallCount',
  `unique_call_count` BIGINT COMMENT 'statistics/common uniqueCallCount',
  `redial_count` BIGINT COMMENT 'statistics/common redialCount',
  `internal_call_count` BIGINT COMMENT 'statistics/common internalCallCount',
  `internal_call_duration` BIGINT COMMENT 'statistics/common internalCallDuration',
  `average_internal_call_duration` BIGINT COMMENT 'statistics/common averageInternalCallDuration',
  `raw` STRING COMMENT 'the answer as sent',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: t2.',
  `date` DATE COMMENT 'Hive partition: the business day the statistics cover.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/t2_daily_stats'
COMMENT 'T2 company statistics (statistics/common) per business day'
;
MSCK REPAIR TABLE `calletl`.`t2_daily_stats`;

CREATE TABLE IF NOT EXISTS `calletl`.`t2_managers` (
  `manager_id` BIGINT COMMENT 'id of the manager',
  `manager_name` STRING COMMENT 'name of the manager',
  `employee_id` BIGINT COMMENT 'employeeId: the manager\'s PBX employee (t2_employees.employee_id)',
  `company_id` BIGINT COMMENT 'companyId',
  `handle_all_customers` BOOLEAN COMMENT 'handleAllCustomers: the manager takes calls from every customer',
  `customer_id` BIGINT COMMENT 'id of the customer; NULL on the row of a manager without customers',
  `real_number` STRING COMMENT 'realNumber as sent',
  `customer_number` STRING COMMENT 'realNumber as E.164 digits: join calls.caller (incoming, missed) or calls.callee (outgoing) on it; \'\' on a manager without customers',
  `company_name` STRING COMMENT 'companyName: the customer\'s company',
  `customer_name` STRING COMMENT 'name: the customer\'s contact person (ФИО), when sent',
  `info` STRING COMMENT 'info about the customer, when sent',
  `is_vip` BOOLEAN COMMENT 'isVip (isVIP in the object table): the customer is VIP; NULL when not sent',
  `manager_extras` STRING COMMENT 'fields of the manager the API sent that this version does not know, as a JSON object (\'\' when none)',
  `customer_extras` STRING COMMENT 'fields of the customer the API sent that this version does not know (e.g. clientId), as a JSON object (\'\' when none)',
  `raw` STRING COMMENT 'the customer element as sent; the manager element on a manager without customers',
  `run_id` STRING COMMENT 'run that took the snapshot',
  `snapshot_at` TIMESTAMP COMMENT 'when the snapshot was taken, UTC',
  `source` STRING COMMENT 'Hive partition: t2.',
  `date` DATE COMMENT 'Hive partition: the run\'s day in the business time zone (one snapshot per run day).'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/t2_managers'
COMMENT 'T2 personal managers and their customers (GET /managers), snapshot per run day; one row per (manager, customer), or one per manager without customers. Join calls on customer_number'
;
MSCK REPAIR TABLE `calletl`.`t2_managers`;

CREATE TABLE IF NOT EXISTS `calletl`.`t2_journal` (
  `number` STRING COMMENT 'the employee\'s full number asked for (7XXXXXXXXXX, from GET /employees)',
  `employee_id` BIGINT COMMENT 'the employee with that number (t2_employees.employee_id)',
  `period_start` TIMESTAMP COMMENT 'start of the period asked for (the day\'s start), UTC',
  `period_end` TIMESTAMP COMMENT 'end of the period asked for (exclusive), UTC',
  `number_sent` STRING COMMENT 'number as answered',
  `start_timestamp` TIMESTAMP COMMENT 'startTimestamp (Unix seconds) as answered, UTC',
  `end_timestamp` TIMESTAMP COMMENT 'endTimestamp (Unix seconds) as answered, UTC',
  `number_of_calls` BIGINT COMMENT 'numberOfCalls: calls of the number in the period',
  `number_of_success_calls` BIGINT COMMENT 'numberOfSuccessCalls: answered calls of the number in the period',
  `extras` STRING COMMENT 'fields the API sent that this version does not know, as a JSON object (\'\' when none)',
  `raw` STRING COMMENT 'the answer as sent',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: t2.',
  `date` DATE COMMENT 'Hive partition: the business day the counts cover.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/t2_journal'
COMMENT 'T2 per-number call counts (statistics/journal) per employee number and business day'
;
MSCK REPAIR TABLE `calletl`.`t2_journal`;

CREATE TABLE IF NOT EXISTS `calletl`.`t2_employee_stats` (
  `number` STRING COMMENT 'the employee\'s full number sent as subscriberNumber (7XXXXXXXXXX, from GET /employees)',
  `employee_id` BIGINT COMMENT 'the employee with that number (t2_employees.employee_id)',
  `period_start` TIMESTAMP COMMENT 'start of the period asked for (the day\'s start), UTC',
  `period_end` TIMESTAMP COMMENT 'end of the period asked for (exclusive), UTC',
  `all_call_count` BIGINT COMMENT 'statistics/common?subscriberNumber allCallCount',
  `success_call_count` BIGINT COMMENT 'statistics/common?subscriberNumber successCallCount',
  `outgoing_call_count` BIGINT COMMENT 'statistics/common?subscriberNumber outgoingCallCount',
  `lost_call_count` BIGINT COMMENT 'statistics/common?subscriberNumber lostCallCount',
  `common_call_duration` BIGINT COMMENT 'statistics/common?subscriberNumber commonCallDuration',
  `average_call_duration` BIGINT COMMENT 'statistics/common?subscriberNumber averageCallDuration',
  `max_call_duration` BIGINT COMMENT 'statistics/common?subscriberNumber maxCallDuration',
  `call_count_per_day` DOUBLE COMMENT 'statistics/common?subscriberNumber callCountPerDay',
  `call_count_per_hour` DOUBLE COMMENT 'statistics/common?subscriberNumber callCountPerHour',
  `mn_avg_call_duration` BIGINT COMMENT 'statistics/common?subscriberNumber mnAvgCallDuration',
  `mn_max_call_duration` BIGINT COMMENT 'statistics/common?subscriberNumber mnMaxCallDuration',
  `average_call_count_per_hour` DOUBLE COMMENT 'statistics/common?subscriberNumber averageCallCountPerHour',
  `transfer_call_count` BIGINT COMMENT 'statistics/common?subscriberNumber transferCallCount',
  `transfer_call_duration` BIGINT COMMENT 'statistics/common?subscriberNumber transferCallDuration',
  `average_transfer_call_duration` BIGINT COMMENT 'statistics/common?subscriberNumber averageTransferCallDuration',
  `hangup_a_call_count` BIGINT COMMENT 'statistics/common?subscriberNumber hangupACallCount',
  `hangup_b_call_count` BIGINT COMMENT 'statistics/common?subscriberNumber hangupBCallCount',
  `unique_call_count` BIGINT COMMENT 'statistics/common?subscriberNumber uniqueCallCount',
  `redial_count` BIGINT COMMENT 'statistics/common?subscriberNumber redialCount',
  `internal_call_count` BIGINT COMMENT 'statistics/common?subscriberNumber internalCallCount',
  `internal_call_duration` BIGINT COMMENT 'statistics/common?subscriberNumber internalCallDuration',
  `average_internal_call_duration` BIGINT COMMENT 'statistics/common?subscriberNumber averageInternalCallDuration',
  `raw` STRING COMMENT 'the answer as sent',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: t2.',
  `date` DATE COMMENT 'Hive partition: the business day the statistics cover.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/t2_employee_stats'
COMMENT 'T2 per-number statistics (statistics/common with subscriberNumber) per employee number and business day'
;
MSCK REPAIR TABLE `calletl`.`t2_employee_stats`;

CREATE TABLE IF NOT EXISTS `calletl`.`votbox_tasks` (
  `task_id` STRING COMMENT 'task.id',
  `task_name` STRING COMMENT 'task.taskname',
  `start_time` TIMESTAMP COMMENT 'task.taskstarttime (unix) as a UTC instant; NULL when absent',
  `status` INT COMMENT 'task.taskstatus code',
  `status_text` STRING COMMENT 'task.taskstatusstr as sent',
  `items` BIGINT COMMENT 'items autocall.check listed for the task (rejected ones included)',
  `rejected_items` BIGINT COMMENT 'items that failed validation (in rejects)',
  `queued_items` BIGINT COMMENT 'items with jobstatus 0 (queued)',
  `in_progress_items` BIGINT COMMENT 'items with jobstatus 1 (in_progress)',
  `error_items` BIGINT COMMENT 'items with jobstatus 2 (error)',
  `success_items` BIGINT COMMENT 'items with jobstatus 3 (success)',
  `operator_items` BIGINT COMMENT 'items with jobstatus 4 (operator)',
  `billing_error_items` BIGINT COMMENT 'items with jobstatus 5 (billing_error)',
  `expired_items` BIGINT COMMENT 'items with jobstatus 7 (expired)',
  `stopped_by_user_items` BIGINT COMMENT 'items with jobstatus 11 (stopped_by_user)',
  `other_items` BIGINT COMMENT 'items with a jobstatus the document does not list',
  `final` BOOLEAN COMMENT 'every item had a final jobstatus (not 0 or 1) and none was rejected: the task will not change',
  `extras` STRING COMMENT 'task fields this version does not know, as a JSON object (\'\' when none)',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: votbox.',
  `date` DATE COMMENT 'Hive partition: the task\'s start day in the business time zone (the run\'s day when unknown).'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/votbox_tasks'
COMMENT 'VotBox autocall tasks (autocall.check): one row per task as its latest extraction saw it'
;
MSCK REPAIR TABLE `calletl`.`votbox_tasks`;

CREATE TABLE IF NOT EXISTS `calletl`.`votbox_calls` (
  `task_id` STRING COMMENT 'task.id the item belongs to',
  `item_id` STRING COMMENT 'item.id: the call\'s id (CALLID of notifications)',
  `phone_raw` STRING COMMENT 'item.phonenumber as sent (8XXXXXXXXXX)',
  `phone` STRING COMMENT 'phonenumber as E.164 digits',
  `job_status` SMALLINT COMMENT 'item.jobstatus: 0 queued, 1 in progress, 2 error, 3 success, 4 connected to operator, 5 billing error, 7 lifetime expired, 11 ended by user',
  `job_status_label` STRING COMMENT 'jobstatus as an English word (queued, in_progress, error, success, operator, billing_error, expired, stopped_by_user, status_N)',
  `job_status_str` STRING COMMENT 'item.jobstatusstr as sent (Russian)',
  `attempts` INT COMMENT 'item.attempts: dial attempts',
  `call_time` TIMESTAMP COMMENT 'item.calldate (DD.MM.YYYY HH:MM:SS, Moscow time) as a UTC instant; NULL when absent',
  `call_duration` INT COMMENT 'item.callduration: seconds connected to the subscriber',
  `oper_call_duration` INT COMMENT 'item.opercallduration: seconds connected to the operator',
  `call_pay` DECIMAL(18,4) COMMENT 'item.callpay: cost of the call to the subscriber, roubles (sent in kopecks)',
  `oper_call_pay` DECIMAL(18,4) COMMENT 'item.opercallpay: cost of the call to the operator, roubles (sent in kopecks)',
  `rec_filename` STRING COMMENT 'item.recfilename: the recorded talk for autocall.recordtalk (\'\' when none)',
  `extras` STRING COMMENT 'item fields this version does not know, as a JSON object (\'\' when none)',
  `detail` STRING COMMENT 'autocall.detail answer\'s fields as a JSON object; NULL when detail is off or the item was not final',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: votbox.',
  `date` DATE COMMENT 'Hive partition: the call\'s day in the business time zone, or the task\'s start day when the item has no call time.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/votbox_calls'
COMMENT 'VotBox autocall items (autocall.check, merged with autocall.detail when enabled): one row per call item'
;
MSCK REPAIR TABLE `calletl`.`votbox_calls`;

CREATE TABLE IF NOT EXISTS `calletl`.`voicebox_calls` (
  `customer_id` STRING COMMENT 'VoiceBox customer id the history was read for',
  `call_id` STRING COMMENT 'the row\'s id (first of id, callId, uuid, sessionId… present), else h + 16 hex digits of the SHA-256 of the row\'s canonical JSON',
  `call_id_field` STRING COMMENT 'the field call_id came from; empty when it is a hash',
  `started_at` TIMESTAMP COMMENT 'call start (startTime, callStart, started_at, date… as sent; times without a zone are in the vendor zone), UTC',
  `ended_at` TIMESTAMP COMMENT 'call end (endTime, finished_at…), UTC; NULL when absent',
  `caller` STRING COMMENT 'calling number as E.164 digits (or the extension as it is)',
  `caller_raw` STRING COMMENT 'calling number as sent (from, callerNumber, ani, src…)',
  `callee` STRING COMMENT 'called number as E.164 digits (or the extension as it is)',
  `callee_raw` STRING COMMENT 'called number as sent (to, calledNumber, dnis, dst, phone…)',
  `direction` STRING COMMENT 'canonical direction: incoming (Входящая) or autocall (Исходящая, or unknown)',
  `direction_raw` STRING COMMENT 'direction or campaign type as sent',
  `duration_s` INT COMMENT 'call duration in seconds (duration, durationSec, callDuration…; ms fields converted); else end - start',
  `talk_s` INT COMMENT 'talk time in seconds (talkDuration, billsec…); the duration when the row has none',
  `status` STRING COMMENT 'status as sent (status, result, disposition, state)',
  `cost` DECIMAL(18,4) COMMENT 'call cost, exact DECIMAL(18,4) from the JSON text (cost, price, amount, charge)',
  `cost_raw` STRING COMMENT 'cost as sent',
  `currency` STRING COMMENT 'currency of cost, upper case; RUB when the row has none',
  `campaign_id` STRING COMMENT 'campaign id (campaignId or campaign.id)',
  `campaign_name` STRING COMMENT 'campaign name (campaignName or campaign.name)',
  `raw` STRING COMMENT 'the row\'s JSON exactly as the API sent it',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: voicebox.',
  `date` DATE COMMENT 'Hive partition: the call\'s start day in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/voicebox_calls'
COMMENT 'MTT VoiceBox call history (GET /customers/{id}/callhistory): lifted fields and the row as sent; one row per customer and call'
;
MSCK REPAIR TABLE `calletl`.`voicebox_calls`;

CREATE TABLE IF NOT EXISTS `calletl`.`voicebox_campaigns` (
  `customer_id` STRING COMMENT 'VoiceBox customer id',
  `campaign_id` STRING COMMENT 'campaign id (id or campaignId), else h + 16 hex digits of the SHA-256 of the row',
  `name` STRING COMMENT 'campaign name (name or campaignName)',
  `campaign_type` STRING COMMENT 'campaign type as sent: Входящая or Исходящая',
  `status` STRING COMMENT 'campaign status as sent (Active, Paused, Stopped, Suspended); empty in callhistory rows',
  `listed_in` STRING COMMENT 'campaigns (GET /campaigns) or callhistory (GET /callhistory/campaigns: campaigns with call history, deleted ones included)',
  `raw` STRING COMMENT 'the row\'s JSON exactly as the API sent it',
  `run_id` STRING COMMENT 'run that took the snapshot',
  `snapshot_at` TIMESTAMP COMMENT 'when the snapshot was taken, UTC',
  `source` STRING COMMENT 'Hive partition: voicebox.',
  `date` DATE COMMENT 'Hive partition: the run\'s day in the business time zone (one snapshot per customer, replaced by a later run that day).'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/voicebox_campaigns'
COMMENT 'MTT VoiceBox campaigns per customer (GET /campaigns and /callhistory/campaigns), snapshot per run day'
;
MSCK REPAIR TABLE `calletl`.`voicebox_campaigns`;

CREATE TABLE IF NOT EXISTS `calletl`.`voicebox_numbers` (
  `customer_id` STRING COMMENT 'VoiceBox customer id (the account of calls and balances)',
  `number_id` STRING COMMENT '{number_id} of the price path: the row\'s id, else its number (the document lists no id), else h + 16 hex digits of the SHA-256 of the row',
  `number` STRING COMMENT 'the number as E.164 digits',
  `number_raw` STRING COMMENT 'number as sent (a JSON integer)',
  `number_type` STRING COMMENT 'type as sent: ABC, DEF, TollFree',
  `owner` STRING COMMENT 'owner as sent (MTT)',
  `region_name` STRING COMMENT 'regionName as sent',
  `region_code` STRING COMMENT 'regionCode as sent (MOW, SPE…)',
  `category` STRING COMMENT 'category as sent (REGULAR, SILVER, GOLD, PLATINUM)',
  `description` STRING COMMENT 'description as sent',
  `campaigns` STRING COMMENT 'the campaigns on the number: the array\'s JSON as sent (\'\' when absent)',
  `monthly_fee` DECIMAL(18,4) COMMENT 'the number\'s monthly fee (абонентская плата) from GET …/numbers/{number_id}/price, exact DECIMAL(18,4); NULL when the price answered 404 or the row has no number',
  `fee_raw` STRING COMMENT 'the fee as sent',
  `currency` STRING COMMENT 'currency of the fee, upper case; RUB when the answer has none (\'\' when no fee)',
  `price_raw` STRING COMMENT 'the price answer\'s JSON as sent (\'\' when not fetched)',
  `raw` STRING COMMENT 'the numbers row\'s JSON exactly as the API sent it',
  `run_id` STRING COMMENT 'run that took the snapshot',
  `snapshot_at` TIMESTAMP COMMENT 'when the snapshot was taken, UTC',
  `source` STRING COMMENT 'Hive partition: voicebox.',
  `date` DATE COMMENT 'Hive partition: the run\'s day in the business time zone (one snapshot per customer, replaced by a later run that day): the days the number was held.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/voicebox_numbers'
COMMENT 'MTT VoiceBox numbers per customer (GET /customers/{id}/numbers) with each number\'s monthly fee (…/numbers/{number_id}/price), snapshot per run day'
;
MSCK REPAIR TABLE `calletl`.`voicebox_numbers`;

CREATE TABLE IF NOT EXISTS `calletl`.`voicebox_customers` (
  `customer_id` STRING COMMENT 'the configured customer id (the account of calls, balances and voicebox_numbers)',
  `id` STRING COMMENT 'id as the answer gives it',
  `name` STRING COMMENT 'the customer\'s name (company) as sent',
  `status` STRING COMMENT 'status as sent',
  `description` STRING COMMENT 'description as sent',
  `email` STRING COMMENT 'email as sent',
  `phone` STRING COMMENT 'phone as sent',
  `personal_account` STRING COMMENT 'personalAccount: the MTT personal account the customer is billed on',
  `manager_email` STRING COMMENT 'managerEmail as sent',
  `tariffication_params` STRING COMMENT 'tarifficationParams\' JSON as sent (\'\' when absent)',
  `raw` STRING COMMENT 'the answer re-encoded (keys sorted) WITHOUT every member whose name contains password, secret or token (password, passwordRL): the API hands out credentials, the lake never keeps them',
  `run_id` STRING COMMENT 'run that took the snapshot',
  `snapshot_at` TIMESTAMP COMMENT 'when the snapshot was taken, UTC',
  `source` STRING COMMENT 'Hive partition: voicebox.',
  `date` DATE COMMENT 'Hive partition: the run\'s day in the business time zone (one row per customer, replaced by a later run that day).'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/voicebox_customers'
COMMENT 'MTT VoiceBox customers (GET /customers/{id}): who each customer id is, snapshot per run day, credentials removed'
;
MSCK REPAIR TABLE `calletl`.`voicebox_customers`;

CREATE TABLE IF NOT EXISTS `calletl`.`mobilgroup_broadcasts` (
  `broadcast_id` STRING COMMENT 'id: the broadcast (рассылка) id',
  `phones` INT COMMENT 'phones: the number of phones in the broadcast, as the vendor counts them',
  `budget` DECIMAL(18,4) COMMENT 'budget: the broadcast\'s total cost, roubles (an estimate until every subscriber is final)',
  `price_total` DECIMAL(18,4) COMMENT 'sum of the price of the subscribers in mobilgroup_calls (rejected ones excluded), roubles',
  `subscribers` BIGINT COMMENT 'subscribers listed in the state answer (rejected ones included)',
  `rejected_subscribers` BIGINT COMMENT 'subscribers that failed validation (in rejects)',
  `called_subscribers` BIGINT COMMENT 'subscribers with a date (called at least once)',
  `status_answered` BIGINT COMMENT 'mapped subscribers whose status normalises to answered',
  `status_busy` BIGINT COMMENT 'mapped subscribers whose status normalises to busy',
  `status_no_answer` BIGINT COMMENT 'mapped subscribers whose status normalises to no_answer',
  `status_unavailable` BIGINT COMMENT 'mapped subscribers whose status normalises to unavailable',
  `status_failed` BIGINT COMMENT 'mapped subscribers whose status normalises to failed',
  `status_rejected` BIGINT COMMENT 'mapped subscribers whose status normalises to rejected',
  `status_pending` BIGINT COMMENT 'mapped subscribers whose status normalises to pending',
  `status_unknown` BIGINT COMMENT 'mapped subscribers whose status normalises to unknown',
  `first_called_at` TIMESTAMP COMMENT 'earliest subscriber date, UTC; NULL when none',
  `last_called_at` TIMESTAMP COMMENT 'latest subscriber date, UTC; NULL when none',
  `final` BOOLEAN COMMENT 'at least one subscriber, every subscriber final (see mobilgroup_calls.final) and none rejected: the broadcast will not be fetched again',
  `extras` STRING COMMENT 'answer members this version does not know, as a JSON object (\'\' when none)',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: mobilgroup.',
  `date` DATE COMMENT 'Hive partition: the business-zone day of the earliest subscriber date (the run\'s day when no subscriber has a date yet).'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/mobilgroup_broadcasts'
COMMENT 'Mobilgroup voice broadcasts (api/get state): one row per broadcast as its latest extraction saw it'
;
MSCK REPAIR TABLE `calletl`.`mobilgroup_broadcasts`;

CREATE TABLE IF NOT EXISTS `calletl`.`mobilgroup_calls` (
  `broadcast_id` STRING COMMENT 'the broadcast id',
  `seq` INT COMMENT '1-based position of the subscriber in the state answer: the stable key (a phone can repeat)',
  `phone` STRING COMMENT 'phone as E.164 digits',
  `phone_raw` STRING COMMENT 'phone as sent',
  `called_at` TIMESTAMP COMMENT 'date (Moscow time by default) as a UTC instant; NULL when not called yet',
  `status_text` STRING COMMENT 'status as sent (Russian)',
  `status` STRING COMMENT 'status normalised: answered, busy, no_answer, unavailable, failed, rejected, pending, unknown',
  `final` BOOLEAN COMMENT 'the subscriber will not change: a result status (not pending or unknown), no SMS pending, and no redial can still come (answered, 3 attempts used, or called at least the redial window, 2h30m, before the run started)',
  `attempts` INT COMMENT 'attempts: dial attempts',
  `duration_s` INT COMMENT 'duration: seconds talked with the subscriber',
  `price` DECIMAL(18,4) COMMENT 'price: the subscriber\'s total cost in roubles, transfer and SMS legs included',
  `transfer_number` STRING COMMENT 'transfer.number as E.164 digits; NULL when there was no transfer',
  `transfer_number_raw` STRING COMMENT 'transfer.number as sent',
  `transfer_duration_s` INT COMMENT 'transfer.duration: seconds the operator talked with the subscriber',
  `transfer_price` DECIMAL(18,4) COMMENT 'transfer.price: cost of the transfer leg, roubles (part of price)',
  `transfer_status_text` STRING COMMENT 'transfer.status as sent',
  `transfer_status` STRING COMMENT 'transfer.status normalised like status',
  `sms_date` TIMESTAMP COMMENT 'sms.date as a UTC instant; NULL when there was no SMS or no date',
  `sms_message` STRING COMMENT 'sms.message: the SMS text',
  `sms_parts` INT COMMENT 'sms.partition: SMS parts in the message',
  `sms_price` DECIMAL(18,4) COMMENT 'sms.price: cost of the SMS, roubles (part of price)',
  `sms_status_text` STRING COMMENT 'sms.status as sent',
  `sms_status` STRING COMMENT 'sms.status normalised: delivered, undelivered, sent, pending, unknown',
  `extras` STRING COMMENT 'subscriber members this version does not know (transfer.* and sms.* for the legs), as a JSON object (\'\' when none)',
  `run_id` STRING COMMENT 'run that extracted the row',
  `extracted_at` TIMESTAMP COMMENT 'when the row was extracted, UTC',
  `source` STRING COMMENT 'Hive partition: mobilgroup.',
  `date` DATE COMMENT 'Hive partition: the call\'s day in the business time zone, or the broadcast\'s day when the subscriber has no date.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/mobilgroup_calls'
COMMENT 'Mobilgroup broadcast subscribers (api/get state): one row per subscriber, with its transfer and SMS legs'
;
MSCK REPAIR TABLE `calletl`.`mobilgroup_calls`;

CREATE TABLE IF NOT EXISTS `calletl`.`votbox_events` (
  `event_id` STRING COMMENT 'Dedupe id: SHA-256 (first 128 bits, hex) of vendor, source and every field as received; a vendor\'s retry has the same id.',
  `call_id` STRING COMMENT 'CALLID: the call (item.id of autocall.check, votbox_calls.item_id).',
  `state` STRING COMMENT 'STATE: STARTCALL, CALLOUT, REDIRECT, CALLPROCESS, CALLNOANSWER, QUEUESTART, QUEUEEND, GETDTMF, ENDCALL, VOICEMAIL, RECORDTALK, or what VotBox sent.',
  `event_time` TIMESTAMP COMMENT 'DT (DD.MM.YYYY HH:MM:SS, Moscow time) as a UTC instant; NULL when absent.',
  `ani` STRING COMMENT 'ANI as E.164 digits (\'\' when absent).',
  `dnis` STRING COMMENT 'DNIS as E.164 digits.',
  `phone` STRING COMMENT 'PHONE (REDIRECT: the operator\'s number) as E.164 digits.',
  `rel` INT COMMENT 'REL (CALLNOANSWER): the release cause.',
  `dtmf` STRING COMMENT 'DTMF (GETDTMF): the keys pressed.',
  `addinfo` STRING COMMENT 'addinfo (REDIRECT): the FLIST DESCR of the subscriber.',
  `filename` STRING COMMENT 'FILENAME (VOICEMAIL, RECORDTALK).',
  `call_duration` INT COMMENT 'CALLDURATION (autocall ENDCALL): seconds connected to the subscriber.',
  `oper_call_duration` INT COMMENT 'OPERCALLDURATION (ENDCALL): seconds connected to the operator.',
  `job_status` INT COMMENT 'JOBSTATUS (ENDCALL): the call\'s jobstatus (3 success, 4 operator, …).',
  `call_pay` DECIMAL(18,4) COMMENT 'CALLPAY (ENDCALL): cost of the call to the subscriber, roubles (sent in kopecks).',
  `oper_call_pay` DECIMAL(18,4) COMMENT 'OPERCALLPAY (ENDCALL): cost of the call to the operator, roubles (sent in kopecks).',
  `duration` INT COMMENT 'DURATION (inbound ENDCALL): call seconds.',
  `link_duration` INT COMMENT 'LINKDURATION (inbound ENDCALL): connected seconds.',
  `fields` STRING COMMENT 'Every field as received (keys upper-cased), a JSON object.',
  `received_at` TIMESTAMP COMMENT 'When etl receive stored the event, UTC.',
  `source` STRING COMMENT 'Hive partition: the receive endpoint\'s source name (votbox).',
  `date` DATE COMMENT 'Hive partition: the event\'s day (DT, else the arrival) in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/votbox_events'
COMMENT 'VotBox NotifyUrl notifications received by etl receive: one row per event (CALLOUT … ENDCALL), deduplicated by event_id'
;
MSCK REPAIR TABLE `calletl`.`votbox_events`;

CREATE TABLE IF NOT EXISTS `calletl`.`mtt_events` (
  `event_id` STRING COMMENT 'Dedupe id: SHA-256 (first 128 bits, hex) of vendor, source, kind and every field as received.',
  `kind` STRING COMMENT 'followme (getControlCallFollowMe event_URL), smartcall (sb-api events) or callback (callback call progress).',
  `call_id` STRING COMMENT 'The call: h323_conf_id (followme), CallID (smartcall), id (callback).',
  `event` STRING COMMENT 'Event code: o, s, h, sp, ep, t (followme); o, h, n (smartcall); start_side_A … end_side_A (callback).',
  `side` STRING COMMENT 'A or B where the event names a side.',
  `event_time` TIMESTAMP COMMENT 'date_time as a UTC instant (unix for followme, Moscow YYYY-MM-DD-HH-MM-SS for smartcall); NULL for callback events, which carry none.',
  `number` STRING COMMENT 'The number the event is about (b_number, redirect_number, phone_A) as E.164 digits.',
  `number_a` STRING COMMENT 'numberA (followme) as E.164 digits.',
  `sip_id` STRING COMMENT 'sip_id (followme): the client\'s MTT number.',
  `redirect_number` STRING COMMENT 'redirect_number (followme) as E.164 digits.',
  `client_id` STRING COMMENT 'client_id (followme): the client API\'s id of the call.',
  `task_id` STRING COMMENT 'id (smartcall): the request\'s messId.',
  `dtmf` STRING COMMENT 'dtmf (smartcall): the key chosen (\'\' when none or null).',
  `notify_type` STRING COMMENT 'type (smartcall): transfer or notify.',
  `cause` INT COMMENT 'Q.850/ISUP disconnect cause (h events).',
  `duration` INT COMMENT 'Seconds (smartcall h events: TTS and talk, or the transferred call).',
  `data` STRING COMMENT 'data (followme) as sent.',
  `fields` STRING COMMENT 'Every field as received (nested objects flattened with dots), a JSON object.',
  `received_at` TIMESTAMP COMMENT 'When etl receive stored the event, UTC.',
  `source` STRING COMMENT 'Hive partition: the receive endpoint\'s source name (mtt).',
  `date` DATE COMMENT 'Hive partition: the event\'s day (its time, else the arrival) in the business time zone.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/mtt_events'
COMMENT 'MTT call-progress notifications received by etl receive (follow-me event_URL, smart-call and callback events): one row per event, deduplicated by event_id'
;
MSCK REPAIR TABLE `calletl`.`mtt_events`;

CREATE TABLE IF NOT EXISTS `calletl`.`recordings` (
  `call_id` STRING COMMENT 'The call\'s call_id in the calls table.',
  `recording_ref` STRING COMMENT 'The calls table\'s recording_ref the recording was fetched with.',
  `part` INT COMMENT 'Part number, 1..n in the vendor\'s order; 0 for a call that failed or was missing before its parts were known; -1 for the call\'s transcript (T2).',
  `key` STRING COMMENT 'Blob store key of the part; empty unless status is ok.',
  `bytes` BIGINT COMMENT 'Size of the stored part in bytes.',
  `sha256` STRING COMMENT 'SHA-256 of the stored part, lowercase hex.',
  `content_type` STRING COMMENT 'MIME type sniffed from the first bytes (audio/wav, audio/mpeg, application/json).',
  `status` STRING COMMENT 'ok (stored), missing (the vendor has none: not retried) or failed (retried with backoff).',
  `attempts` INT COMMENT 'Attempts of this call so far, this one included.',
  `error` STRING COMMENT 'Why the part failed or is missing; empty when ok.',
  `fetched_at` TIMESTAMP COMMENT 'When this attempt of the call started (UTC instant); the latest attempt of a call is its state.',
  `run_id` STRING COMMENT 'ETL run that made the attempt.',
  `source` STRING COMMENT 'Hive partition: the source system of the call (mtt, t2, votbox).',
  `date` DATE COMMENT 'Hive partition: the call\'s date partition in the calls table.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/recordings'
COMMENT 'Call recordings fetched into the blob store: one row per call part and attempt; the latest attempt of a call (max fetched_at, run_id) is its state.'
;
MSCK REPAIR TABLE `calletl`.`recordings`;

CREATE TABLE IF NOT EXISTS `calletl`.`recording_days` (
  `calls_attempted` BIGINT COMMENT 'Calls of this source and date with at least one attempt in the recordings manifest.',
  `stored` BIGINT COMMENT 'Calls whose latest attempt is ok: every part stored (the transcript row, part -1, is ignored).',
  `missing` BIGINT COMMENT 'Calls whose latest attempt has a missing part and no failed one: the vendor has no recording.',
  `failed` BIGINT COMMENT 'Calls whose latest attempt has a failed part (still retried, or given up after max attempts).',
  `stored_bytes` BIGINT COMMENT 'Bytes of the ok parts of the calls\' latest attempts (transcripts excluded).',
  `transcribed` BIGINT COMMENT 'Calls whose latest attempt has the transcript (part -1) ok; 0 for sources without transcripts.',
  `run_id` STRING COMMENT 'Recordings run that computed the row.',
  `updated_at` TIMESTAMP COMMENT 'When the row was computed (UTC instant).',
  `source` STRING COMMENT 'Hive partition: the source system of the calls (mtt, t2, votbox).',
  `date` DATE COMMENT 'Hive partition: the calls\' date partition in the calls table (as in the recordings manifest).'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/recording_days'
COMMENT 'Recording state per source and day, computed from the recordings manifest by every recordings run: one row per (source, date) of the manifest, counting each call by its latest attempt.'
;
MSCK REPAIR TABLE `calletl`.`recording_days`;

CREATE TABLE IF NOT EXISTS `calletl`.`transcript_words` (
  `call_id` STRING COMMENT 'The call\'s call_id in the calls table.',
  `seq` INT COMMENT '0-based position of the word in the transcript.',
  `channel` STRING COMMENT 'Speaker channel as the vendor names it (A or B).',
  `start_s` DOUBLE COMMENT 'Start of the word in seconds from the start of the recording.',
  `end_s` DOUBLE COMMENT 'End of the word in seconds from the start of the recording.',
  `word` STRING COMMENT 'The recognised word.',
  `run_id` STRING COMMENT 'ETL run that fetched the transcript.',
  `source` STRING COMMENT 'Hive partition: the source system of the call (t2).',
  `date` DATE COMMENT 'Hive partition: the call\'s date partition in the calls table.'
)
USING parquet
PARTITIONED BY (`source`, `date`)
LOCATION 's3://calletl-data/lake/transcript_words'
COMMENT 'Words of vendor speech transcripts (T2), one row per word in the vendor\'s order.'
;
MSCK REPAIR TABLE `calletl`.`transcript_words`;
