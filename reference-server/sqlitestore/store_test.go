package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
	"github.com/slotrush/slotrush/reference-server/store/storetest"
)

func design(t testing.TB, name string) models.Design {
	t.Helper()
	d, err := models.ParseDesign(name, models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, Opener())
}

// TestRoomConformance: the SQLite store keeps a waiting room.
func TestRoomConformance(t *testing.T) {
	t.Parallel()
	storetest.RunRoom(t, Opener())
}

// TestRoomKeyMode: a room key readable by others is refused; a fresh one
// is 0600.
func TestRoomKeyMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := Open(ctx, dir, design(t, "monolithic"), models.SmallInventory())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Room(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "room.key")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("room.key: %v; want mode 0600", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err = Open(ctx, dir, design(t, "monolithic"), models.SmallInventory())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if _, err := st.Room(ctx); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Room with a 0644 key: err = %v; want a refusal saying chmod 600", err)
	}
}

// TestNoGroupCommit: the store is also correct with one booking per
// transaction.
func TestNoGroupCommit(t *testing.T) {
	t.Parallel()
	storetest.Run(t, Opener(WithMaxBatch(1), WithReadConns(1)))
}

// TestForeignDirectory: partition files without a manifest are not ours.
func TestForeignDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "all.db"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), dir, design(t, "monolithic"), models.SmallInventory())
	if !errors.Is(err, store.ErrMismatch) || !strings.Contains(err.Error(), "no manifest.json") {
		t.Errorf("Open of a directory with stray partition files: err = %v; want ErrMismatch naming the manifest", err)
	}
}

// TestUnsafeKey: a PPV id that is not a safe file name is refused.
func TestUnsafeKey(t *testing.T) {
	t.Parallel()
	inv := models.Inventory{PPVs: []models.PPV{{ID: "../etc"}},
		Slots: []models.Slot{{PPV: "../etc", Date: models.Date{Year: 2021, Month: 6, Day: 7}, Capacity: 1}}}
	if _, err := Open(context.Background(), t.TempDir(), design(t, "per-ppv"), inv); err == nil {
		t.Error("Open with partition key ppv-../etc succeeded; want an error")
	}
}

// TestCommitTimes: the SQLite writer records one duration per group commit,
// each at least a microsecond.
func TestCommitTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inv := models.SmallInventory()
	st, err := Open(ctx, t.TempDir(), design(t, "monolithic"), inv)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	slot := inv.Slots[0]
	part := st.Partitions()[0]
	for i := range 5 {
		id := fmt.Sprintf("b%d", i)
		rec := store.Record{Booking: models.Booking{ID: id, PersonID: "p" + id, PPV: slot.PPV, Date: slot.Date,
			CreatedAt: time.Date(2021, 5, 26, 10, 0, 0, 0, time.UTC)}}
		if _, err := part.Book(ctx, rec); err != nil {
			t.Fatalf("book %s: %v", id, err)
		}
	}
	s := part.Stats()
	ct, ok := part.(store.CommitTimer)
	if !ok {
		t.Fatal("a SQLite partition does not measure its commits (store.CommitTimer)")
	}
	h := hdrhistogram.New(1, time.Hour.Microseconds(), 3)
	ct.MergeCommitTimes(h)
	if s.Batches < 1 || h.TotalCount() != s.Batches {
		t.Fatalf("%d batches, %d commit times; want one per batch", s.Batches, h.TotalCount())
	}
	// No one commit can take longer than the writer's time in all of them
	// (1% for the histogram's 2 significant digits).
	if busy := float64(s.Busy.Microseconds()); float64(h.Max()) > busy*1.01+1 {
		t.Errorf("longest commit %d µs; the writer was busy %v in all", h.Max(), s.Busy)
	}
}
