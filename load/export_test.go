package load

// Test hooks for the external test package.

// SetStepHook makes l call hook between the steps of a compaction
// ("compact-staged", "compact-exchanged") and of a replacement inside a
// compacted file ("merge-written"); an error from hook stops the step.
func SetStepHook(l *Lake, hook func(step string) error) { l.hook = hook }

// ErrSimulatedKill, returned by a step hook, stops the step without any
// cleanup, as a kill at that point would.
var ErrSimulatedKill = errSimulatedKill
