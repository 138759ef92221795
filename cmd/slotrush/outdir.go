package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// outLockName is the lock file of an output folder, held (flock) by the
// run or simulation writing into it. It stays in the folder afterwards.
const outLockName = ".slotrush.lock"

// lockOutDir prepares the output folder dir (--out) of a run or a
// simulation before anything is measured: it creates dir, takes the
// exclusive lock dir/.slotrush.lock (flock(2), held until release is
// called or the process dies, so two slotrush processes never write into
// one folder), and checks that a file can be written and removed there.
// Every error is a bad input (exit 2) naming dir: empty, not creatable, not
// writable, or locked by another slotrush. release is idempotent.
func lockOutDir(dir string) (release func() error, err error) {
	if dir == "" {
		return nil, badRunInput(errors.New("--out is empty: give a folder for the results"))
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, badRunInput(fmt.Errorf("--out %s is a file, not a folder: give a folder for the results", dir))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, badRunInput(fmt.Errorf("--out %s: cannot create the folder (%v): give a folder you can write to", dir, pathErr(err)))
	}
	path := filepath.Join(dir, outLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, badRunInput(fmt.Errorf("--out %s: cannot write in the folder (%v): give a folder you can write to", dir, pathErr(err)))
	}
	locked, err := tryLock(f)
	switch {
	case err != nil:
		return nil, errors.Join(fmt.Errorf("--out %s: lock %s: %w", dir, path, err), f.Close())
	case !locked:
		return nil, badRunInput(errors.Join(fmt.Errorf("--out %s: another slotrush is using this folder (it holds %s): wait until it ends, or give another --out", dir, path), f.Close()))
	}
	var (
		once     sync.Once
		closeErr error
	)
	release = func() error {
		once.Do(func() { closeErr = f.Close() })
		return closeErr
	}
	if err := probeWrite(dir); err != nil {
		return nil, badRunInput(errors.Join(fmt.Errorf("--out %s: cannot write in the folder (%v): give a folder you can write to", dir, pathErr(err)), release()))
	}
	return release, nil
}

// probeWrite writes a file in dir and removes it.
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".slotrush-probe-")
	if err != nil {
		return err
	}
	_, werr := f.Write([]byte("slotrush\n"))
	return errors.Join(werr, f.Close(), os.Remove(f.Name()))
}

// pathErr returns the reason of a *fs.PathError alone ("permission
// denied"), the messages naming the folder already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// clearOutputs removes from dir what an earlier run or simulation wrote
// there and this one will write again, so that nothing stale is left beside
// the new result: result.json, index.html (and their temporary files),
// hlog/, plots/, and data/NAME of each in-process design in designs (then
// data/ itself when empty). Nothing else in dir is touched. Call it with
// dir locked (lockOutDir).
func clearOutputs(dir string, designs []string) error {
	var errs []error
	for _, name := range []string{"result.json", "result.json.tmp", "index.html", "index.html.tmp", "hlog", "plots"} {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, name)))
	}
	for _, d := range designs {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, "data", d)))
	}
	if len(designs) > 0 {
		// Only when empty: anything else in data/ is not this run's.
		_ = os.Remove(filepath.Join(dir, "data"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clear the previous outputs in %s: %w", dir, err)
	}
	return nil
}
