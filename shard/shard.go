// Package shard splits one night's run across n processes (a Kubernetes
// Indexed Job, or several processes on one machine). Every unit of work —
// a stream (source, stream, account), an item (a VotBox task, a Mobilgroup
// broadcast), a source's snapshot, a call's recording — has a canonical key
// string, and the shard that owns it is
//
//	FNV-1a-64(key) mod n
//
// (hash/fnv, the 64-bit FNV-1a of the key's UTF-8 bytes). This is part of
// the on-disk contract: it does not change between versions, so a stream
// stays on the same shard night after night while n stays the same, and any
// n works. Nothing depends on it for correctness, though: cursors live in
// one shared state, so when n changes a stream that moves to another shard
// continues from its cursor there.
//
// Sources whose streams share auth state (T2: one token pair per PBX, which
// only one process may refresh) are pinned: every key of a pinned source is
// the source name alone, so all its streams, its snapshot and its
// recordings land on one shard, the one that holds its tokens.
package shard

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is this process's part of the run: Index in [0, Count). The zero
// value (and any Count <= 1) is the whole run.
type Shard struct {
	Index, Count int
}

// Parse reads "i/n" (0 <= i < n). The error says what is wrong; callers
// prefix the flag or variable it came from.
func Parse(s string) (Shard, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("%q is not i/n (this shard's 0-based index / the number of shards, e.g. 0/3)", s)
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 1 {
		return Shard{}, fmt.Errorf("%q: the shard count %q is not a whole number >= 1", s, ns)
	}
	i, err := strconv.Atoi(is)
	if err != nil || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("%q: the shard index %q is not a whole number in 0..%d", s, is, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

// Whole reports whether s is the whole run (no sharding).
func (s Shard) Whole() bool { return s.Count <= 1 }

// String is "i/n", or "" for the whole run.
func (s Shard) String() string {
	if s.Whole() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Label is a file-name-safe form, "s<i>of<n>" ("" for the whole run), used
// in run ids, lake unit names and lock file names.
func (s Shard) Label() string {
	if s.Whole() {
		return ""
	}
	return fmt.Sprintf("s%dof%d", s.Index, s.Count)
}

// Of returns the shard index of key among n shards (0 when n <= 1).
func Of(key string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}

// Assigner decides which shard owns each unit of work. The zero value owns
// everything (an unsharded run).
type Assigner struct {
	Shard Shard
	// Pinned holds the sources whose every key is the source name: all
	// their work lands on one shard (T2, whose token pair is one per PBX).
	Pinned map[string]bool
}

// Key is the canonical key of a unit of work of source: "source/part/…",
// or "source" alone for a pinned source.
func (a Assigner) Key(source string, parts ...string) string {
	if a.Pinned[source] || len(parts) == 0 {
		return source
	}
	return source + "/" + strings.Join(parts, "/")
}

// Owns reports whether this shard owns the unit of work of source named by
// parts (see Key).
func (a Assigner) Owns(source string, parts ...string) bool {
	if a.Shard.Whole() {
		return true
	}
	return Of(a.Key(source, parts...), a.Shard.Count) == a.Shard.Index
}
