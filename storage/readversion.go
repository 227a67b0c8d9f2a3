package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// ReadVersion returns the object's content and the ETag of that content,
// for a read-modify-write conditional on it (Replace with IfMatch), or an
// error wrapping ErrNotFound. The ETag comes from a Stat before the read;
// when the store knows the content's SHA-256 and the bytes read do not
// match it, the object changed between the two and the read is repeated,
// so the ETag is the version of the bytes returned (a stale ETag would
// only make the conditional write fail and retry, but a newer one could
// pair with older bytes and overwrite a version never read).
func ReadVersion(ctx context.Context, st Store, key string) ([]byte, string, error) {
	for range 10 {
		info, err := st.Stat(ctx, key)
		if err != nil {
			return nil, "", err
		}
		rc, err := st.Open(ctx, key)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, "", err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, "", err
		}
		if info.SHA256 != "" {
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != info.SHA256 {
				continue // replaced between Stat and Open
			}
		}
		return data, info.ETag, nil
	}
	return nil, "", fmt.Errorf("storage: %s changed on every one of 10 reads: other processes keep replacing it; run again", key)
}
