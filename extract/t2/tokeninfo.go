package t2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/calletl/calletl/storage"
)

// TokenInfo is what `etl state` shows of the saved token pair: never a
// token, only times.
type TokenInfo struct {
	// Saved: the token file (or object) exists and owns the pair; else
	// the pair still comes from the configuration.
	Saved bool
	// SavedAt is when the pair was saved: the file's refreshed_at, or
	// its modification time for a file written before refreshed_at was
	// kept. Zero when not saved.
	SavedAt time.Time
	// RefreshedAt is the file's refreshed_at: zero if never refreshed.
	RefreshedAt time.Time
	// AccessExpires and RefreshExpires are the tokens' JWT exp claims;
	// zero when a token is not a JWT with one.
	AccessExpires, RefreshExpires time.Time
}

// InspectTokens reads the saved token pair: the file path, or, when st is
// not nil, the object key in st (as Config.TokenFile and TokenStore name
// it). A missing pair is not an error (Saved false); a pair that does not
// parse is.
func InspectTokens(ctx context.Context, path string, st storage.Store) (TokenInfo, error) {
	var info TokenInfo
	var b []byte
	var err error
	var modified time.Time
	if st != nil {
		b, _, err = storage.ReadVersion(ctx, st, path)
		if errors.Is(err, storage.ErrNotFound) {
			return info, nil
		}
		if err == nil {
			if si, serr := st.Stat(ctx, path); serr == nil {
				modified = si.Modified
			}
		}
	} else {
		b, err = os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return info, nil
		}
		if fi, serr := os.Stat(path); serr == nil {
			modified = fi.ModTime()
		}
	}
	if err != nil {
		return info, fmt.Errorf("t2: token file %s: %w", path, err)
	}
	var f tokenFile
	if err := json.Unmarshal(b, &f); err != nil {
		return info, fmt.Errorf("t2: token file %s: %w (delete it to start again from the configured tokens)", path, err)
	}
	info.Saved, info.RefreshedAt, info.SavedAt = true, f.RefreshedAt, f.RefreshedAt
	if info.SavedAt.IsZero() {
		info.SavedAt = modified
	}
	info.AccessExpires, _ = jwtExp(f.AccessToken)
	info.RefreshExpires, _ = jwtExp(f.RefreshToken)
	return info, nil
}

// TokenExpiry returns the exp claim of a JWT (unverified), for a
// configured token that is not saved yet.
func TokenExpiry(token string) (time.Time, bool) { return jwtExp(token) }
