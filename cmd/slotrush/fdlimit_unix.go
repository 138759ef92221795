//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// This file holds the command's unix system calls: the limit on open files
// (RLIMIT_NOFILE) and the flock(2) of the output folder's lock file.

// openFileLimit returns the process's soft and hard limits on open files.
func openFileLimit() (soft, hard uint64, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, err
	}
	return uint64(lim.Cur), uint64(lim.Max), nil // int64 on some BSDs
}

// raiseOpenFileLimit sets the process's soft limit on open files to n.
func raiseOpenFileLimit(n uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	setRlim(&lim.Cur, n)
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// setRlim sets an rlimit field, uint64 on Linux and macOS, int64 on some
// BSDs.
func setRlim[T int64 | uint64](p *T, n uint64) { *p = T(n) }

// tryLock takes an exclusive flock on f without waiting: false when
// another open file (this process's or another's) holds it. The lock
// lasts until f is closed or the process dies (kill -9 included).
func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return false, nil
	}
	return false, err
}
