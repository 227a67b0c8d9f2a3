package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/calletl/calletl/sandbox"
)

// demoCallbacks is the number of MTT callback calls the demo's emulator
// places per customer; the first customer's are configured.
const demoCallbacks = 8

// writeDemoCallbacks writes DIR/mtt-callbacks.txt, the file a call-center
// system appends callBackCall_id values to: the first demo customer's
// callbacks (sources.mtt.callback_ids_file).
func writeDemoCallbacks(dir string, m *sandbox.MTT) error {
	var b strings.Builder
	b.WriteString("# MTT callback ids (callBackCall_id), one per line: append the id makeCallBackCallFollowme returns.\n")
	for _, c := range m.Callbacks() {
		if c.Customer == demoCustomers[0] {
			b.WriteString(c.ID + "\n")
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "mtt-callbacks.txt"), []byte(b.String()), 0o644)
}
