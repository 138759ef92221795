//go:build !unix

package sqlitestore

import (
	"fmt"
	"os"
)

// lockDir opens the lock file without locking it: on systems without
// flock(2) nothing stops two processes from sharing a data directory.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	return f, nil
}
