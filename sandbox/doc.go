// Package sandbox holds emulators of the vendor APIs calletl extracts from.
// Each emulator is an http.Handler that speaks its vendor's documented wire
// format, replays the vendor document's own examples (testdata/<vendor>/),
// generates deterministic traffic whose ground truth tests compare an
// extractor's output against, and injects faults.
//
// Files:
//   - faults.go: Faults and FaultInjector, shared by every emulator.
//   - server.go: Start, which serves a handler on loopback for `etl demo`
//     and `etl sandbox`.
//   - mtt*.go: MTT, the MTT Telecom JSON-RPC API (getServiceHistoryByCustomer,
//     getCallHistory, getPersonalAccountList, getCustomerBalance).
//   - t2*.go: T2, the T2 Corporate PBX CRM OpenAPI (JWT token issuance,
//     rotation and expiry on a controllable clock; call-records/info,
//     statistics/missing, statistics/common, employees, call-records/file).
//   - votbox*.go: VotBox, the VotBox autocall API (POST form, XML answers in
//     attribute or element form, utf-8 or windows-1251; autocall.get.task,
//     check, detail, recordtalk) with tasks that progress under Advance.
//   - mttrec*.go: MTTRecords, the MTT recordings REST API (/v1|/v2/records/<id>/urls,
//     Basic Auth) and its separate download host (multi-part WAV/MP3 generated
//     on the fly, per-id faults, leaked-credential counting).
//   - hostile.go: Hostile, a server that records every request so a test can
//     assert no credential reached it, and RedirectCases, which start an API
//     that redirects to one (another host, another port, https to http).
//
// Tests use the emulators through httptest:
//
//	m := sandbox.NewMTT(sandbox.MTTConfig{Seed: 1, Customers: []string{"110011256"},
//		From: from, To: to, CallsPerDay: 100, BadRowsPerDay: 1})
//	srv := httptest.NewServer(m)
//	defer srv.Close()
//	m.SetFaults(sandbox.Faults{TooManyEvery: 7, TruncateEvery: 11})
//	// … run the extractor against srv.URL, then compare with m.Truth() and
//	// m.FaultInjector().Counts().
package sandbox
