package pgstore

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/slotrush/slotrush/models"
)

// pgBinDir returns the directory holding initdb and pg_ctl: Debian's
// /usr/lib/postgresql/<version>/bin (the newest), else PATH's.
func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- { // Glob sorts; prefer the newest
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p)
		}
	}
	return ""
}

// cluster is a private PostgreSQL cluster run by pg_ctl.
type cluster struct {
	bin, dir string
	port     int
	root     bool // run the server as the user postgres: initdb refuses root
}

// command returns the command running a PostgreSQL program as the
// cluster's owner.
func (c *cluster) command(prog string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, prog)
	if c.root {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

// run runs a PostgreSQL program as the cluster's owner.
func (c *cluster) run(t *testing.T, prog string, args ...string) {
	t.Helper()
	if out, err := c.command(prog, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", prog, args, err, out)
	}
}

func (c *cluster) start(t *testing.T) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", c.dir, "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60", "start")
}

func (c *cluster) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// newCluster initializes and starts a private cluster in t.TempDir() on a
// free loopback port, stopped when t ends. It skips (fails under CI=true)
// when initdb and pg_ctl are missing.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		skipOrFail(t, "initdb and pg_ctl not found in /usr/lib/postgresql/*/bin or PATH (Debian: apt-get install postgresql)")
	}
	c := &cluster{bin: bin, port: freePort(t), root: os.Geteuid() == 0}
	base := t.TempDir()
	c.dir = filepath.Join(base, "data")
	if err := os.Mkdir(c.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if c.root {
		if _, err := exec.LookPath("runuser"); err != nil {
			skipOrFail(t, "running as root without runuser: cannot run initdb as postgres")
		}
		pg, err := user.Lookup("postgres")
		if err != nil {
			skipOrFail(t, "running as root and no user postgres to run the server as")
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		// postgres must reach the data directory through t.TempDir()'s
		// private directories.
		for _, d := range []string{filepath.Dir(base), base} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chown(c.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	c.run(t, "initdb", "-D", c.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-instructions")
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"+
		"fsync = on\nsynchronous_commit = on\nmax_connections = 40\nshared_buffers = 32MB\n", c.port, c.dir)
	f, err := os.OpenFile(filepath.Join(c.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(conf); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	c.start(t)
	t.Cleanup(func() { _ = c.command("pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop").Run() })
	return c
}

// TestCrashRecovery: bookings reported stored survive an immediate
// shutdown of the server (no checkpoint, WAL replay at start).
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a private PostgreSQL cluster")
	}
	c := newCluster(t)
	inv := models.SmallInventory()
	cfg := Config{URLs: []string{c.url()}, MaxConns: 8}
	ctx := context.Background()
	st, err := Open(ctx, cfg, design(t, "per-ppv-day"), inv)
	if err != nil {
		t.Fatal(err)
	}
	if e := st.Engine(); e.Durability != "synchronous_commit=on, fsync=on" {
		t.Errorf("Engine().Durability = %q; want synchronous_commit=on, fsync=on", e.Durability)
	}
	const n = 60
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		s := inv.Slots[i%len(inv.Slots)]
		wg.Go(func() {
			_, errs[i] = partitionOf(t, st, s).Book(ctx, record(fmt.Sprint("c", i), fmt.Sprint("p", i), s))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Book %d: %v", i, err)
		}
	}
	c.run(t, "pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop")
	_ = st.Close()
	c.start(t)

	st, err = Open(ctx, cfg, design(t, "per-ppv-day"), inv)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	for i := range n {
		s := inv.Slots[i%len(inv.Slots)]
		if got, err := partitionOf(t, st, s).Booking(ctx, fmt.Sprint("c", i)); err != nil || got.PersonID != fmt.Sprint("p", i) {
			t.Errorf("after the crash Booking(c%d) = %+v, %v; want it stored", i, got, err)
		}
	}
	booked := 0
	for _, p := range st.Partitions() {
		audit, err := p.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range audit {
			booked += a.Booked
			if a.Capacity-a.Remaining != a.Booked {
				t.Errorf("after the crash audit %+v: counter disagrees with rows", a)
			}
		}
	}
	if booked != n {
		t.Errorf("after the crash %d booking rows; want %d", booked, n)
	}
}
