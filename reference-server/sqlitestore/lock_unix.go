//go:build unix

package sqlitestore

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/slotrush/slotrush/reference-server/store"
)

// lockDir takes an exclusive, non-blocking flock on path. The lock lasts
// until the returned file is closed or the process dies (kill -9 included).
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			err = store.ErrLocked
		}
		return nil, errors.Join(fmt.Errorf("lock %s: %w", path, err), f.Close())
	}
	return f, nil
}
