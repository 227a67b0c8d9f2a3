package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/shard"
)

// Environment of a sharded run. A Kubernetes Indexed Job sets
// JOB_COMPLETION_INDEX in each pod; --shards n says how many there are.
const (
	envShard      = "CALLETL_SHARD"        // i/n, when neither --shard nor --shards is given
	envJobIndex   = "JOB_COMPLETION_INDEX" // the shard index with --shards n
	shardFlagHelp = "this process's part of a sharded run, i/n (0 <= i < n): streams, items, snapshots and recordings are split among n processes by a stable hash of their key (default $" + envShard + ")"
)

// shardFlags are the sharding flags of run, backfill and recordings.
type shardFlags struct {
	shard  string
	shards int
}

func addShardFlags(fs *pflag.FlagSet) *shardFlags {
	f := &shardFlags{}
	fs.StringVar(&f.shard, "shard", "", shardFlagHelp)
	fs.IntVar(&f.shards, "shards", 0, "the number of shards n, this one's index taken from $"+envJobIndex+" (as a Kubernetes Indexed Job sets it)")
	return f
}

// resolve returns this process's shard: --shard, else --shards with
// $JOB_COMPLETION_INDEX, else $CALLETL_SHARD, else the whole run. Flags win
// over the environment; a bad value is a usage error naming its flag or
// variable.
func (f *shardFlags) resolve(fs *pflag.FlagSet) (shard.Shard, error) {
	set := map[string]bool{}
	fs.Visit(func(fl *pflag.Flag) { set[fl.Name] = true })
	switch {
	case set["shard"] && set["shards"]:
		return shard.Shard{}, &usageError{"--shard and --shards: give one (--shard i/n, or --shards n with $" + envJobIndex + " set)"}
	case set["shard"]:
		s, err := shard.Parse(f.shard)
		if err != nil {
			return shard.Shard{}, &usageError{"--shard: " + err.Error()}
		}
		return s, nil
	case set["shards"]:
		if f.shards < 1 {
			return shard.Shard{}, &usageError{fmt.Sprintf("--shards %d: the number of shards must be >= 1", f.shards)}
		}
		v, ok := os.LookupEnv(envJobIndex)
		if !ok {
			return shard.Shard{}, &usageError{fmt.Sprintf("--shards %d: $%s is not set: it names this shard's index (a Kubernetes Indexed Job sets it); or give --shard i/n", f.shards, envJobIndex)}
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= f.shards {
			return shard.Shard{}, &usageError{fmt.Sprintf("$%s=%q: not a shard index in 0..%d (--shards %d)", envJobIndex, v, f.shards-1, f.shards)}
		}
		return shard.Shard{Index: i, Count: f.shards}, nil
	}
	v, ok := os.LookupEnv(envShard)
	if !ok || v == "" {
		return shard.Shard{}, nil
	}
	s, err := shard.Parse(v)
	if err != nil {
		return shard.Shard{}, &usageError{"$" + envShard + ": " + err.Error()}
	}
	return s, nil
}

// assigner is the shard assignment of s: the vendors pinned to one shard
// (registry.Pinned: T2) keep all their work there.
func assigner(reg *registry.Registry, s shard.Shard) shard.Assigner {
	return shard.Assigner{Shard: s, Pinned: reg.Pinned()}
}
