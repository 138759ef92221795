//go:build !unix

package main

import "os"

// openFileLimit returns errNoFileLimit: there is no RLIMIT_NOFILE to read.
func openFileLimit() (soft, hard uint64, err error) { return 0, 0, errNoFileLimit }

// raiseOpenFileLimit does nothing: there is no limit to raise.
func raiseOpenFileLimit(uint64) error { return nil }

// tryLock does not lock: without flock(2), nothing stops two runs from
// sharing an output folder.
func tryLock(*os.File) (bool, error) { return true, nil }
