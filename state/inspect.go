package state

import "sort"

// Backfills returns the progress of every backfill, keyed (stream@from..to)
// and sorted by key: read-only, for `etl state`.
func (s *Store) Backfills() (keys []string, progress map[string]Cursor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	progress = make(map[string]Cursor, len(s.f.Backfills))
	for k, c := range s.f.Backfills {
		keys = append(keys, k)
		progress[k] = c
	}
	sort.Strings(keys)
	return keys, progress
}
