// Package receive is calletl's push receiver: a small HTTP service that
// accepts the vendors' per-call notifications (VotBox NotifyUrl, MTT
// call-progress events), appends each one durably to a spool before it
// answers 2xx, and lands the spooled events in the lake tables
// votbox_events and mtt_events on a schedule.
//
// Guarantees
//
//   - An event is acknowledged (200) only after the batch holding it is
//     stored: fsynced in a local spool directory, uploaded complete to an
//     S3 spool ([Spool] over a storage.Store). Events that arrive while a
//     batch is being written go to the next one (group commit), so one
//     fsync or upload serves many requests.
//   - Every event has an id ([Event.ID]): neither vendor documents one, so
//     it is a SHA-256 of the event's canonical fields (vendor, kind, source
//     and every field, keys folded, values trimmed). A vendor's retry of an
//     event sends the same fields, gets the same id and is acknowledged
//     again without being stored twice. The index of ids is rebuilt from
//     the spool on start; landed events stay in it for the retention.
//   - The [Lander] seals the stored batches into a unit (a manifest object
//     created before anything is written to the lake), writes the unit's
//     events with one load.Tx per source, marks it landed, and only then
//     deletes the batches. A crash at any point re-lands the same manifest
//     under the same unit name, which replaces the unit's files: the lake
//     never holds an event twice.
//
// The vendor wire formats (VotBox §16 of votbox-api.txt, MTT's
// getControlCallFollowMe events, smart-call events and callback progress
// of mtt-telecom-api.txt) are decoded in votbox.go and mtt.go.
package receive
