// Package recordings will fetch call recordings and transcripts into a blob
// store (a local directory or S3): streamed, verified by size and SHA-256,
// never fetched twice, with a manifest table in the lake. It is the subject
// of the "Recordings and transcripts into S3" issue and holds no code yet;
// the call rows it will work from already carry has_recording and
// recording_ref (for MTT, the recordings id: h323_conf_id with "_" for
// spaces).
package recordings
