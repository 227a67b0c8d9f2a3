package recordings

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
)

// Statuses of a manifest row.
const (
	StatusOK      = "ok"      // stored (now or by an earlier attempt)
	StatusMissing = "missing" // the vendor has no such recording: not retried
	StatusFailed  = "failed"  // retried on later runs, with backoff, up to MaxAttempts
)

// Entry is one row of the `recordings` manifest. Source and Date (the
// call's date) are the Hive partition.
type Entry struct {
	Source, Date string

	CallID       string
	RecordingRef string
	Part         int32 // 1..n; 0 for a call that failed before its parts were known; TranscriptPart (-1) for the transcript
	Key          string
	Bytes        int64
	SHA256       string
	ContentType  string
	Status       string
	Attempts     int32 // attempts of this call so far, this one included
	Error        string
	FetchedAt    time.Time // when this attempt of the call started (same for all its rows)
	RunID        string
}

// Manifest is the `recordings` lake table. See the package documentation
// for how rows of successive runs combine.
var Manifest = &load.Table[Entry]{
	Name: "recordings",
	Doc:  "Call recordings fetched into the blob store: one row per call part and attempt; the latest attempt of a call (max fetched_at, run_id) is its state.",
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: "call_id", Type: arrow.BinaryTypes.String},
		{Name: "recording_ref", Type: arrow.BinaryTypes.String},
		{Name: "part", Type: arrow.PrimitiveTypes.Int32},
		{Name: "key", Type: arrow.BinaryTypes.String},
		{Name: "bytes", Type: arrow.PrimitiveTypes.Int64},
		{Name: "sha256", Type: arrow.BinaryTypes.String},
		{Name: "content_type", Type: arrow.BinaryTypes.String},
		{Name: "status", Type: arrow.BinaryTypes.String},
		{Name: "attempts", Type: arrow.PrimitiveTypes.Int32},
		{Name: "error", Type: arrow.BinaryTypes.String},
		{Name: "fetched_at", Type: load.TimestampType(), Nullable: true},
		{Name: "run_id", Type: arrow.BinaryTypes.String},
	}, nil),
	Append: func(b *array.RecordBuilder, e *Entry) {
		f := b.Fields()
		f[0].(*array.StringBuilder).Append(e.CallID)
		f[1].(*array.StringBuilder).Append(e.RecordingRef)
		f[2].(*array.Int32Builder).Append(e.Part)
		f[3].(*array.StringBuilder).Append(e.Key)
		f[4].(*array.Int64Builder).Append(e.Bytes)
		f[5].(*array.StringBuilder).Append(e.SHA256)
		f[6].(*array.StringBuilder).Append(e.ContentType)
		f[7].(*array.StringBuilder).Append(e.Status)
		f[8].(*array.Int32Builder).Append(e.Attempts)
		f[9].(*array.StringBuilder).Append(e.Error)
		load.AppendTimestamp(f[10], e.FetchedAt)
		f[11].(*array.StringBuilder).Append(e.RunID)
	},
	Dictionary: []string{"content_type", "status", "run_id"},
	Comments: map[string]string{
		"source":        "Hive partition: the source system of the call (mtt, t2, votbox).",
		"date":          "Hive partition: the call's date partition in the calls table.",
		"call_id":       "The call's call_id in the calls table.",
		"recording_ref": "The calls table's recording_ref the recording was fetched with.",
		"part":          "Part number, 1..n in the vendor's order; 0 for a call that failed or was missing before its parts were known; -1 for the call's transcript (T2).",
		"key":           "Blob store key of the part; empty unless status is ok.",
		"bytes":         "Size of the stored part in bytes.",
		"sha256":        "SHA-256 of the stored part, lowercase hex.",
		"content_type":  "MIME type sniffed from the first bytes (audio/wav, audio/mpeg, application/json).",
		"status":        "ok (stored), missing (the vendor has none: not retried) or failed (retried with backoff).",
		"attempts":      "Attempts of this call so far, this one included.",
		"error":         "Why the part failed or is missing; empty when ok.",
		"fetched_at":    "When this attempt of the call started (UTC instant); the latest attempt of a call is its state.",
		"run_id":        "ETL run that made the attempt.",
	},
}

// Day is one row of the `recording_days` table: the recording state of
// one (source, date) of the manifest, aggregated over its calls' latest
// attempts. Source and Date (the calls' date partition) are the Hive
// partition.
type Day struct {
	Source, Date string

	CallsAttempted int64 // calls with at least one attempt
	Stored         int64 // calls whose latest attempt is ok
	Missing        int64 // calls whose latest attempt is missing
	Failed         int64 // calls whose latest attempt is failed
	StoredBytes    int64 // bytes of the ok parts (not the transcript) of the latest attempts
	Transcribed    int64 // calls whose latest attempt has its transcript ok
	RunID          string
	UpdatedAt      time.Time
}

// Days is the `recording_days` lake table, maintained by [Run] from the
// manifest so that reports (recording_coverage) read one row per day
// instead of grouping the manifest by call. See the package documentation
// (Recording days).
var Days = &load.Table[Day]{
	Name: "recording_days",
	Doc: "Recording state per source and day, computed from the recordings manifest by every recordings run: " +
		"one row per (source, date) of the manifest, counting each call by its latest attempt.",
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: "calls_attempted", Type: arrow.PrimitiveTypes.Int64},
		{Name: "stored", Type: arrow.PrimitiveTypes.Int64},
		{Name: "missing", Type: arrow.PrimitiveTypes.Int64},
		{Name: "failed", Type: arrow.PrimitiveTypes.Int64},
		{Name: "stored_bytes", Type: arrow.PrimitiveTypes.Int64},
		{Name: "transcribed", Type: arrow.PrimitiveTypes.Int64},
		{Name: "run_id", Type: arrow.BinaryTypes.String},
		{Name: "updated_at", Type: load.TimestampType(), Nullable: true},
	}, nil),
	Append: func(b *array.RecordBuilder, d *Day) {
		f := b.Fields()
		f[0].(*array.Int64Builder).Append(d.CallsAttempted)
		f[1].(*array.Int64Builder).Append(d.Stored)
		f[2].(*array.Int64Builder).Append(d.Missing)
		f[3].(*array.Int64Builder).Append(d.Failed)
		f[4].(*array.Int64Builder).Append(d.StoredBytes)
		f[5].(*array.Int64Builder).Append(d.Transcribed)
		f[6].(*array.StringBuilder).Append(d.RunID)
		load.AppendTimestamp(f[7], d.UpdatedAt)
	},
	Dictionary: []string{"run_id"},
	Comments: map[string]string{
		"source":          "Hive partition: the source system of the calls (mtt, t2, votbox).",
		"date":            "Hive partition: the calls' date partition in the calls table (as in the recordings manifest).",
		"calls_attempted": "Calls of this source and date with at least one attempt in the recordings manifest.",
		"stored":          "Calls whose latest attempt is ok: every part stored (the transcript row, part -1, is ignored).",
		"missing":         "Calls whose latest attempt has a missing part and no failed one: the vendor has no recording.",
		"failed":          "Calls whose latest attempt has a failed part (still retried, or given up after max attempts).",
		"stored_bytes":    "Bytes of the ok parts of the calls' latest attempts (transcripts excluded).",
		"transcribed":     "Calls whose latest attempt has the transcript (part -1) ok; 0 for sources without transcripts.",
		"run_id":          "Recordings run that computed the row.",
		"updated_at":      "When the row was computed (UTC instant).",
	},
}

// Tables returns the lake tables this package writes.
func Tables() []load.TableInfo {
	return []load.TableInfo{Manifest.Info(), Days.Info(), TranscriptWords.Info()}
}

// Word is one row of the `transcript_words` table: a word of a T2 speech
// transcript.
type Word struct {
	Source, Date string

	CallID  string
	Seq     int32 // 0-based position in the transcript as the vendor sent it
	Channel string
	StartS  float64
	EndS    float64
	Word    string
	RunID   string
}

// TranscriptWords is the `transcript_words` lake table (T2 call-records/file/stt,
// normalised; the raw JSON is kept in the blob store).
var TranscriptWords = &load.Table[Word]{
	Name: "transcript_words",
	Doc:  "Words of vendor speech transcripts (T2), one row per word in the vendor's order.",
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: "call_id", Type: arrow.BinaryTypes.String},
		{Name: "seq", Type: arrow.PrimitiveTypes.Int32},
		{Name: "channel", Type: arrow.BinaryTypes.String},
		{Name: "start_s", Type: arrow.PrimitiveTypes.Float64},
		{Name: "end_s", Type: arrow.PrimitiveTypes.Float64},
		{Name: "word", Type: arrow.BinaryTypes.String},
		{Name: "run_id", Type: arrow.BinaryTypes.String},
	}, nil),
	Append: func(b *array.RecordBuilder, w *Word) {
		f := b.Fields()
		f[0].(*array.StringBuilder).Append(w.CallID)
		f[1].(*array.Int32Builder).Append(w.Seq)
		f[2].(*array.StringBuilder).Append(w.Channel)
		f[3].(*array.Float64Builder).Append(w.StartS)
		f[4].(*array.Float64Builder).Append(w.EndS)
		f[5].(*array.StringBuilder).Append(w.Word)
		f[6].(*array.StringBuilder).Append(w.RunID)
	},
	Dictionary: []string{"channel", "run_id"},
	Comments: map[string]string{
		"source":  "Hive partition: the source system of the call (t2).",
		"date":    "Hive partition: the call's date partition in the calls table.",
		"call_id": "The call's call_id in the calls table.",
		"seq":     "0-based position of the word in the transcript.",
		"channel": "Speaker channel as the vendor names it (A or B).",
		"start_s": "Start of the word in seconds from the start of the recording.",
		"end_s":   "End of the word in seconds from the start of the recording.",
		"word":    "The recognised word.",
		"run_id":  "ETL run that fetched the transcript.",
	},
}
