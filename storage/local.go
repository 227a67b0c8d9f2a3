package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// errNotDir is what the OS returns when a path runs through a file
// ("a/b" when "a" is an object): for a key, that means "not found".
var errNotDir error = syscall.ENOTDIR

// File and directory modes of a Local store. Recordings are personal data:
// no access for others.
const (
	localFileMode = 0o640
	localDirMode  = 0o750
)

// Extended attributes holding an object's SHA-256 and content type. Where
// the file system has no user xattrs, Stat hashes the file instead and the
// content type is unknown.
const (
	xattrSHA256      = "user.calletl.sha256"
	xattrContentType = "user.calletl.content_type"
)

// Local is a Store in a directory: key "a/b.wav" is the file DIR/a/b.wav.
//
// A write (Put, Replace) streams into a hidden temporary file
// (".b.wav.*.tmp") in the target directory and fsyncs it; then, holding the
// key's lock, it checks its condition, moves the file to its final name and
// fsyncs the directory. A create (Put, IfNoneMatch) moves it without
// replacing an existing file (renameat2 RENAME_NOREPLACE, or link(2) +
// unlink where the file system lacks it); IfMatch compares the current
// object's ETag with the expected one and renames over it; Unconditional
// renames over whatever is there. No valid key names a temporary file and
// List skips them, so readers never see a partial object; a crash or a kill
// can leave a temporary file behind, which SweepTemp deletes. While a write
// fills its temporary file it holds an exclusive flock(2) on it, so a sweep
// never deletes the file of a live write.
//
// An object's ETag is its content's SHA-256, kept in a user extended
// attribute (hashed from the file where the file system has none).
//
// The key's lock is an exclusive flock(2) on one of 256 files in DIR/.locks,
// chosen by the key's hash, held only while the condition is checked and
// the file renamed (and by Delete while it removes). flock excludes every
// open of the lock file, in this process and in others, so the conditions
// hold for any number of goroutines and processes on one machine sharing
// the directory on a local file system. They do not reach across machines
// on a network file system whose flock is local to each client (NFS mounted
// with local_lock, or nolock); where the file system has no flock at all,
// creates stay safe (the no-replace rename) and IfMatch returns an error
// wrapping errors.ErrUnsupported. Files changed behind the store's back
// (another program rewriting an object in place) are outside the guarantee.
type Local struct {
	dir string
}

var _ Store = (*Local)(nil)

// NewLocal returns the store rooted at dir, creating the directory if needed.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("storage: local store: empty directory")
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, localDirMode); err != nil {
		return nil, fmt.Errorf("storage: local store: %w", err)
	}
	return &Local{dir: dir}, nil
}

// Dir returns the store's root directory.
func (l *Local) Dir() string { return l.dir }

// String names the store for messages.
func (l *Local) String() string { return "local directory " + l.dir }

func (l *Local) path(key string) string { return filepath.Join(l.dir, filepath.FromSlash(key)) }

// Put implements [Store.Put].
func (l *Local) Put(ctx context.Context, key string, r io.Reader, contentType string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	info, err := l.write(ctx, key, r, contentType, IfNoneMatch())
	if err != nil {
		return Info{}, fmt.Errorf("storage: put %s: %w", key, err)
	}
	return info, nil
}

// Replace implements [Store.Replace]. The condition is checked and the new
// file renamed over the old one while the key's lock is held (see [Local]).
func (l *Local) Replace(ctx context.Context, key string, r io.Reader, cond Cond) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	if err := cond.check(); err != nil {
		return Info{}, err
	}
	info, err := l.write(ctx, key, r, "", cond)
	if err != nil {
		return Info{}, fmt.Errorf("storage: replace %s (%s): %w", key, cond, err)
	}
	return info, nil
}

func (l *Local) write(ctx context.Context, key string, r io.Reader, contentType string, cond Cond) (Info, error) {
	final := l.path(key)
	// Cheap early answers (the usual "already fetched" case, a stale
	// version); the checks under the lock below are what guarantee them.
	switch cond.kind {
	case condNoneMatch:
		if _, err := os.Lstat(final); err == nil {
			return Info{}, ErrExists
		}
	case condMatch:
		fi, err := os.Stat(final)
		if err != nil || !fi.Mode().IsRegular() {
			return Info{}, ErrPrecondition
		}
		if cur := getXattr(final, xattrSHA256); cur != "" && cur != cond.etag {
			return Info{}, ErrPrecondition
		}
	}
	parent := filepath.Dir(final)
	if err := mkdirAllSync(parent); err != nil {
		return Info{}, err
	}
	tmp, err := os.CreateTemp(parent, tempPattern(final))
	if err != nil {
		return Info{}, err
	}
	// Held until Close: SweepTemp skips a locked file. Best effort: where
	// the file system has no flock, the sweep's age rule alone applies.
	_ = syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	hr := &hashingReader{r: ctxReader{ctx: ctx, r: r}, h: sha256.New()}
	if _, err := io.Copy(tmp, hr); err != nil {
		return Info{}, err
	}
	info := Info{Key: key, Size: hr.n, SHA256: hex.EncodeToString(hr.h.Sum(nil)), ContentType: contentType}
	info.ETag = info.SHA256
	if err := setXattr(tmp, xattrSHA256, info.SHA256); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return Info{}, err
	}
	if contentType != "" {
		if err := setXattr(tmp, xattrContentType, contentType); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			return Info{}, err
		}
	}
	if err := tmp.Chmod(localFileMode); err != nil {
		return Info{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Info{}, err
	}
	fi, err := tmp.Stat()
	if err != nil {
		return Info{}, err
	}
	info.Modified = fi.ModTime()
	if err := tmp.Close(); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}

	unlock, locked, err := l.lock(key)
	if err != nil {
		return Info{}, err
	}
	defer unlock()
	switch cond.kind {
	case condNoneMatch:
		err = renameNoReplace(tmp.Name(), final)
		if errors.Is(err, fs.ErrExist) {
			return Info{}, ErrExists
		}
	case condMatch:
		if !locked {
			return Info{}, fmt.Errorf("%s has no flock(2), so a compare-and-swap cannot be guaranteed: %w", l.dir, errors.ErrUnsupported)
		}
		cur, cerr := l.currentETag(ctx, final)
		if cerr != nil {
			return Info{}, cerr
		}
		if cur != cond.etag {
			return Info{}, ErrPrecondition
		}
		err = os.Rename(tmp.Name(), final)
	default:
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		return Info{}, err
	}
	done = true
	if err := SyncDir(parent); err != nil {
		return Info{}, err
	}
	return info, nil
}

// currentETag returns the ETag of the object at path, ErrPrecondition if
// there is none.
func (l *Local) currentETag(ctx context.Context, path string) (string, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) || err == nil && !fi.Mode().IsRegular() {
		return "", ErrPrecondition
	}
	if err != nil {
		return "", err
	}
	if sum := getXattr(path, xattrSHA256); sum != "" {
		return sum, nil
	}
	return hashFile(ctx, path)
}

// lockDir holds the lock files of the keys (see [Local]); its name starts
// with a dot, so no key names it and List skips it.
const lockDir = ".locks"

// lock takes the exclusive flock(2) of key's lock file, one of 256 under
// DIR/.locks chosen by the key's hash, and returns its release. locked is
// false where the file system has no flock: then only the no-replace rename
// guards creates, and IfMatch refuses to run.
func (l *Local) lock(key string) (unlock func(), locked bool, err error) {
	dir := filepath.Join(l.dir, lockDir)
	if err := os.MkdirAll(dir, localDirMode); err != nil {
		return nil, false, err
	}
	h := sha256.Sum256([]byte(key))
	f, err := os.OpenFile(filepath.Join(dir, hex.EncodeToString(h[:1])), os.O_RDWR|os.O_CREATE, localFileMode)
	if err != nil {
		return nil, false, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return func() { f.Close() }, true, nil // closing releases the lock
	case errors.Is(err, syscall.ENOLCK), errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOSYS):
		return func() { f.Close() }, false, nil
	default:
		f.Close()
		return nil, false, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
}

// Stat implements [Store.Stat]. Without a stored SHA-256 (a file system
// without user xattrs, or a file put there by other means) it hashes the
// file.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	p := l.path(key)
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return Info{}, statErr(key, err)
	}
	info := fileInfo(key, p, fi)
	if info.SHA256 == "" {
		sum, err := hashFile(ctx, p)
		if err != nil {
			return Info{}, statErr(key, err)
		}
		info.SHA256 = sum
	}
	info.ETag = info.SHA256
	return info, nil
}

func statErr(key string, err error) error {
	if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return fmt.Errorf("storage: stat %s: %w", key, ErrNotFound)
	}
	return fmt.Errorf("storage: stat %s: %w", key, err)
}

// fileInfo builds Info from a regular file's stat and its xattrs.
func fileInfo(key, path string, fi fs.FileInfo) Info {
	sum := getXattr(path, xattrSHA256)
	return Info{
		Key:         key,
		Size:        fi.Size(),
		ETag:        sum,
		SHA256:      sum,
		ContentType: getXattr(path, xattrContentType),
		Modified:    fi.ModTime(),
	}
}

func hashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx: ctx, r: f}); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Open implements [Store.Open].
func (l *Local) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(l.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
			return nil, fmt.Errorf("storage: open %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("storage: open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: open %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("storage: open %s: %w", key, ErrNotFound)
	}
	return f, nil
}

// List implements [Store.List]. It reads one directory at a time, so memory
// does not grow with the number of objects.
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	base := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i]
	}
	err := l.walk(ctx, base, prefix, fn)
	var ce callbackError
	if errors.As(err, &ce) {
		return ce.err
	}
	if err != nil {
		return fmt.Errorf("storage: list %q: %w", prefix, err)
	}
	return nil
}

// callbackError carries fn's error out of walk so that List returns it
// unwrapped.
type callbackError struct{ err error }

func (c callbackError) Error() string { return c.err.Error() }

func (l *Local) walk(ctx context.Context, rel, prefix string, fn func(Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := l.dir
	if rel != "" {
		dir = l.path(rel)
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return nil
	}
	if err != nil {
		return err
	}
	// Visit in key order: a directory "a" holds keys "a/…", which sort
	// after "a.x" and "a-x" ('/' is 0x2f), so compare directories as "a/".
	type entry struct {
		name, sortName string
		ent            fs.DirEntry
	}
	list := make([]entry, 0, len(ents))
	for _, e := range ents {
		name := e.Name()
		if checkKey(name) != nil { // temporary files, lost+found, …
			continue
		}
		s := name
		if e.IsDir() {
			s += "/"
		}
		list = append(list, entry{name, s, e})
	}
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.sortName, b.sortName) })
	for _, e := range list {
		key := e.name
		if rel != "" {
			key = rel + "/" + e.name
		}
		switch {
		case e.ent.IsDir():
			if strings.HasPrefix(key+"/", prefix) || strings.HasPrefix(prefix, key+"/") {
				if err := l.walk(ctx, key, prefix, fn); err != nil {
					return err
				}
			}
		case e.ent.Type().IsRegular() && strings.HasPrefix(key, prefix):
			p := filepath.Join(dir, e.name)
			fi, err := e.ent.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted meanwhile
			}
			if err != nil {
				return err
			}
			if err := fn(fileInfo(key, p, fi)); err != nil {
				return callbackError{err}
			}
		}
	}
	return nil
}

// Delete implements [Store.Delete]. It takes the key's lock, so that it
// never falls between a conditional Replace's check and its rename, and
// leaves empty directories in place.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	p := l.path(key)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) || err == nil && fi.IsDir() {
		return nil
	}
	if err == nil {
		var unlock func()
		if unlock, _, err = l.lock(key); err == nil {
			err = os.Remove(p)
			if err == nil {
				err = SyncDir(filepath.Dir(p))
			}
			unlock()
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	return nil
}

// StaleTempAge is how long a temporary file must have gone unmodified
// before SweepTemp removes it: a live Put writes its file continuously and
// renames it a moment after its last write, so an hour-old file was left by
// a killed process, even on a file system where the flock guard is missing.
const StaleTempAge = time.Hour

// isTempName reports whether a file name is one of Put's temporary files
// (".<name>.<random>.tmp"); no valid key names one.
func isTempName(name string) bool {
	return len(name) > len("..tmp") && strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp")
}

// SweepTemp removes the temporary files that Puts killed mid-write left
// in the store (".b.wav.*.tmp" beside the objects): those unmodified for
// olderThan and not locked by a live Put. It is safe while other processes
// Put into the same directory (two runs with different state directories
// sharing one recordings directory): their files are locked and recent.
// It returns how many files it removed; an error names what it could not
// remove and does not stop the sweep.
func (l *Local) SweepTemp(ctx context.Context, olderThan time.Duration) (removed int, err error) {
	var errs []error
	cutoff := time.Now().Add(-olderThan)
	walkErr := filepath.WalkDir(l.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || !isTempName(d.Name()) {
			return nil
		}
		fi, err := d.Info()
		if err != nil || fi.ModTime().After(cutoff) {
			return nil // gone meanwhile, or recent: perhaps a live Put
		}
		f, err := os.Open(path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return nil
		}
		defer f.Close()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); errors.Is(err, syscall.EWOULDBLOCK) {
			return nil // a live Put holds it
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			return nil
		}
		removed++
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("storage: sweep temporary files in %s: %w", l.dir, err)
	}
	return removed, nil
}

// mkdirAllSync creates dir and its missing parents, fsyncing the parent of
// every directory it creates so the new entries survive a crash.
func mkdirAllSync(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: errNotDir}
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if parent == dir {
		return err
	}
	if err := mkdirAllSync(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, localDirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return SyncDir(parent)
}

// linkNoReplace moves oldpath to newpath, failing with fs.ErrExist if
// newpath exists: link(2) never replaces its target.
func linkNoReplace(oldpath, newpath string) error {
	if err := os.Link(oldpath, newpath); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		return err
	}
	return os.Remove(oldpath)
}
